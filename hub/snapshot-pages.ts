/**
 * A subscription's first result, sent in pages. The events collection can hold 100,000 rows; sent as one message
 * it was encoded whole per subscription (and, to a page that does not read, queued whole), which is how ten
 * subscriptions took the browser host from ~130 to ~370 MiB and two hundred to 3.2 GiB. Pages of a bounded size
 * go out one after another, each only when the window is not congested; the client joins them.
 */

/** Rows per page: ~1.5 MB of events encoded, a few milliseconds to encode. */
export const SNAPSHOT_PAGE_ROWS = 1000;

export interface SnapshotPages {
  readonly rows: ReadonlyArray<Record<string, unknown>>;
  next: number;
}

/** The next page of a result, and whether more follow. */
export function nextPage(pages: SnapshotPages, pageRows = SNAPSHOT_PAGE_ROWS): { data: Array<Record<string, unknown>>; more: boolean } {
  const data = pages.rows.slice(pages.next, pages.next + pageRows);
  pages.next += data.length;
  return { data, more: pages.next < pages.rows.length };
}
