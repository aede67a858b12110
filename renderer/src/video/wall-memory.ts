/**
 * What a video wall needs to remember itself (the hub keeps it: protocol/hub-api/wall-layouts.ts): this
 * window's wall name, and the cameras a tour group means now.
 */
import type { Camera, LonLat } from '../../../protocol';
import { DEFAULT_WALL_NAME, WallName } from '../../../protocol';
import { nearest } from '../../../domain';

/**
 * This window's wall, read once at load (switching workspace rewrites the address): `?wall=` in the address —
 * inside the hash in the browser host (`/#/video?wall=left`), in the query under Electron (the display's wall,
 * `index.html?role=video&wall=display-<id>`) — else the default wall.
 */
export function wallNameOf(location: { search: string; hash: string }): string {
  const fromHash = new URLSearchParams(location.hash.split('?')[1] ?? '').get('wall');
  const name = fromHash ?? new URLSearchParams(location.search).get('wall');
  return name !== null && WallName.safeParse(name).success ? name : DEFAULT_WALL_NAME;
}

/** How many cameras a first-time wall tours: the nearest to the console's area, four at a time. */
export const NEARBY_TOUR_SIZE = 16;
export const FIRST_TOUR_INTERVAL_S = 30;

/**
 * The centre of the console's area: the map's configured home when there is one, else the middle of the
 * cameras in the user's scope (its districts), else of every camera (the city).
 */
export function areaCentre(cameras: readonly Camera[], scope: readonly string[] | null, home: LonLat | null): LonLat | null {
  if (home) return home;
  const inScope = scope ? cameras.filter((c) => scope.includes(c.districtId)) : [];
  const pool = inScope.length > 0 ? inScope : cameras;
  if (pool.length === 0) return null;
  const lon = pool.reduce((sum, c) => sum + c.position[0], 0) / pool.length;
  const lat = pool.reduce((sum, c) => sum + c.position[1], 0) / pool.length;
  return [lon, lat];
}

/** The online cameras of a tour group: 'online' (all, by id), 'nearby' (nearest the centre first), or a district's. */
export function tourGroupCameras(group: string, cameras: readonly Camera[], centre: LonLat | null): string[] {
  const online = cameras.filter((c) => c.online).sort((a, b) => a.id.localeCompare(b.id));
  if (group === 'online') return online.map((c) => c.id);
  if (group === 'nearby') return centre ? nearest(online, centre, Number.POSITIVE_INFINITY, NEARBY_TOUR_SIZE, (c) => c.position).map((c) => c.item.id) : [];
  return online.filter((c) => c.districtId === group).map((c) => c.id);
}
