/** Times as people here read them: Beijing time (UTC+8, no daylight saving), whatever the machine's zone. */
const shifted = (ms: number): string => new Date(ms + 8 * 3_600_000).toISOString();

/** `2026-11-30 16:00:00 北京时间`: a time in a refusal or a notice, to the second. */
export const beijingStamp = (ms: number): string => `${shifted(ms).slice(0, 19).replace('T', ' ')} 北京时间`;

/** `16:00`: the hour and minute. */
export const beijingHm = (ms: number): string => shifted(ms).slice(11, 16);

/** `20261130`: the day (the recordings' day folders). */
export const beijingDay = (ms: number): string => shifted(ms).slice(0, 10).replaceAll('-', '');
