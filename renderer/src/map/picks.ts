/** What a pick names and where it is, read from the map's model (the view's hover tip, card title and focus). */
import type { LonLat, Staff } from '../../../protocol';
import type { MapSource, Picked } from './layers';

type Rows = MapSource & { readonly staff: ReadonlyMap<string, Staff> };

/** The picked thing's name ('' for a cluster: the caller says what a cluster is). */
export function nameOfPicked(p: Picked, src: Rows): string {
  if (p.layer === 'staff') return src.staff.get(p.id)?.name ?? p.id;
  if (p.layer === 'cameras') return src.cameras.get(p.id)?.name ?? p.id;
  if (p.layer === 'events') return src.events.get(p.id)?.title ?? p.id;
  if (p.layer === 'resources') return src.resources.get(p.id)?.name ?? p.id;
  if (p.layer === 'places') return src.places.get(p.id)?.name ?? p.id;
  if (p.layer === 'grids') return src.grids.get(p.id)?.name ?? p.id;
  return '';
}

export function positionOfPicked(p: Picked, src: Rows): LonLat | null {
  if (p.layer === 'staff') return src.positions.get(p.id)?.p ?? src.staff.get(p.id)?.position ?? null;
  if (p.layer === 'cameras') return src.cameras.get(p.id)?.position ?? null;
  if (p.layer === 'events') return src.events.get(p.id)?.location ?? null;
  if (p.layer === 'resources') return src.resources.get(p.id)?.position ?? null;
  if (p.layer === 'places') return src.places.get(p.id)?.position ?? null;
  if (p.layer === 'grids') return src.grids.get(p.id)?.center ?? null;
  return null;
}
