/** The leaf types every contract shares: a time and a WGS84 point (a module of its own, so that no import goes round). */
import { z } from 'zod';

export const IsoTime = z.iso.datetime({ offset: true });
/** [longitude, latitude] in WGS84 degrees. */
export const LonLat = z.tuple([z.number().min(-180).max(180), z.number().min(-90).max(90)]);
export type LonLat = z.infer<typeof LonLat>;
