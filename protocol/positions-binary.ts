/**
 * Live positions as one compact binary frame (a WebSocket binary message), for clients that ask for it in
 * hello (`accept: ["positions-binary"]`); everyone else gets the `staff.positions` JSON frame, which stays the
 * readable form of the same content. Layout (docs/protocol.md, "Binary positions"), little-endian:
 *
 *   0  u8   frame type 0x50 ('P': positions)
 *   1  u8   format version 1
 *   2  u64  `at`, epoch milliseconds (0 … 253402300799999, i.e. up to 9999-12-31T23:59:59.999Z)
 *   10 u32  item count
 *   14      items, each: u8 id length n (1 … 255), n bytes of UTF-8 id, i32 lon and i32 lat in 1e-7 degrees,
 *           u8 status (index into STAFF_STATUS_CODES)
 *
 * Decoding never throws and never allocates by a length it has not checked against the bytes it holds: every
 * failure is a typed WireProtocolError. No Node modules (Uint8Array, DataView, TextEncoder/TextDecoder only).
 */
import { MAX_FRAME_BYTES, WireProtocolError } from './wire';
import { STAFF_STATUS_CODES, type PositionsPayload } from './wire-messages';

/** What a client puts in hello's `accept` to get live positions as binary frames. */
export const POSITIONS_BINARY = 'positions-binary';
/** First byte of a binary positions frame. */
export const POSITIONS_BINARY_TYPE = 0x50;
/** Second byte: the layout's version; another is refused as unsupported. */
export const POSITIONS_BINARY_VERSION = 1;
/** Type, version, `at` (u64), count (u32). */
export const POSITIONS_BINARY_HEADER_BYTES = 14;
/** A staff id's UTF-8 bytes in one item (its length is one byte). */
export const POSITIONS_BINARY_MAX_ID_BYTES = 255;
/** Coordinates are whole multiples of 1e-7 degrees (about 1 cm); a value with at most 7 decimals comes back exactly. */
export const POSITIONS_BINARY_SCALE = 1e7;

/** Id length byte, lon, lat, status: the bytes of an item besides its id. */
const ITEM_FIXED_BYTES = 1 + 4 + 4 + 1;
const MIN_ITEM_BYTES = ITEM_FIXED_BYTES + 1;
const MAX_ITEM_BYTES = ITEM_FIXED_BYTES + POSITIONS_BINARY_MAX_ID_BYTES;
/** 9999-12-31T23:59:59.999Z: the last instant an ISO time with a 4-digit year can name. */
const MAX_AT_MS = 253_402_300_799_999;
const MAX_LON = 180 * POSITIONS_BINARY_SCALE;
const MAX_LAT = 90 * POSITIONS_BINARY_SCALE;
/** A UTF-16 surrogate without its pair: UTF-8 cannot carry it (TextEncoder would put U+FFFD in its place). */
const LONE_SURROGATE = /\p{Cs}/u;

const utf8 = new TextEncoder();
// fatal: invalid UTF-8 is an error, not U+FFFD; ignoreBOM: a leading U+FEFF is part of the id, kept.
const fromUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

export type EncodedPositions = { ok: true; frames: Uint8Array[] } | { ok: false; error: WireProtocolError };
export type DecodedPositions = { ok: true; payload: PositionsPayload } | { ok: false; error: WireProtocolError };

const failure = (code: WireProtocolError['code'], message: string): { ok: false; error: WireProtocolError } => ({ ok: false, error: new WireProtocolError(code, message) });

/**
 * Encodes live positions as binary frames, each at most `maxBytes`: one frame unless the items do not fit in
 * one (then consecutive frames, each a complete payload with the same `at`, like the JSON path's split). A row
 * the layout cannot carry (an id empty or over 255 UTF-8 bytes or with a lone surrogate, a coordinate out of
 * range, a status that is no code) makes the whole payload an `invalid` result: the sender then sends JSON.
 */
export function encodePositionsBinary(payload: PositionsPayload, maxBytes = MAX_FRAME_BYTES): EncodedPositions {
  const at = Date.parse(payload.at);
  if (!Number.isInteger(at) || at < 0 || at > MAX_AT_MS) return failure('invalid', `positions time ${String(payload.at).slice(0, 40)} cannot be carried as epoch milliseconds`);
  if (!(maxBytes >= POSITIONS_BINARY_HEADER_BYTES + MAX_ITEM_BYTES)) return failure('invalid', `a frame limit of ${maxBytes} bytes cannot hold a position`);
  const items = payload.items;
  const scratch = new Uint8Array(Math.min(maxBytes, POSITIONS_BINARY_HEADER_BYTES + items.length * MAX_ITEM_BYTES));
  const view = new DataView(scratch.buffer);
  const frames: Uint8Array[] = [];
  let offset = POSITIONS_BINARY_HEADER_BYTES;
  let count = 0;
  const finish = (): void => {
    view.setUint8(0, POSITIONS_BINARY_TYPE);
    view.setUint8(1, POSITIONS_BINARY_VERSION);
    view.setBigUint64(2, BigInt(at), true);
    view.setUint32(10, count, true);
    frames.push(scratch.slice(0, offset));
    offset = POSITIONS_BINARY_HEADER_BYTES;
    count = 0;
  };
  for (let i = 0; i < items.length; i++) {
    const [id, lon, lat, status] = items[i]!;
    if (typeof id !== 'string' || id.length === 0 || id.length > POSITIONS_BINARY_MAX_ID_BYTES || LONE_SURROGATE.test(id)) {
      return failure('invalid', `item ${i}: staff id must be 1–${POSITIONS_BINARY_MAX_ID_BYTES} bytes of UTF-8`);
    }
    if (!(lon >= -180 && lon <= 180 && lat >= -90 && lat <= 90)) return failure('invalid', `item ${i}: position [${lon}, ${lat}] is not a longitude and latitude`);
    if (!Number.isInteger(status) || status < 0 || status >= STAFF_STATUS_CODES.length) return failure('invalid', `item ${i}: status code ${status} is not in STAFF_STATUS_CODES`);
    // Room for the largest item, so the id can be written in place before its length is known.
    if (offset + MAX_ITEM_BYTES > scratch.length) finish();
    const { read, written } = utf8.encodeInto(id, scratch.subarray(offset + 1, offset + 1 + POSITIONS_BINARY_MAX_ID_BYTES));
    if (read !== id.length) return failure('invalid', `item ${i}: staff id is over ${POSITIONS_BINARY_MAX_ID_BYTES} bytes of UTF-8`);
    scratch[offset] = written;
    offset += 1 + written;
    view.setInt32(offset, Math.round(lon * POSITIONS_BINARY_SCALE), true);
    view.setInt32(offset + 4, Math.round(lat * POSITIONS_BINARY_SCALE), true);
    scratch[offset + 8] = status;
    offset += 9;
    count++;
  }
  finish();
  return { ok: true, frames };
}

