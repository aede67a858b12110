/** Which grid a point is in, from the cached grid polygons (for predicting reports made offline). */
import type { Grid, LonLat } from '../../protocol';
import type { CityState } from '../../domain';

interface Indexed {
  grid: Grid;
  minLon: number;
  maxLon: number;
  minLat: number;
  maxLat: number;
}

function inRing(lon: number, lat: number, ring: readonly LonLat[]): boolean {
  let inside = false;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
    const [xi, yi] = ring[i]!;
    const [xj, yj] = ring[j]!;
    if (yi > lat !== yj > lat && lon < ((xj - xi) * (lat - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

export function gridLocator(state: CityState): (location: LonLat) => { gridId: string; districtId: string; address: string } | null {
  const indexed: Indexed[] = [...state.all('grids')].map((grid) => {
    const lons = grid.polygon.map((p) => p[0]);
    const lats = grid.polygon.map((p) => p[1]);
    return { grid, minLon: Math.min(...lons), maxLon: Math.max(...lons), minLat: Math.min(...lats), maxLat: Math.max(...lats) };
  });
  return ([lon, lat]) => {
    for (const g of indexed) {
      if (lon < g.minLon || lon > g.maxLon || lat < g.minLat || lat > g.maxLat) continue;
      if (inRing(lon, lat, g.grid.polygon)) return { gridId: g.grid.id, districtId: g.grid.districtId, address: g.grid.name };
    }
    return null;
  };
}
