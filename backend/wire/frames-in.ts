/**
 * The boundary every frame a client sends is handled in: decoded, checked against the client's budget
 * (flow-control.ts), then dispatched — hello to the handshake (sync.ts), commands to the serial pipeline
 * (commands.ts), views to the audit (audit/views.ts), pings answered here. Whatever handling throws becomes a
 * refusal for that client alone; the process keeps serving.
 */
import type { RawData } from 'ws';
import { CommandFrame, PingPayload, WireCloseCode, decodeFrame, describeIssues, encodeFrame, validate, type Envelope, type WireErrorPayload } from '../../protocol';
import { inputShape, rawText } from '../../web-serving/request-target';
import type { Logger } from '../../node-util/logger';
import type { SimClock } from '../clock';
import type { ViewAudit } from '../audit/views';
import type { CommandPipeline } from './commands';
import type { Admission } from './flow-control';
import type { ServerLimits } from './limits';
import { commandIdOf, commandTypeOf, correlationId, type ClientOutput, type Session } from './session';
import type { SessionSync } from './sync';

export interface FrameIntakeDeps {
  out: ClientOutput;
  log: Logger;
  clock: SimClock;
  limits: ServerLimits;
  sync: SessionSync;
  pipeline: CommandPipeline;
  views: ViewAudit;
}

export class FrameIntake {
  constructor(private readonly deps: FrameIntakeDeps) {}

  /** One WebSocket message from a client (not yet closing). */
  receive(session: Session, data: RawData, isBinary: boolean): void {
    const raw = isBinary ? null : rawText(data);
    this.guard(session, raw ?? '', () => (raw === null ? this.fail(session, { code: 'malformed', message: 'binary frames from clients are not part of protocol v1', retryable: false }) : this.onFrame(session, raw)));
  }

  /**
   * The boundary every frame is handled in: whatever handling it throws (now or later) becomes a refusal for
   * this client alone — an error frame naming the frame's id or command id when one can be read, else close
   * 1011 — logged once with the client and the input's shape, never its text. The process keeps serving.
   */
  private guard(session: Session, raw: string, work: () => void | Promise<void>): void {
    const failed = (e: unknown): void => {
      const id = correlationId(raw);
      this.deps.log.error('frame handling failed', { session: session.id, user: session.actor?.id ?? null, remote: session.remote, input: inputShape(raw), id, error: (e as Error)?.stack?.split('\n').slice(0, 6).join(' | ') ?? String(e) });
      try {
        // Retryable: what failed may be passing (a busy store); a client resends after a pause.
        if (id) this.deps.out.sendError(session, { code: 'internal', message: 'the server could not handle this frame', retryable: true }, id);
        else this.deps.out.closeSession(session, 1011, 'internal error');
      } catch {
        session.ws.terminate();
      }
    };
    try {
      const result = work();
      if (result) result.catch(failed);
    } catch (e) {
      failed(e);
    }
  }

  /** A protocol error: answer it; repeated ones (a broken client) end the connection. */
  private fail(session: Session, error: WireErrorPayload, id?: string): void {
    this.deps.out.sendError(session, error, id);
    session.strikes++;
    if (session.strikes >= 20) this.deps.out.closeSession(session, WireCloseCode.protocolError, 'too many invalid frames');
  }

