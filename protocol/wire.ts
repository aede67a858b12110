/**
 * Backend wire protocol v1: the frame envelope, versioning, error frames and size limits.
 * The message set itself (hello/welcome, snapshot, deltas, commands) is defined on top of this envelope.
 */
import { z } from 'zod';
import { describeIssues, validate, type ValidationIssue } from './validate';

export const WIRE_PROTOCOL_VERSION = 1;
/** Hard limit for one frame in either direction; larger frames are refused and the link is reset. */
export const MAX_FRAME_BYTES = 1024 * 1024;
/** Snapshot chunks are cut well below the frame limit so a chunk never trips it. */
export const SNAPSHOT_CHUNK_TARGET_BYTES = 256 * 1024;
/** Deepest nesting of arrays/objects a frame may have (the deepest real payload is 6): refused before parsing. */
export const MAX_FRAME_DEPTH = 32;

/** Frame type names: lowercase words separated by dots, e.g. "command.ack". */
export const FrameType = z.string().max(64).regex(/^[a-z][a-z0-9]*(\.[a-z][a-z0-9]*)*$/, 'frame type must look like "word.word"');

export const Envelope = z.object({
  v: z.literal(WIRE_PROTOCOL_VERSION),
  type: FrameType,
  /** Correlation id: a request's id is echoed by its reply. */
  id: z.string().min(1).max(64).optional(),
  payload: z.unknown(),
});
export type Envelope = z.infer<typeof Envelope>;

export const WireErrorCode = z.enum([
  'malformed', // not JSON, not an envelope
  'unsupported-version',
  'unknown-type',
  'invalid', // schema violation in the payload
  'frame-too-large',
  'rate-limited',
  'unauthorized', // bad or missing token
  'session-expired', // a sign-in session that ended (expired, signed out): sign in again, do not retry
  'forbidden', // role or area scope does not allow it
  'conflict', // the command does not fit the current state
  'expired',
  'internal',
]);
export type WireErrorCode = z.infer<typeof WireErrorCode>;

/**
 * Why a command was refused, as a key of domain/refusals.ts and its parameters: a console shows its own text
 * for the key in the window's language (the message, in Chinese, stays beside it for logs and older consoles).
 */
export const RefusalReason = z.object({
  key: z.string().max(64).regex(/^[a-z][a-zA-Z0-9]*(\.[a-z][a-zA-Z0-9]*)+$/, 'a refusal key looks like "word.word"'),
  params: z
    .record(z.string().max(32).regex(/^[a-zA-Z][a-zA-Z0-9]*$/, 'a parameter name is a word'), z.union([z.string().max(500), z.number().finite()]))
    .refine((params) => Object.keys(params).length <= 10, 'at most 10 parameters'),
});
export type RefusalReason = z.infer<typeof RefusalReason>;

export const WireErrorPayload = z.object({
  code: WireErrorCode,
  message: z.string().max(2000),
  /**
   * A refused command's reason, for the console to show in its own words (absent from older backends). One that
   * does not fit (a newer backend's) is dropped on reading, not the error: the message still says why.
   */
  reason: RefusalReason.optional().catch(undefined),
  /** Type of the frame that caused the error, when known. */
  inReplyTo: z.string().max(64).optional(),
  issues: z.array(z.object({ path: z.string(), message: z.string() })).max(50).optional(),
  /** True when sending the same thing again later may succeed. */
  retryable: z.boolean(),
});
export type WireErrorPayload = z.infer<typeof WireErrorPayload>;

export class WireProtocolError extends Error {
  readonly code: WireErrorCode;
  readonly issues: ValidationIssue[] | undefined;
  constructor(code: WireErrorCode, message: string, issues?: ValidationIssue[]) {
    super(message);
    this.name = 'WireProtocolError';
    this.code = code;
    this.issues = issues;
  }
}

export type DecodedFrame = { ok: true; frame: Envelope } | { ok: false; error: WireProtocolError };

/** Byte length of a UTF-8 string without needing Buffer or TextEncoder allocation of the whole frame. */
export function utf8ByteLength(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x80) bytes += 1;
    else if (code < 0x800) bytes += 2;
    else if (code >= 0xd800 && code <= 0xdbff) {
      bytes += 4;
      i++;
    } else bytes += 3;
  }
  return bytes;
}

/**
 * How deep arrays and objects nest in a JSON text, counted without parsing (brackets inside strings do not
 * count); stops counting once past `stopAbove`. Deeply nested input is cheap to send and expensive to walk
 * (every recursive serialiser or validator after JSON.parse would overflow the stack), so it is refused first.
 */
