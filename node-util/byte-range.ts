/** One `bytes=a-b` range within `total` (a-, -n too); 'none' without a header; null when unsatisfiable. */
export function parseByteRange(header: string | undefined | null, total: number): { start: number; end: number } | 'none' | null {
  if (header === undefined || header === null) return 'none';
  const m = /^bytes=(\d{0,15})-(\d{0,15})$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) return 'none'; // several ranges or another unit: the whole (allowed by RFC 9110)
  if (m[1] === '') {
    const n = Number(m[2]);
    return n === 0 || total === 0 ? null : { start: Math.max(0, total - n), end: total - 1 };
  }
  const start = Number(m[1]);
  const end = m[2] === '' ? total - 1 : Math.min(Number(m[2]), total - 1);
  return start >= total || end < start ? null : { start, end };
}
