/**
 * Distances and durations in words, with their units from the catalogs (units.*): no 米, 公里 or 天 written in
 * a view. Each takes the caller's `t` (vue-i18n's, or any with the same shape).
 */
export type Translate = (key: string, values?: Record<string, unknown>) => string;

/** 850 → "850 米"; 2345 → "2.3 公里" (en: 850 m, 2.3 km). */
export function formatDistance(t: Translate, metres: number): string {
  return metres < 1000 ? t('units.metres', { n: Math.round(metres) }) : t('units.kilometres', { n: (metres / 1000).toFixed(1) });
}

/** 4320 → "3天"; 90 → "1小时30分" (en: 3 d, 1 h 30 min): a limit in minutes at a glance. */
export function formatMinutes(t: Translate, minutes: number): string {
  const d = Math.floor(minutes / 1440);
  const h = Math.floor((minutes % 1440) / 60);
  const m = minutes % 60;
  const parts = [d ? t('units.days', { n: d }) : '', h ? t('units.hours', { n: h }) : '', m ? t('units.minutes', { n: m }) : ''].filter(Boolean);
  // Joined by the catalog's pattern (zh: nothing between, en: a space), never by an empty text of its own.
  if (parts.length === 3) return t('units.span3', { a: parts[0], b: parts[1], c: parts[2] });
  if (parts.length === 2) return t('units.span2', { a: parts[0], b: parts[1] });
  return parts[0] ?? t('units.minutes', { n: 0 });
}

/** A countdown as hh:mm:ss, with whole days before it ("2天 03:04:05"); the sign is the caller's. */
export function formatCountdown(t: Translate, ms: number): string {
  const s = Math.floor(Math.abs(ms) / 1000);
  const days = Math.floor(s / 86400);
  const clock = [Math.floor((s % 86400) / 3600), Math.floor((s % 3600) / 60), s % 60].map((v) => String(v).padStart(2, '0')).join(':');
  return days > 0 ? t('units.daysClock', { n: days, clock }) : clock;
}
