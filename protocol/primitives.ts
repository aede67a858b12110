/** The leaf types every contract shares: a time, a WGS84 point, an event's source and severity (a module of its own, so that no import goes round). */
import { z } from 'zod';

export const IsoTime = z.iso.datetime({ offset: true });
/** [longitude, latitude] in WGS84 degrees. */
export const LonLat = z.tuple([z.number().min(-180).max(180), z.number().min(-90).max(90)]);
export type LonLat = z.infer<typeof LonLat>;

export const EventSource = z.enum(['grid-app', 'hotline', 'video-ai', 'sensor', 'citizen-app', 'leader']);
export type EventSource = z.infer<typeof EventSource>;

export const Severity = z.number().int().min(1).max(4); // 1 general … 4 critical

/** A time as a query parameter: ISO 8601 with an offset, or epoch milliseconds. */
export const QueryTime = z
  .string()
  .max(40)
  .refine((v) => /^\d{1,15}$/.test(v) || IsoTime.safeParse(v).success, 'a time: ISO 8601 with an offset (2026-11-30T08:00:00Z) or epoch milliseconds')
  .transform((v) => (/^\d{1,15}$/.test(v) ? Number(v) : Date.parse(v)));
