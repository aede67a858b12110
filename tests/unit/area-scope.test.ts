/** inAreaScope: district scopes exactly as the district-only rule; streets and communities by the record's grid. */
import { describe, expect, it } from 'vitest';
import { inAreaScope, inScope, type GridReader } from '../../domain';

const GRIDS: Record<string, { streetId: string; communityId: string }> = { g1: { streetId: 's1', communityId: 'c1' }, g2: { streetId: 's2', communityId: 'c2' } };
const grids: GridReader = { get: (_c, id) => GRIDS[id] };

describe('inAreaScope', () => {
  it('the whole city sees everything; a district scope matches the district-only rule', () => {
    for (const scope of [null, ['d01'], ['d02'], [], ['d01', 'd02']]) {
      for (const place of [{ districtId: 'd01', gridId: 'g1' }, { districtId: 'd02' }, { districtId: 'd01', gridId: 'nope' }]) {
        expect(inAreaScope(scope, place, grids)).toBe(inScope(scope, place.districtId));
      }
    }
  });

  it('a street or community scope sees records placed in its grids only', () => {
    expect(inAreaScope(['s1'], { districtId: 'd01', gridId: 'g1' }, grids)).toBe(true);
    expect(inAreaScope(['c1'], { districtId: 'd01', gridId: 'g1' }, grids)).toBe(true);
    expect(inAreaScope(['s1'], { districtId: 'd01', gridId: 'g2' }, grids)).toBe(false);
    expect(inAreaScope(['c2', 's1'], { districtId: 'd01', gridId: 'g2' }, grids)).toBe(true);
    // Known by district only, or by a grid the state does not hold: not a street user's.
    expect(inAreaScope(['s1'], { districtId: 'd01' }, grids)).toBe(false);
    expect(inAreaScope(['s1'], { districtId: 'd01', gridId: 'unknown' }, grids)).toBe(false);
    expect(inAreaScope([], { districtId: 'd01', gridId: 'g1' }, grids)).toBe(false);
  });
});
