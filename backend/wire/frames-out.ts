/**
 * What the server sends fits the frame limit by construction, whatever the database holds. Records are
 * bounded by the model (domain/bounds.ts: an event's history is records of its own), but one committed batch
 * may carry more changes than a frame holds: deltas are split into parts by bytes. A single record larger
 * than a frame (only a database edited by hand can hold one) is left out of what is sent with an error in
 * the log — never a crash, never a frame the client must refuse. Live positions go as JSON frames of a bounded
 * number of rows, or as binary frames to clients that asked, each within the limit by the codec.
 */
import {
  MAX_FRAME_BYTES,
  WIRE_PROTOCOL_VERSION,
  encodeFrame,
  encodePositionsBinary,
  utf8ByteLength,
  type Change,
  type CollectionName,
  type DeltaPayload,
  type PositionsPayload,
  type WireProtocolError,
} from '../../protocol';
import type { Logger } from '../../node-util/logger';

/** Room left in a frame for the envelope and a part's own fields. */
const ENVELOPE_BYTES = 1024;
/** A part carries changes up to this many bytes; the rest goes in the next part. */
export const DELTA_PART_BYTES = MAX_FRAME_BYTES - ENVELOPE_BYTES;

/** Whether a record's JSON fits in a frame; logs the one that does not (it is then left out of what is sent). */
export function fits(collection: CollectionName, id: string, json: string, log: Logger): boolean {
  // Cheap test first: a UTF-16 unit is at most 3 UTF-8 bytes.
  if (json.length * 3 <= DELTA_PART_BYTES || utf8ByteLength(json) <= DELTA_PART_BYTES) return true;
  log.error('a record larger than a frame was left out of what is sent', { collection, id: id.slice(0, 64), bytes: utf8ByteLength(json) });
  return false;
}

function fitChange(change: Change, log: Logger): { change: Change; bytes: number } | null {
  const json = JSON.stringify(change);
  return fits(change.collection, change.id, json, log) ? { change, bytes: utf8ByteLength(json) } : null;
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

/** Rows per staff.positions JSON frame: well under the frame limit at ~40 bytes a row. */
const POSITIONS_PER_JSON_FRAME = Math.floor(MAX_FRAME_BYTES / 64);

/**
 * Live positions as staff.positions JSON frames, as UTF-8 bytes (sent as text): none when there are no rows.
 * Cut by rows; a cut that is still over the limit (long ids) is halved until it fits, and a row larger than a
 * frame on its own (only a database edited by hand) is left out with an error in the log.
 */
export function jsonPositionFrames(payload: PositionsPayload, log: Logger): Buffer[] {
  const frames: Buffer[] = [];
  const add = (items: PositionsPayload['items']): void => {
    const text = JSON.stringify({ v: WIRE_PROTOCOL_VERSION, type: 'staff.positions', payload: { at: payload.at, items } });
    if (text.length * 3 <= MAX_FRAME_BYTES || utf8ByteLength(text) <= MAX_FRAME_BYTES) frames.push(Buffer.from(text, 'utf8'));
    else if (items.length > 1) {
      add(items.slice(0, items.length >> 1));
      add(items.slice(items.length >> 1));
    } else log.error('a position larger than a frame was left out of what is sent', { id: String(items[0]?.[0]).slice(0, 64) });
  };
  for (let i = 0; i < payload.items.length; i += POSITIONS_PER_JSON_FRAME) add(payload.items.slice(i, i + POSITIONS_PER_JSON_FRAME));
  return frames;
}

/**
 * The same positions as binary frames (protocol/positions-binary.ts), none when there are no rows; the error
 * when a row cannot be carried that way (the caller then sends the JSON frames instead).
 */
export function binaryPositionFrames(payload: PositionsPayload): Buffer[] | WireProtocolError {
  if (payload.items.length === 0) return [];
  const encoded = encodePositionsBinary(payload);
  if (!encoded.ok) return encoded.error;
  // Views on the encoder's bytes, not copies.
  return encoded.frames.map((frame) => Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength));
}
