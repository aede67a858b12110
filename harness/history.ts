/** An event's history (处置记录) from the `timeline` records a client or state holds, oldest first. */
import type { TimelineRecord } from '../protocol';

export function historyOf(records: Iterable<TimelineRecord>, eventId: string): TimelineRecord[] {
  return [...records].filter((r) => r.eventId === eventId).sort((a, b) => a.index - b.index);
}
