/**
 * 下沉干部 called by the level: they come on duty a while after they were first called, and a switch between two
 * levels that both call them (加强→应急) sends nobody home (cadresCalledSince is kept); 日常 sends them home, and an
 * administrator turning callsCadres on for the level in force calls them from then.
 */
import { describe, expect, it } from 'vitest';
import { CityState, DEFAULT_LEVEL_PROFILES, executeCommand, upsert, type Actor } from '../../domain';
import type { Grid, Staff } from '../../protocol';
import { Rng } from '../../backend/city-generator/random';
import { CityIndex } from '../../backend/live-simulator/city-index';
import { StaffMoves, cadreArrivalMs } from '../../backend/live-simulator/staff-moves';
import type { SimCity } from '../../backend/live-simulator/engine';

const LEADER: Actor = { id: 'leader', name: '中心领导 王强', role: 'leader', districtScope: null };
const ADMIN: Actor = { id: 'admin', name: '系统管理员 赵磊', role: 'admin', districtScope: null };
const T0 = Date.parse('2026-11-30T08:00:00Z');
const MIN = 60_000;

const grid: Grid = {
  id: 'g1', code: '370100001001001', name: '一网格', communityId: 'c1', streetId: 's1', districtId: 'd01',
  polygon: [[117, 36.6], [117.01, 36.6], [117.01, 36.61], [117, 36.61], [117, 36.6]], center: [117.005, 36.605], households: 100, population: 300,
};
const cadre: Staff = { id: 'cadre-1', name: '干部', phone: '13800000000', role: 'cadre', gridId: 'g1', districtId: 'd01', status: 'offline', position: [117.005, 36.605], sipUser: 'cadre-1', openTasks: 0, updatedAt: new Date(T0).toISOString() };

function setUp(): { state: CityState; at: (ms: number) => Staff['status']; run: (type: string, payload: unknown, ms: number, actor?: Actor) => void } {
  const state = new CityState(undefined, 0);
  state.apply([upsert('grids', grid), upsert('staff', cadre)]);
  const city: SimCity = { grids: [grid], roads: null, placeOfGrid: () => ({ gridId: 'g1', districtId: 'd01', address: '一区', location: grid.center }) as never };
  const index = new CityIndex(city, state);
  index.refresh();
  const moves = new StaffMoves(new Rng('cadres'), city, state, index);
  return {
    state,
    at(ms) {
      state.apply(moves.move(ms, 1_000).changes);
      return state.get('staff', 'cadre-1')!.status;
    },
    run(type, payload, ms, actor = LEADER) {
      const outcome = executeCommand({ state, actor, now: new Date(ms), newId: () => 'x', locate: () => null }, type, payload);
      state.apply(outcome.changes);
    },
  };
}

describe('下沉干部 called by the level', () => {
  const arrival = cadreArrivalMs('cadre-1');

  it('加强→应急 keeps them called from when 加强 called them; 日常 sends them home', () => {
    const { state, at, run } = setUp();
    run('level.set', { level: 'reinforced', reason: '节日保障' }, T0);
    expect(state.get('commandLevel', 'current')!.cadresCalledSince).toBe(new Date(T0).toISOString());
    expect(at(T0 + arrival - MIN)).toBe('offline');
    expect(at(T0 + arrival + MIN)).toBe('patrolling');
    run('level.set', { level: 'emergency', reason: '暴雨' }, T0 + arrival + 2 * MIN);
    expect(state.get('commandLevel', 'current')!.cadresCalledSince).toBe(new Date(T0).toISOString());
    expect(at(T0 + arrival + 3 * MIN)).toBe('patrolling'); // not sent home by the switch
    run('level.set', { level: 'daily', reason: '结束' }, T0 + 2 * arrival);
    expect(state.get('commandLevel', 'current')!.cadresCalledSince).toBeNull();
    expect(at(T0 + 2 * arrival + MIN)).toBe('offline');
    // Called again: a new call, from then.
    const again = T0 + 3 * arrival;
    run('level.set', { level: 'emergency', reason: '再次' }, again);
    expect(state.get('commandLevel', 'current')!.cadresCalledSince).toBe(new Date(again).toISOString());
    expect(at(again + MIN)).toBe('offline');
  });

  it('an administrator turning callsCadres on (or off) for the level in force calls them from then (or sends them home)', () => {
    const { state, at, run } = setUp();
    const { updatedAt: _a, updatedBy: _b, ...daily } = DEFAULT_LEVEL_PROFILES.daily;
    run('level.set', { level: 'reinforced', reason: '节日保障' }, T0);
    run('level.set', { level: 'daily', reason: '结束' }, T0 + MIN);
    const saved = T0 + 10 * MIN;
    run('level.profile.save', { ...daily, callsCadres: true }, saved, ADMIN);
    expect(state.get('commandLevel', 'current')!.cadresCalledSince).toBe(new Date(saved).toISOString());
    expect(at(saved + arrival - MIN)).toBe('offline');
    expect(at(saved + arrival + MIN)).toBe('patrolling');
    run('level.profile.save', { ...daily, callsCadres: false }, saved + arrival + 2 * MIN, ADMIN);
    expect(state.get('commandLevel', 'current')!.cadresCalledSince).toBeNull();
    expect(at(saved + arrival + 3 * MIN)).toBe('offline');
  });
});