/**
 * Decodes one binary positions frame into the payload its JSON form carries (`at` as an ISO time in UTC with
 * milliseconds). Anything else — another type byte, another version, a frame over `maxBytes`, a truncation, a
 * count the bytes cannot hold, a bad id, a coordinate or status out of range, bytes left over — is an error.
 */
export function decodePositionsBinary(bytes: Uint8Array, maxBytes = MAX_FRAME_BYTES): DecodedPositions {
  try {
    if (!(bytes instanceof Uint8Array)) return failure('malformed', 'a binary positions frame must be bytes');
    const length = bytes.byteLength;
    if (length > maxBytes) return failure('frame-too-large', `binary frame of ${length} bytes exceeds ${maxBytes} bytes`);
    if (length < 2) return failure('malformed', `binary frame of ${length} bytes is too short for a header`);
    if (bytes[0] !== POSITIONS_BINARY_TYPE) return failure('malformed', `binary frame type 0x${bytes[0]!.toString(16).padStart(2, '0')} is not positions (0x50)`);
    if (bytes[1] !== POSITIONS_BINARY_VERSION) return failure('unsupported-version', `binary positions format ${bytes[1]} is not supported (this side reads ${POSITIONS_BINARY_VERSION})`);
    if (length < POSITIONS_BINARY_HEADER_BYTES) return failure('malformed', `binary positions frame of ${length} bytes is cut inside its header`);
    const view = new DataView(bytes.buffer, bytes.byteOffset, length);
    const atBig = view.getBigUint64(2, true);
    if (atBig > BigInt(MAX_AT_MS)) return failure('malformed', `binary positions time ${atBig} ms is past year 9999`);
    const count = view.getUint32(10, true);
    // Checked against the bytes before anything is built for it: each item takes at least MIN_ITEM_BYTES.
    if (count > Math.floor((length - POSITIONS_BINARY_HEADER_BYTES) / MIN_ITEM_BYTES)) {
      return failure('malformed', `binary positions frame claims ${count} items, its ${length} bytes cannot hold them`);
    }
    const items: PositionsPayload['items'] = [];
    let offset = POSITIONS_BINARY_HEADER_BYTES;
    for (let i = 0; i < count; i++) {
      const idBytes = offset < length ? bytes[offset]! : -1;
      if (idBytes === -1 || offset + 1 + idBytes + 9 > length) return failure('malformed', `binary positions frame is cut inside item ${i}`);
      if (idBytes === 0) return failure('malformed', `item ${i}: empty staff id`);
      const id = readId(bytes, offset + 1, idBytes);
      if (id === null) return failure('malformed', `item ${i}: staff id is not UTF-8`);
      offset += 1 + idBytes;
      const lon = view.getInt32(offset, true);
      const lat = view.getInt32(offset + 4, true);
      const status = bytes[offset + 8]!;
      offset += 9;
      if (lon < -MAX_LON || lon > MAX_LON || lat < -MAX_LAT || lat > MAX_LAT) return failure('malformed', `item ${i}: position out of range`);
      if (status >= STAFF_STATUS_CODES.length) return failure('malformed', `item ${i}: status code ${status} is not in STAFF_STATUS_CODES`);
      items.push([id, lon / POSITIONS_BINARY_SCALE, lat / POSITIONS_BINARY_SCALE, status]);
    }
    if (offset !== length) return failure('malformed', `binary positions frame has ${length - offset} bytes after its ${count} items`);
    return { ok: true, payload: { at: new Date(Number(atBig)).toISOString(), items } };
  } catch (e) {
    // Not expected (every read above is bounds-checked first); still no exception past this boundary.
    return failure('malformed', `binary positions frame could not be read: ${(e as Error)?.message ?? String(e)}`);
  }
}

/** An id's bytes as text; null when they are not valid UTF-8. ASCII (the usual id) without a decoder call. */
function readId(bytes: Uint8Array, start: number, n: number): string | null {
  const end = start + n;
  let text = '';
  for (let k = start; k < end; k++) {
    const b = bytes[k]!;
    if (b >= 0x80) {
      try {
        return fromUtf8.decode(bytes.subarray(start, end));
      } catch {
        return null;
      }
    }
    text += String.fromCharCode(b);
  }
  return text;
}
