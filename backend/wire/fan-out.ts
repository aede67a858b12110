/**
 * Fan-out: every committed batch to every client in order (held for clients still syncing), encoded once per
 * area scope and split into parts when larger than a frame; live positions (presence, not history) once per
 * scope, skipped for clients that lag; notices.
 */
import { MAX_FRAME_BYTES, STAFF_STATUS_CODES, encodeFrame, type Change, type DeltaPayload, type StaffStatus } from '../../protocol';
import type { CityState } from '../../domain';
import type { Logger } from '../../node-util/logger';
import { deltaFrames } from './frames-out';
import type { ServerLimits } from './limits';
import { SCOPED, scopeKeyOf, scopedDelta, type ClientOutput, type Session } from './session';

export interface FanOutOptions {
  state: CityState;
  sessions: ReadonlySet<Session>;
  out: ClientOutput;
  log: Logger;
  limits: ServerLimits;
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
    const removedDistricts = new Map<string, string>();
    for (const change of changes) {
      if (change.op !== 'remove' || !SCOPED.has(change.collection)) continue;
      const district = (state.get(change.collection, change.id) as { districtId?: string } | undefined)?.districtId;
      if (district) removedDistricts.set(`${change.collection}:${change.id}`, district);
    }
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
          else session.held.push(scopedDelta(delta, scope, removedDistricts));
        }
        else if (session.phase === 'live') {
          const key = scopeKeyOf(scope);
          let frames = encoded.get(key);
          if (!frames) encoded.set(key, (frames = deltaFrames(scopedDelta(delta, scope, removedDistricts), this.o.log)));
          for (const text of frames) this.o.out.send(session, text);
        }
      } catch (e) {
        // Committed is committed: a client that cannot be sent to is dropped (it catches up), the others go on.
        this.o.log.error('delta could not be sent to a client', { session: session.id, seq, error: (e as Error).message });
        session.ws.terminate();
      }
    }
  }

  /** Sends live positions to every live client, one encoding per scope, skipping clients that lag behind. */
  positions(at: string, items: Array<{ id: string; lon: number; lat: number; status: StaffStatus; districtId: string }>): void {
    // Encoded once per scope to UTF-8 bytes and the same buffer sent to every socket of that scope.
    const frames = new Map<string, Buffer[]>();
    const code = (s: StaffStatus): number => STAFF_STATUS_CODES.indexOf(s);
    for (const session of this.o.sessions) {
      if (session.phase !== 'live' || !session.actor) continue;
      if (session.ws.bufferedAmount > this.o.limits.positionsBackpressureBytes) continue;
      const scope = session.actor.districtScope;
      const key = scopeKeyOf(scope);
      let encoded = frames.get(key);
      if (!encoded) {
        const rows = items.filter((i) => scope === null || scope.includes(i.districtId)).map((i) => [i.id, i.lon, i.lat, code(i.status)] as const);
        encoded = [];
        // Stay well under the frame limit: ~40 bytes a row.
        const perFrame = Math.floor(MAX_FRAME_BYTES / 64);
        for (let i = 0; i < rows.length; i += perFrame) encoded.push(Buffer.from(encodeFrame('staff.positions', { at, items: rows.slice(i, i + perFrame) }), 'utf8'));
        frames.set(key, encoded);
      }
      for (const bytes of encoded) if (session.ws.readyState === session.ws.OPEN) session.ws.send(bytes, { binary: false });
    }
  }

  /** Tells every live client something (e.g. a scenario started). */
  notice(level: 'info' | 'warning', message: string): void {
    const text = encodeFrame('notice', { level, message });
    for (const session of this.o.sessions) if (session.phase === 'live') this.o.out.send(session, text);
  }
}