export function nestingDepth(text: string, stopAbove = Infinity): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > max && (max = depth) > stopAbove) return max;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return max;
}

/** Decodes one text frame. Never throws: every failure becomes a typed error the caller can send back. */
export function decodeFrame(raw: string, maxBytes = MAX_FRAME_BYTES): DecodedFrame {
  // Cheap upper bound first (a UTF-16 unit is at most 3 UTF-8 bytes) so huge frames are not scanned twice.
  if (raw.length > maxBytes || (raw.length * 3 > maxBytes && utf8ByteLength(raw) > maxBytes)) {
    return { ok: false, error: new WireProtocolError('frame-too-large', `frame exceeds ${maxBytes} bytes`) };
  }
  const depth = nestingDepth(raw, MAX_FRAME_DEPTH);
  if (depth > MAX_FRAME_DEPTH) {
    return { ok: false, error: new WireProtocolError('malformed', `frame nests deeper than ${MAX_FRAME_DEPTH} levels`) };
  }
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch (e) {
    return { ok: false, error: new WireProtocolError('malformed', `frame is not valid JSON: ${(e as Error).message}`) };
  }
  if (typeof json === 'object' && json !== null && 'v' in json && json.v !== WIRE_PROTOCOL_VERSION) {
    return {
      ok: false,
      error: new WireProtocolError(
        'unsupported-version',
        `protocol version ${clip(JSON.stringify(json.v) ?? String(json.v), 40)} is not supported (this side speaks ${WIRE_PROTOCOL_VERSION})`,
      ),
    };
  }
  const checked = validate(Envelope, json);
  if (!checked.ok) {
    return { ok: false, error: new WireProtocolError('malformed', `not a v1 envelope: ${describeIssues(checked.issues)}`, checked.issues) };
  }
  return { ok: true, frame: checked.value };
}

/** Encodes a frame, refusing (by throwing) to produce one larger than the limit: that is a bug on this side. */
export function encodeFrame(type: string, payload: unknown, id?: string, maxBytes = MAX_FRAME_BYTES): string {
  const frame: Envelope = id === undefined ? { v: WIRE_PROTOCOL_VERSION, type, payload } : { v: WIRE_PROTOCOL_VERSION, type, id, payload };
  const text = JSON.stringify(frame);
  if (utf8ByteLength(text) > maxBytes) {
    throw new WireProtocolError('frame-too-large', `refusing to send a ${type} frame over ${maxBytes} bytes`);
  }
  return text;
}

const clip = (text: string, max: number): string => (text.length <= max ? text : `${text.slice(0, max - 1)}…`);
const FRAME_ID = /^[\x21-\x7e]{1,64}$/;

/**
 * Builds an error frame, and cannot fail: whatever it echoes (a type, an id, a message quoting the input)
 * is cut to the schema's limits first, so a hostile input can never make the reply itself invalid.
 */
export function errorFrame(error: WireErrorPayload, id?: string): string {
  const safe: WireErrorPayload = {
    code: WireErrorCode.safeParse(error.code).success ? error.code : 'internal',
    message: clip(String(error.message), 2000),
    retryable: error.retryable === true,
    ...(error.inReplyTo !== undefined ? { inReplyTo: clip(String(error.inReplyTo), 64) } : {}),
    ...(error.reason && RefusalReason.safeParse(error.reason).success ? { reason: error.reason } : {}),
    ...(error.issues ? { issues: error.issues.slice(0, 50).map((i) => ({ path: clip(String(i.path), 200), message: clip(String(i.message), 300) })) } : {}),
  };
  return encodeFrame('error', safe, id !== undefined && FRAME_ID.test(id) ? id : undefined);
}

/** WebSocket close codes the server uses with a reason text (4000-4999 is the application range). */
export const WireCloseCode = {
  normal: 1000,
  goingAway: 1001,
  protocolError: 1002,
  tooLarge: 1009,
  unsupportedVersion: 4001,
  unauthorized: 4003,
  /** The sign-in session ended (expired, signed out, its user disabled): the console asks for the password. */
  sessionExpired: 4011,
  /** An administrator changed the user's role or area scope: connect again (the server sends a fresh snapshot). */
  rightsChanged: 4012,
  rateLimited: 4029,
  replaced: 4009, // another connection with the same client id took over
  serverShutdown: 4050,
} as const;
