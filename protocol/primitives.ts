/** The leaf types every contract shares: a time, a WGS84 point, an event's source and severity (a module of its own, so that no import goes round). */
import { z } from 'zod';

export const IsoTime = z.iso.datetime({ offset: true });
/** [longitude, latitude] in WGS84 degrees. */
export const LonLat = z.tuple([z.number().min(-180).max(180), z.number().min(-90).max(90)]);
export type LonLat = z.infer<typeof LonLat>;

export const EventSource = z.enum(['grid-app', 'hotline', 'video-ai', 'sensor', 'citizen-app', 'leader']);
export type EventSource = z.infer<typeof EventSource>;

export const Severity = z.number().int().min(1).max(4); // 1 general … 4 critical
