/**
 * Commands are typed end to end from the one table of payloads (protocol/wire-messages.ts): a misspelt command
 * name or a payload of another command does not compile. The @ts-expect-error lines are the proof — the
 * type-check step (vue-tsc -b, part of npm test) fails if any of them stops being an error. At run time the
 * same table validates every command at each process boundary.
 */
import { describe, expect, it } from 'vitest';
import { CommandFrame, CommandRequest, commandPayloads, validate, type CheckedCommand, type CommandArgs, type EventCommandArgs, type TypedCommandRequest } from '../../protocol';
import { parseCommand } from '../../domain';
import { SEAT, type ApplyCommand } from '../../backend/live-simulator/engine';

const send = (...args: CommandArgs): CommandArgs => args;
const act = (...args: EventCommandArgs): EventCommandArgs => args;

describe('typed commands', () => {
  it('compile only with a known type and its own payload', () => {
    const ok: TypedCommandRequest = { commandId: 'cmd-typed-0001', type: 'event.comment', payload: { eventId: 'E1', text: '备注' } };
    // @ts-expect-error a misspelt command name
    const misspelt: TypedCommandRequest = { commandId: 'cmd-typed-0002', type: 'event.dispach', payload: { eventId: 'E1' } };
    // @ts-expect-error the payload of another command (a comment has text, not note)
    const wrongPayload: TypedCommandRequest = { commandId: 'cmd-typed-0003', type: 'event.comment', payload: { eventId: 'E1', note: '备注' } };
    send('event.dispatch', { eventId: 'E1', departmentId: 'dept-urban' });
    // @ts-expect-error desk.run('dispach', …) no longer compiles
    send('dispach', { eventId: 'E1' });
    // @ts-expect-error a required field missing (a level change needs its reason)
    send('level.set', { level: 'emergency' });
    act('event.supervise', { note: '督办' });
    // @ts-expect-error the selected event's command without its required note
    act('event.supervise', {});
    // @ts-expect-error a command that is not about one event
    act('level.set', { level: 'daily', reason: 'x' });
    expect([misspelt, wrongPayload].length).toBe(2);
    // At run time the request schema and the payload table still refuse what the types would.
    expect(validate(CommandRequest, ok).ok).toBe(true);
    expect(validate(commandPayloads['event.comment'], { eventId: 'E1', note: '备注' }).ok).toBe(false);
  });

  it('travel as the same union on the wire and through the hub', () => {
    const issuedAt = '2026-01-01T08:00:00.000+08:00';
    const frame: CommandFrame = { commandId: 'cmd-typed-0004', type: 'event.dispatch', payload: { eventId: 'E1', staffId: 'S1' }, issuedAt };
    // @ts-expect-error a command frame with a misspelt type
    const misspelt: CommandFrame = { commandId: 'cmd-typed-0005', type: 'event.dispach', payload: { eventId: 'E1' }, issuedAt };
    // @ts-expect-error a command frame carrying another command's payload (level.set needs level and reason)
    const mixed: CommandFrame = { commandId: 'cmd-typed-0006', type: 'level.set', payload: { eventId: 'E1', text: 'x' }, issuedAt };
    expect([misspelt, mixed].length).toBe(2);
    // The boundary's schema checks the envelope only, as before: the domain checks type and payload.
    expect(validate(CommandFrame, { ...frame, type: 'event.teleport' }).ok).toBe(true);
    expect(parseCommand('event.teleport', {})).toEqual({ ok: false, problem: 'unknown command type "event.teleport"' });
    const parsed = parseCommand('event.comment', { eventId: 'E1', text: ' 备注 ', smuggled: 1 });
    expect(parsed).toEqual({ ok: true, command: { type: 'event.comment', payload: { eventId: 'E1', text: '备注' } } });
    if (parsed.ok && parsed.command.type === 'event.comment') {
      // Narrowed by its type, the checked payload is that command's own.
      const text: string = parsed.command.payload.text;
      expect(text).toBe('备注');
      // @ts-expect-error a comment's payload has no note
      void parsed.command.payload.note;
    }
    const checked: CheckedCommand = { type: 'plan.tick', payload: { itemId: 'p1', done: true } };
    // What the hub queues is a frame the link sends as it is.
    const queued: CommandFrame = { commandId: 'cmd-typed-0007', ...checked, issuedAt };
    expect(queued.type).toBe('plan.tick');
  });

  it('are typed for the simulator too: it drives the same commands as people do', async () => {
    const sent: unknown[] = [];
    const apply: ApplyCommand = async (_actor, type, payload) => {
      sent.push({ type, payload });
      return { ok: true, result: {} };
    };
    await apply(SEAT, 'event.sign', { eventId: 'E1' }, 0);
    // @ts-expect-error the simulator cannot send a misspelt command
    await apply(SEAT, 'event.sgn', { eventId: 'E1' }, 0);
    // @ts-expect-error nor a payload the command does not have
    await apply(SEAT, 'event.sign', { eventId: 'E1', note: 'x' }, 0);
    expect(sent).toHaveLength(3);
  });
});
