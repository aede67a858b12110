/**
 * Size is a property of the model: an event's record (and so every delta and snapshot chunk that carries it)
 * stays under a fixed number of bytes whatever people write on it. Without this, enough long comments on one
 * event made its record larger than a wire frame, and encoding the delta failed after the change was
 * committed (a crash loop for every console that asked for it again).
 *
 * Two limits. Annotations (备注) are refused once the record passes the soft one: the dispatcher is told
 * why, nothing is half-written. Steps of the loop are never refused for size (an event must always be able
 * to close): past the hard limit the record compacts its own older history — long notes shortened, then the
 * oldest entries folded into one — deterministically, so the hub's prediction and the backend agree. Nothing
 * is lost: the audit log keeps every command's full validated payload.
 */
import { utf8ByteLength, type GovEvent, type TimelineEntry } from '../protocol';

/** Above this an event takes no more comments. */
export const EVENT_SOFT_BYTES = 192 * 1024;
/** No event record is ever larger than this (a quarter of a wire frame). */
export const EVENT_MAX_BYTES = 256 * 1024;
/** Entries kept whole at the end of a compacted timeline (what the dispatcher reads first). */
const KEEP_RECENT = 10;
const SHORT_NOTE_CHARS = 200;
export const FOLDED_ACTION = 'folded';

export function recordBytes(record: unknown): number {
  return utf8ByteLength(JSON.stringify(record));
}

const shorten = (entry: TimelineEntry): TimelineEntry =>
  entry.note !== undefined && entry.note.length > SHORT_NOTE_CHARS ? { ...entry, note: `${entry.note.slice(0, SHORT_NOTE_CHARS)}…（全文见审计日志）` } : entry;

/**
 * The event as it fits in `maxBytes`: unchanged when it already does; otherwise older notes shortened, then the
 * oldest entries after the report folded into one 'folded' entry that counts them.
 */
export function boundEvent(event: GovEvent, maxBytes = EVENT_MAX_BYTES): GovEvent {
  if (recordBytes(event) <= maxBytes) return event;
  const timeline = event.timeline;
  const recentFrom = Math.max(1, timeline.length - KEEP_RECENT);
  let compact: GovEvent = { ...event, timeline: timeline.map((e, i) => (i === 0 || i >= recentFrom ? e : shorten(e))) };
  let bytes = recordBytes(compact);
  if (bytes <= maxBytes) return compact;
  // Fold from the oldest entry after the report, one entry at a time, until the record fits.
  const rest = compact.timeline.slice(1);
  const head = compact.timeline[0];
  let folded = 0;
  const earlierFold = rest[0]?.action === FOLDED_ACTION ? rest.shift() : undefined;
  const previous = earlierFold ? Number(/\d+/.exec(earlierFold.note ?? '')?.[0] ?? 0) : 0;
  const foldedAt = earlierFold?.at ?? rest[0]?.at ?? event.reportedAt;
  const foldEntry = (n: number): TimelineEntry => ({ at: foldedAt, actor: 'system', actorName: '系统', action: FOLDED_ACTION, note: `较早的 ${n} 条处置记录已折叠（全文见审计日志）` });
  while (rest.length > 1) {
    const excess = bytes - maxBytes;
    if (excess <= 0) break;
    // Drop whole entries worth at least the excess (estimated from their own size), then measure again.
    let dropped = 0;
    while (dropped < excess && rest.length > 1) {
      dropped += recordBytes(rest.shift());
      folded++;
    }
    compact = { ...compact, timeline: [...(head ? [head] : []), foldEntry(previous + folded), ...rest] };
    bytes = recordBytes(compact);
  }
  // What is left is the report, the fold and one entry: a description, title and notes all bounded by the
  // command schemas fit many times over; shorten the last note too rather than ever exceed the limit.
  if (bytes > maxBytes) compact = { ...compact, timeline: compact.timeline.map(shorten) };
  return compact;
}
