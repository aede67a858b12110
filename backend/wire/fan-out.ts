/**
 * Fan-out: every committed batch to every client in order (held for clients still syncing), encoded once per
 * area scope and split into parts when larger than a frame; live positions (presence, not history) once per
 * scope and form (JSON, or binary for clients that asked), skipped for clients that lag; notices.
 */
import { STAFF_STATUS_CODES, encodeFrame, type Change, type DeltaPayload, type PositionsPayload, type StaffStatus } from '../../protocol';
import type { CityState } from '../../domain';
import type { Logger } from '../../node-util/logger';
import { binaryPositionFrames, deltaFrames, jsonPositionFrames } from './frames-out';
import type { ServerLimits } from './limits';
import type { ClientOutput, Session } from './session';
import { scopeKeyOf, type AreaScopes } from './scopes';

export interface FanOutOptions {
  state: CityState;
  sessions: ReadonlySet<Session>;
  out: ClientOutput;
  log: Logger;
  limits: ServerLimits;
  scopes: AreaScopes;
}

export class FanOut {
  constructor(private readonly o: FanOutOptions) {}

  /**
   * Applies a committed batch to the state and sends it to every client that may see it. Each seq once and in
   * order: a batch already applied (this instance's own commit also read back from the log) is skipped.
   */
  publish(seq: number, at: string, changes: Change[]): void {
    const state = this.o.state;
    if (seq <= state.seq) return;
    if (seq !== state.seq + 1) throw new Error(`batch ${seq} arrived before ${state.seq + 1}: refused (gap)`);
    const scopes = this.o.scopes;
    const removed = scopes.placesOfRemovals(changes);
    state.apply(changes);
    state.seq = seq;
    const delta: DeltaPayload = { seq, at, changes };
    // Encoded once per scope (split into parts when larger than a frame), the same text to every client of it.
    const encoded = new Map<string, string[]>();
    for (const session of this.o.sessions) {
      try {
        const scope = session.actor?.districtScope ?? null;
        if (session.phase === 'syncing') {
          // A client that syncs slower than the city changes cannot make the server hold everything meanwhile:
          // it is asked to come again (it then resumes from what it has).
          if (session.held.length >= this.o.limits.maxCatchUpBatches) this.o.out.closeSession(session, 1013, 'too far behind while syncing: reconnect');
          else session.held.push(scopes.delta(delta, scope, removed));
        }
        else if (session.phase === 'live') {
          const key = scopeKeyOf(scope);
          let frames = encoded.get(key);
          if (!frames) encoded.set(key, (frames = deltaFrames(scopes.delta(delta, scope, removed), this.o.log)));
          for (const text of frames) this.o.out.send(session, text);
        }
      } catch (e) {
        // Committed is committed: a client that cannot be sent to is dropped (it catches up), the others go on.
        this.o.log.error('delta could not be sent to a client', { session: session.id, seq, error: (e as Error).message });
        session.ws.terminate();
      }
    }
  }

  /**
   * Sends live positions to every live client, skipping clients that lag behind. Encoded once per scope and
   * form — the JSON frame, or binary frames for clients whose hello accepted them — and the same buffers sent
   * to every socket of that scope and form.
   */
  positions(at: string, items: Array<{ id: string; lon: number; lat: number; status: StaffStatus; districtId: string }>, whole?: Buffer): void {
    const code = (s: StaffStatus): number => STAFF_STATUS_CODES.indexOf(s);
    const payloads = new Map<string, PositionsPayload>();
    const payloadOf = (scope: string[] | null, scopeKey: string): PositionsPayload => {
      let payload = payloads.get(scopeKey);
      if (!payload) {
        // Where each staff member works (their grid) decides, as for their record.
        const rows = items.filter((i) => scope === null || this.o.scopes.visible(scope, 'staff', { districtId: i.districtId, gridId: this.o.state.get('staff', i.id)?.gridId })).map((i): PositionsPayload['items'][number] => [i.id, i.lon, i.lat, code(i.status)]);
        payloads.set(scopeKey, (payload = { at, items: rows }));
      }
      return payload;
    };
    const encoded = new Map<string, { frames: Buffer[]; binary: boolean }>();
    const json = (scope: string[] | null, scopeKey: string): { frames: Buffer[]; binary: boolean } => {
      let out = encoded.get(`json ${scopeKey}`);
      if (!out) encoded.set(`json ${scopeKey}`, (out = { frames: jsonPositionFrames(payloadOf(scope, scopeKey), this.o.log), binary: false }));
      return out;
    };
    const binary = (scope: string[] | null, scopeKey: string): { frames: Buffer[]; binary: boolean } => {
      let out = encoded.get(`binary ${scopeKey}`);
      // City-wide, the frame the instance that made the positions encoded is the frame: sent on as it came.
      if (!out && scope === null && whole) encoded.set(`binary ${scopeKey}`, (out = { frames: [whole], binary: true }));
      if (!out) {
        const frames = binaryPositionFrames(payloadOf(scope, scopeKey));
        if (Array.isArray(frames)) out = { frames, binary: true };
        else {
          // A row the binary layout cannot carry (e.g. a hand-edited staff id over 255 bytes): JSON this time.
          this.logBinaryFallback(frames.message);
          out = json(scope, scopeKey);
        }
        encoded.set(`binary ${scopeKey}`, out);
      }
      return out;
    };
    for (const session of this.o.sessions) {
      if (session.phase !== 'live' || !session.actor) continue;
      if (session.ws.bufferedAmount > this.o.limits.positionsBackpressureBytes) continue;
      const scope = session.actor.districtScope;
      const scopeKey = scopeKeyOf(scope);
      const out = session.binaryPositions ? binary(scope, scopeKey) : json(scope, scopeKey);
      for (const bytes of out.frames) if (session.ws.readyState === session.ws.OPEN) session.ws.send(bytes, { binary: out.binary });
    }
  }

  private binaryFallbackLoggedAt = -Infinity;

  /** Once a minute at most: the same rows come back every second. */
  private logBinaryFallback(reason: string): void {
    if (Date.now() - this.binaryFallbackLoggedAt < 60_000) return;
    this.binaryFallbackLoggedAt = Date.now();
    this.o.log.error('positions sent as JSON to clients that asked for binary: a row does not fit the binary layout', { reason });
  }

  /** Tells every live client something (e.g. a scenario started). */
  notice(level: 'info' | 'warning', message: string): void {
    const text = encodeFrame('notice', { level, message });
    for (const session of this.o.sessions) if (session.phase === 'live') this.o.out.send(session, text);
  }
}
