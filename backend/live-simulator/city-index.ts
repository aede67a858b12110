/**
 * The simulator's indexes of the city: grid index by id, the staff of each grid, a camera per grid, and the road
 * nodes in metres. Rebuilt when the city's grids, staff or cameras change (an import while running).
 */
import type { Grid, LonLat } from '../../protocol';
import type { CityState } from '../../domain';
import type { Rng } from '../city-generator/random';
import { randomPointIn } from './stored-city';
import type { SimCity } from './engine';

export class CityIndex {
  gridIndexById = new Map<string, number>();
  readonly staffByGrid = new Map<number, string[]>();
  readonly cameraByGrid = new Map<string, string>();
  nodeXY: Array<[number, number]> = [];
  mPerDegLon = 111_320;
  /** What the indexes above were built from: the grids array and the staff and camera versions. */
  private indexed: { grids: readonly Grid[] | null; staff: number; cameras: number } = { grids: null, staff: -1, cameras: -1 };

  constructor(
    private readonly city: SimCity,
    private readonly state: CityState,
  ) {}

  /** Rebuilds what changed; true when the grids did (the walkers then start afresh). */
  refresh(): boolean {
    const { city, state } = this;
    const grids = city.grids;
    const gridsChanged = grids !== this.indexed.grids;
    if (gridsChanged) {
      this.gridIndexById = new Map(grids.map((g, i) => [g.id, i]));
      const lat0 = grids[0]?.center[1] ?? 36;
      this.mPerDegLon = 111_320 * Math.cos((lat0 * Math.PI) / 180);
      this.nodeXY = (city.roads?.nodes ?? []).map(([lon, lat]) => [lon * this.mPerDegLon, lat * 110_574]);
    }
    if (gridsChanged || state.versions.staff !== this.indexed.staff) {
      this.staffByGrid.clear();
      for (const staff of state.all('staff')) {
        const gi = this.gridIndexById.get(staff.gridId);
        if (gi === undefined) continue;
        const list = this.staffByGrid.get(gi) ?? [];
        list.push(staff.id);
        this.staffByGrid.set(gi, list);
      }
    }
    if (gridsChanged || state.versions.cameras !== this.indexed.cameras) {
      this.cameraByGrid.clear();
      for (const camera of state.all('cameras')) if (camera.online && !this.cameraByGrid.has(camera.gridId)) this.cameraByGrid.set(camera.gridId, camera.id);
    }
    this.indexed = { grids, staff: state.versions.staff, cameras: state.versions.cameras };
    return gridsChanged;
  }

  /** A random point of the grid: inside its polygon (imported city), or away from its edges, the roads (generated). */
  pointInGrid(rng: Rng, grid: Grid): LonLat {
    if (!this.city.roads) return randomPointIn(rng, grid.polygon, grid.center);
    const [a, b, c, d] = grid.polygon;
    if (!a || !b || !c || !d || grid.polygon.length !== 4) return grid.center;
    // Bilinear point inside the (convex) quad, away from its edges (the roads).
    const u = rng.float(0.15, 0.85);
    const v = rng.float(0.15, 0.85);
    const lerp = (p: LonLat, q: LonLat, t: number): [number, number] => [p[0] + (q[0] - p[0]) * t, p[1] + (q[1] - p[1]) * t];
    const top = lerp(a, b, u);
    const bottom = lerp(d, c, u);
    const p = lerp(top, bottom, v);
    return [Math.round(p[0] * 1e6) / 1e6, Math.round(p[1] * 1e6) / 1e6];
  }
}
