/**
 * Commands are typed end to end from the one table of payloads (protocol/wire-messages.ts): a misspelt command
 * name or a payload of another command does not compile. The @ts-expect-error lines are the proof — the
 * type-check step (vue-tsc -b, part of npm test) fails if any of them stops being an error. At run time the
 * same table validates every command at each process boundary.
 */
import { describe, expect, it } from 'vitest';
import { CommandRequest, commandPayloads, validate, type CommandArgs, type EventCommandArgs, type TypedCommandRequest } from '../../protocol';

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
});
