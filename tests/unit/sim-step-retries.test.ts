/**
 * The simulator's assignee steps when a route refuses one (a token being replaced, the database away): 到场 is
 * marked only once it succeeded, a refused step is tried again later at the same version — not lost — and not
 * forever (MAX_RETRIES more tries, then the event waits for someone else to change it).
 */
import { describe, expect, it } from 'vitest';
import { CityState, CommandError, executeCommand, upsert, type Actor } from '../../domain';
import type { GovEvent } from '../../protocol';
import { MAX_RETRIES, SimulationEngine, type ApplyCommand } from '../../backend/live-simulator/engine';
import { FIELD_COMMAND, type Outcome, type SimPeople } from '../../backend/live-simulator/people';

const NOW = Date.parse('2026-11-30T08:00:00Z');
const limits = { report: 60, dispatch: 120, handle: 1440, followup: 2880, close: 1440 };
const event: GovEvent = {
  id: 'E1', source: 'hotline', category: 'road', severity: 2, title: 'E1', description: '', location: [118, 24], address: '', gridId: 'g1', districtId: 'd1',
  status: 'handling', step: 'handle', reportedAt: new Date(NOW).toISOString(), stepDeadline: '2026-12-01T10:00:00.000Z', finalDeadline: '2026-12-05T00:00:00.000Z',
  assignee: { departmentId: null, staffId: 's1' }, coHandlers: [], coHandlingRequests: [], supervised: false, escalation: 'grid', mergedInto: null,
  reporter: null, evaluation: null, closedAt: null, acceptedAt: new Date(NOW).toISOString(), dispatchedAt: new Date(NOW).toISOString(), handledAt: null, timelineCount: 1, actors: [], cameraId: null, version: 1,
};

function city(): CityState {
  const state = new CityState(undefined, 0);
  state.apply([
    upsert('departments', { id: 'dept-urban', code: 'CG', name: '市城市管理局' }),
    upsert('rules', { id: 'road', category: 'road', categoryName: '道路破损', departmentId: 'dept-urban', limits, handlingLevel: 'grid' }),
    upsert('staff', { id: 's1', name: '李明', phone: '1', role: 'full-time', gridId: 'g1', districtId: 'd1', status: 'handling', position: null, sipUser: 's1', openTasks: 1, updatedAt: new Date(NOW).toISOString() }),
    upsert('events', event),
  ]);
  return state;
}

/** An engine over the state whose staff member's field actions are refused while `refuse(action)` says so. */
function engineWith(state: CityState, refuse: (action: string) => boolean) {
  let ids = 0;
  const apply: ApplyCommand = async (actor, type, payload, atMs) => {
    try {
      const outcome = executeCommand({ state, actor, now: new Date(atMs), newId: (kind) => `${kind}-${++ids}`, locate: () => ({ gridId: 'g1', districtId: 'd1', address: '某街道' }) }, type, payload);
      state.apply(outcome.changes);
      return { ok: true, result: { eventId: 'E1', ...outcome.result } };
    } catch (e) {
      if (e instanceof CommandError) return { ok: false, reason: e.message };
      throw e;
    }
  };
  const tries: string[] = [];
  const field = (staffId: string): Actor => ({ id: `sim-staff-${staffId}`, name: '李明', role: 'field', districtScope: ['d1'], staffId });
  const refused: Outcome = { ok: false, reason: '401 令牌无效' };
  const people: SimPeople = {
    plays: () => true,
    fieldReport: async () => refused,
    fieldAction: async (staff, eventId, action, body, at) => {
      tries.push(action);
      if (refuse(action)) return refused;
      return apply(field(staff.id), FIELD_COMMAND[action], { eventId, ...body } as never, at);
    },
    departmentAction: async () => refused,
    sourceReport: async () => refused,
  };
  const engine = new SimulationEngine({ city: { grids: [], roads: null, placeOfGrid: () => ({ district: '', street: '', community: '', road: '', landmark: '' }) as never }, state, seed: 1, apply, people });
  return { engine, tries };
}

describe('a refused assignee step', () => {
  it('到场 refused twice is tried again and marked only when it went through; the feedback follows it', async () => {
    const state = city();
    let refusals = 2;
    const { engine, tries } = engineWith(state, (action) => action === 'arrive' && refusals-- > 0);
    engine.adoptOpenEvents(NOW);
    await engine.advance(NOW + 10 * 86_400_000);
    expect(tries.slice(0, 4)).toEqual(['arrive', 'arrive', 'arrive', 'feedback']);
    expect(state.get('events', 'E1')!.status).not.toBe('handling');
    expect(engine.actionsRefused).toBe(2);
  });

  it('a step refused every time is tried 1 + MAX_RETRIES times, then left', async () => {
    const state = city();
    const { engine, tries } = engineWith(state, () => true);
    engine.adoptOpenEvents(NOW);
    await engine.advance(NOW + 30 * 86_400_000);
    engine.adoptOpenEvents(NOW + 30 * 86_400_000);
    await engine.advance(NOW + 60 * 86_400_000);
    expect(tries).toEqual(Array(1 + MAX_RETRIES).fill('arrive'));
    expect(state.get('events', 'E1')!.version).toBe(1);
  });
});
