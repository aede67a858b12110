/** Which grid a point is in, from the cached grid polygons (for predicting reports made offline). */
import type { LonLat } from '../protocol';
import { GridLocator, type CityState } from '../domain';

export function gridLocator(state: CityState): (location: LonLat) => { gridId: string; districtId: string; address: string } | null {
  const grids = new GridLocator(state.all('grids'));
  return (location) => {
    const grid = grids.at(location);
    return grid ? { gridId: grid.id, districtId: grid.districtId, address: grid.name } : null;
  };
}
