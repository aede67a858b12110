import { describe, expect, it } from 'vitest';
import type { Grid, LonLat } from '../../protocol';
import { MAP_HEIGHT, MAP_WIDTH, reviewMap } from '../../renderer/src/review/svg-map';

const at: LonLat = [117.0, 36.65];
const square = (id: string, lon: number, lat: number, half = 0.003): Pick<Grid, 'id' | 'name' | 'polygon' | 'center'> => ({
  id, name: id, center: [lon, lat],
  polygon: [[lon - half, lat - half], [lon + half, lat - half], [lon + half, lat + half], [lon - half, lat + half]],
});

describe('the 复盘 report map (svg-map.ts)', () => {
  it('centres the event, keeps the grids around it and marks its own', () => {
    const m = reviewMap({ location: at, gridId: 'g1', grids: [square('g1', 117.0, 36.65), square('g2', 117.006, 36.65), square('far', 117.5, 36.9)], tracks: [] });
    expect(m.event).toEqual([MAP_WIDTH / 2, MAP_HEIGHT / 2]);
    expect(m.grids.map((g) => [g.id, g.own])).toEqual([['g1', true], ['g2', false]]);
    expect(m.grids[0]!.d).toMatch(/^M[\d.]+ [\d.]+(L[\d.]+ [\d.]+){3}Z$/);
  });

  it('grows with the tracks up to a few kilometres, and draws each track that has two points in view', () => {
    const near = { staffId: 's1', points: [[0, 117.01, 36.65, 0], [1, 117.012, 36.651, 0]] as Array<[number, number, number, number]> };
    const lone = { staffId: 's2', points: [[0, 117.0, 36.65, 0]] as Array<[number, number, number, number]> };
    const far = { staffId: 's3', points: [[0, 118.0, 36.65, 0], [1, 118.1, 36.65, 0]] as Array<[number, number, number, number]> };
    const small = reviewMap({ location: at, gridId: 'g1', grids: [], tracks: [] });
    const m = reviewMap({ location: at, gridId: 'g1', grids: [], tracks: [near, lone, far] });
    expect(m.tracks.map((t) => t.staffId)).toEqual(['s1']);
    expect(m.metresPerUnit).toBeGreaterThan(small.metresPerUnit); // 1 km east: the view widened
    expect(m.tracks[0]!.end[0]).toBeLessThanOrEqual(MAP_WIDTH);
    expect(m.tracks[0]!.end[0]).toBeGreaterThan(MAP_WIDTH / 2);
  });
});
