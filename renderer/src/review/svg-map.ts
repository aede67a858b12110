/**
 * The 复盘 report's small map, pure: the grids around the incident as polygons, the staff tracks over its time as
 * lines, the event as a point, projected into an SVG box (equirectangular, metres at the event's latitude; the
 * area is a few kilometres, so the error is nothing a reader sees). No Cesium: a printed page needs none.
 */
import type { Grid, HistoryTracks, LonLat } from '../../../protocol';

export const MAP_WIDTH = 800;
export const MAP_HEIGHT = 520;
const M_PER_DEG = 111_320;
/** The area shown: at least this far around the event, growing with the tracks up to MAX_REACH_M. */
const MIN_REACH_M = 600;
const MAX_REACH_M = 3_000;
const MAX_PATH_POINTS = 2_000;

export interface ReviewMap {
  width: number;
  height: number;
  /** Metres per SVG unit (the scale bar). */
  metresPerUnit: number;
  grids: Array<{ id: string; name: string; d: string; own: boolean; label: [number, number] }>;
  tracks: Array<{ staffId: string; d: string; start: [number, number]; end: [number, number] }>;
  event: [number, number];
}

export function reviewMap(input: { location: LonLat; gridId: string; grids: readonly Pick<Grid, 'id' | 'name' | 'polygon' | 'center'>[]; tracks: HistoryTracks['tracks'] }): ReviewMap {
  const [lon0, lat0] = input.location;
  const kx = M_PER_DEG * Math.cos((lat0 * Math.PI) / 180);
  const toM = (p: readonly [number, number] | LonLat): [number, number] => [(p[0] - lon0) * kx, (p[1] - lat0) * M_PER_DEG];
  // The reach: the tracks' points near enough, at least the minimum, square around the event.
  let reach = MIN_REACH_M;
  for (const t of input.tracks) {
    for (const [, lon, lat] of t.points) {
      const [x, y] = toM([lon, lat]);
      const r = Math.max(Math.abs(x), Math.abs(y));
      if (r <= MAX_REACH_M && r > reach) reach = r;
    }
  }
  reach *= 1.1;
  const ratio = MAP_WIDTH / MAP_HEIGHT;
  const halfW = reach * Math.max(1, ratio);
  const halfH = halfW / ratio;
  const scale = MAP_WIDTH / (2 * halfW);
  const project = (p: readonly [number, number] | LonLat): [number, number] => {
    const [x, y] = toM(p);
    return [round((x + halfW) * scale), round((halfH - y) * scale)];
  };
  const inside = (p: readonly [number, number] | LonLat): boolean => {
    const [x, y] = toM(p);
    return Math.abs(x) <= halfW * 1.5 && Math.abs(y) <= halfH * 1.5;
  };
  const path = (points: Array<[number, number]>, close: boolean): string => points.map(([x, y], i) => `${i === 0 ? 'M' : 'L'}${x} ${y}`).join('') + (close ? 'Z' : '');

  const grids = input.grids
    .filter((g) => g.polygon.some(inside) || g.id === input.gridId)
    .map((g) => ({ id: g.id, name: g.name, d: path(g.polygon.map(project), true), own: g.id === input.gridId, label: labelAt(project(g.center), g.id === input.gridId) }));
  const tracks = input.tracks
    .map((t) => {
      const pts = t.points.filter(([, lon, lat]) => inside([lon, lat]));
      const step = Math.max(1, Math.ceil(pts.length / MAX_PATH_POINTS));
      const kept = pts.filter((_, i) => i % step === 0 || i === pts.length - 1).map(([, lon, lat]) => project([lon, lat]));
      return kept.length >= 2 ? { staffId: t.staffId, d: path(kept, false), start: kept[0]!, end: kept[kept.length - 1]! } : null;
    })
    .filter((t): t is NonNullable<typeof t> => t !== null);
  return { width: MAP_WIDTH, height: MAP_HEIGHT, metresPerUnit: 1 / scale, grids, tracks, event: project(input.location) };
}

function round(v: number): number {
  return Math.round(v * 10) / 10;
}

/** The incident's own grid is labelled below its centre, where the event's point does not cover the name. */
function labelAt([x, y]: [number, number], own: boolean): [number, number] {
  return own ? [x, round(y + 24)] : [x, y];
}
