/**
 * What the server sends fits the frame limit by construction, whatever the database holds. Records are
 * bounded by the model (domain/bounds.ts), but a database written before that bound (or by hand) may hold a
 * larger one, and one committed batch may carry more changes than a frame holds: deltas are split into parts
 * by bytes, an oversize event is served compacted (its history folded, with a note saying so), and a record
 * that cannot be made to fit is left out of what is sent with an error in the log — never a crash, never a
 * frame the client must refuse.
 */
import { MAX_FRAME_BYTES, encodeFrame, utf8ByteLength, type Change, type CollectionName, type DeltaPayload, type GovEvent } from '../protocol';
import { EVENT_MAX_BYTES, boundEvent } from '../domain';
import type { Logger } from '../common/logger';

/** Room left in a frame for the envelope and a part's own fields. */
const ENVELOPE_BYTES = 1024;
/** A part carries changes up to this many bytes; the rest goes in the next part. */
export const DELTA_PART_BYTES = MAX_FRAME_BYTES - ENVELOPE_BYTES;

/**
 * A record as it may be sent: itself when it fits, an event compacted to the model's bound, or null (with a
 * logged error) when nothing can make it fit.
 */
export function fitRecord(collection: CollectionName, id: string, data: unknown, json: string, log: Logger): { data: unknown; json: string } | null {
  const limit = collection === 'events' ? EVENT_MAX_BYTES : DELTA_PART_BYTES;
  // Cheap test first: a UTF-16 unit is at most 3 UTF-8 bytes.
  if (json.length * 3 <= limit || utf8ByteLength(json) <= limit) return { data, json };
  if (collection === 'events') {
    const bounded = boundEvent(data as GovEvent);
    log.warn('an oversize event record was served compacted', { id, bytes: utf8ByteLength(json), limit });
    return { data: bounded, json: JSON.stringify(bounded) };
  }
  log.error('a record larger than a frame was left out of what is sent', { collection, id, bytes: utf8ByteLength(json) });
  return null;
}

function fitChange(change: Change, log: Logger): { change: Change; bytes: number } | null {
  const json = JSON.stringify(change);
  if (change.op === 'remove') return { change, bytes: utf8ByteLength(json) };
  const fitted = fitRecord(change.collection, change.id, change.data, json, log);
  if (!fitted) return null;
  const out: Change = fitted.json === json ? change : { ...change, data: fitted.data };
  return { change: out, bytes: fitted.json === json ? utf8ByteLength(json) : utf8ByteLength(JSON.stringify(out)) };
}

/** The frames that carry one delta: one frame when it fits, else consecutive parts, each within the limit. */
export function deltaFrames(delta: DeltaPayload, log: Logger): string[] {
  const whole = JSON.stringify({ v: 1, type: 'delta', payload: delta });
  if (whole.length * 3 <= MAX_FRAME_BYTES || utf8ByteLength(whole) <= MAX_FRAME_BYTES) return [whole];
  const groups: Change[][] = [[]];
  let bytes = 0;
  for (const change of delta.changes) {
    const fitted = fitChange(change, log);
    if (!fitted) continue;
    if (bytes + fitted.bytes + 1 > DELTA_PART_BYTES && groups.at(-1)!.length > 0) {
      groups.push([]);
      bytes = 0;
    }
    groups.at(-1)!.push(fitted.change);
    bytes += fitted.bytes + 1;
  }
  if (groups.length === 1) return [encodeFrame('delta', { seq: delta.seq, at: delta.at, changes: groups[0] })];
  log.info('a delta larger than a frame was sent in parts', { seq: delta.seq, changes: delta.changes.length, parts: groups.length });
  return groups.map((changes, index) => encodeFrame('delta', { seq: delta.seq, at: delta.at, changes, part: { index, count: groups.length } }));
}