  /** A frame or command over the client's budget: refused naming it; a client that keeps on is closed (4029). */
  private rateLimited(session: Session, admission: Exclude<Admission, 'ok'>, frame: Envelope | null, commandId: string | null): void {
    const { limits, out } = this.deps;
    const message =
      admission === 'frames'
        ? `more than ${limits.framesPerSecond} frames per second; send it again later`
        : admission === 'queue'
          ? `more than ${limits.maxQueuedCommands} commands of this connection are waiting; send it again later`
          : `more than ${limits.commandsPerSecond} commands per second; send it again later`;
    const type = frame?.type === 'command' ? (commandTypeOf(frame.payload) ?? null) : null;
    if (frame?.type === 'command' || commandId) session.refusals?.note({ session: session.id, commandId, type, code: `rate-limited:${admission}` });
    if (session.flow.refused()) {
      this.deps.log.warn('flood: connection closed', { session: session.id, user: session.actor?.id ?? null, remote: session.remote });
      out.refuse(session, 'rate-limited', `flood: too many frames past the limit (${limits.framesPerSecond}/s, ${limits.commandsPerSecond} commands/s); connection closed`, WireCloseCode.rateLimited);
      return;
    }
    out.sendError(session, { code: 'rate-limited', message, retryable: true, ...(frame ? { inReplyTo: frame.type } : {}) }, commandId ?? frame?.id);
  }

  private async onFrame(session: Session, raw: string): Promise<void> {
    const { out } = this.deps;
    // Decoded before the budget is checked (bounded work: the size and depth are refused before parsing), so
    // that a refusal can name what it refuses.
    const decoded = decodeFrame(raw);
    // A frame that does not decode is still answered under its command id when one can be read from the text.
    const commandId = decoded.ok ? (decoded.frame.type === 'command' ? commandIdOf(decoded.frame.payload) : null) : correlationId(raw);
    const admission = session.flow.admit(decoded.ok && decoded.frame.type === 'command' && session.phase !== 'handshake');
    if (admission !== 'ok') return this.rateLimited(session, admission, decoded.ok ? decoded.frame : null, commandId);
    if (!decoded.ok) {
      if (decoded.error.code === 'unsupported-version') {
        out.refuse(session, 'unsupported-version', decoded.error.message, WireCloseCode.unsupportedVersion);
        return;
      }
      return this.fail(session, { code: decoded.error.code, message: decoded.error.message, retryable: false, ...(decoded.error.issues ? { issues: decoded.error.issues } : {}) }, commandId ?? undefined);
    }
    const frame = decoded.frame;
    if (session.phase === 'handshake') {
      if (frame.type !== 'hello') return out.refuse(session, 'unauthorized', `the first frame must be hello, got ${frame.type}`, WireCloseCode.unauthorized);
      return this.deps.sync.hello(session, frame);
    }
    switch (frame.type) {
      case 'ping': {
        const ping = validate(PingPayload, frame.payload);
        if (!ping.ok) return this.fail(session, { code: 'invalid', message: describeIssues(ping.issues), inReplyTo: 'ping', retryable: false });
        out.send(session, encodeFrame('pong', { clientTime: ping.value.clientTime, serverTime: this.deps.clock.now().toISOString() }, frame.id));
        return;
      }
      case 'command':
        return this.onCommand(session, frame);
      case 'view': {
        // Who opened which event (audit/views.ts): written, no answer unless refused.
        const refusal = this.deps.views.record(session, frame);
        if (refusal) this.fail(session, refusal, frame.id);
        return;
      }
      case 'hello':
        return this.fail(session, { code: 'invalid', message: 'already said hello', inReplyTo: 'hello', retryable: false });
      default:
        return this.fail(session, { code: 'unknown-type', message: `unknown frame type ${frame.type}`, inReplyTo: frame.type, retryable: false });
    }
  }

  private async onCommand(session: Session, frame: Envelope): Promise<void> {
    const parsed = validate(CommandFrame, frame.payload);
    if (!parsed.ok) return this.fail(session, { code: 'invalid', message: `bad command frame: ${describeIssues(parsed.issues)}`, inReplyTo: 'command', issues: parsed.issues, retryable: false }, commandIdOf(frame.payload) ?? frame.id);
    const command = parsed.value;
    session.flow.queued++;
    try {
      const { frame: reply } = await this.deps.pipeline.submit(session.actor!, command.commandId, command.type, command.payload, command.expiresAt);
      this.deps.out.send(session, reply);
    } finally {
      session.flow.queued--;
    }
  }
}
