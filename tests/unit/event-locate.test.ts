/**
 * 核实位置 (event.locate) in the domain: an event flagged 位置待核实 is confirmed at its point, or moved to a point or
 * one of the city's places; it takes the grid and district of where it now is, loses the flag, and its history
 * gets a 核实位置 entry (the history moves district with it). Refused: an unknown place, a point outside the city or
 * the actor's area, a closed or merged event, one not flagged, and roles that do no event work.
 */
import { describe, expect, it } from 'vitest';
import { CityState, CommandError, executeCommand, upsert, type Actor } from '../../domain';
import type { GovEvent, LonLat, Place } from '../../protocol';

const NOW = new Date('2026-11-30T08:00:00Z');
const DISPATCHER: Actor = { id: 'disp', name: '调度员', role: 'dispatcher', districtScope: null };
const STREET_D1: Actor = { id: 'street', name: '街道调度', role: 'dispatcher', districtScope: ['d1'] };
const VIEWER: Actor = { id: 'demo', name: '演示', role: 'viewer', districtScope: null };
const LEADER: Actor = { id: 'lead', name: '领导', role: 'leader', districtScope: null };

const event = (id: string, extra: Partial<GovEvent>): GovEvent => ({
  id, source: 'hotline', category: 'road', severity: 2, title: id, description: '', location: [118, 24], address: '火星基地 1 号', gridId: 'g1', districtId: 'd1',
  status: 'new', step: 'report', reportedAt: NOW.toISOString(), stepDeadline: '2026-11-30T10:00:00.000Z', finalDeadline: '2026-12-05T00:00:00.000Z',
  assignee: null, coHandlers: [], coHandlingRequests: [], supervised: false, escalation: 'grid', mergedInto: null,
  reporter: null, evaluation: null, closedAt: null, acceptedAt: null, dispatchedAt: null, handledAt: null, timelineCount: 1, actors: [], cameraId: null, version: 1, locationUnresolved: true, ...extra,
});
const place: Place = { id: 'pl-school', code: 'P1', name: '青石街第一小学', kind: 'school', address: '青石街 88 号', position: [118.5, 24.5], gridId: 'g2', communityId: 'c2', streetId: 'd2', districtId: 'd2', contact: null, note: '' };

function city(): CityState {
  const state = new CityState(undefined, 0);
  state.apply([
    upsert('events', event('E-lost', {})),
    upsert('timeline', { id: 'E-lost.0000', eventId: 'E-lost', districtId: 'd1', index: 0, at: NOW.toISOString(), actor: 'api:k', actorName: '12345', action: 'report' }),
    upsert('events', event('E-placed', { locationUnresolved: undefined })),
    upsert('events', event('E-closed', { status: 'closed', step: 'close', closedAt: NOW.toISOString() })),
    upsert('events', event('E-merged', { status: 'merged', mergedInto: 'E-lost' })),
    upsert('places', place),
  ]);
  return state;
}

/** Points west of 118.4 are grid g1 in d1, east of it g2 in d2, and nothing beyond 119 (outside the city). */
const locate = (p: LonLat): { gridId: string; districtId: string; address: string } | null => (p[0] > 119 ? null : p[0] < 118.4 ? { gridId: 'g1', districtId: 'd1', address: '一号网格' } : { gridId: 'g2', districtId: 'd2', address: '二号网格' });
function run(state: CityState, actor: Actor, payload: unknown): ReturnType<typeof executeCommand> {
  const outcome = executeCommand({ state, actor, now: NOW, newId: (kind) => `${kind}-1`, locate }, 'event.locate', payload);
  state.apply(outcome.changes);
  return outcome;
}
function refusal(state: CityState, actor: Actor, payload: unknown): CommandError {
  try {
    run(state, actor, payload);
  } catch (e) {
    if (e instanceof CommandError) return e;
    throw e;
  }
  throw new Error('event.locate was not refused');
}
const history = (state: CityState, id: string) => [...state.collections.timeline.values()].filter((r) => r.eventId === id).sort((a, b) => a.index - b.index);

describe('event.locate (核实位置)', () => {
  it('confirms the current point: the flag cleared, the same grid, a 核实位置 entry', () => {
    const state = city();
    const { result } = run(state, DISPATCHER, { eventId: 'E-lost', location: [118, 24] });
    expect(result).toMatchObject({ eventId: 'E-lost', gridId: 'g1' });
    const e = state.get('events', 'E-lost')!;
    expect(e.locationUnresolved).toBeUndefined();
    expect(e).toMatchObject({ location: [118, 24], gridId: 'g1', districtId: 'd1', address: '火星基地 1 号', version: 2, timelineCount: 2 });
    expect(history(state, 'E-lost').at(-1)).toMatchObject({ action: 'locate', actor: 'disp', districtId: 'd1', note: expect.stringContaining('网格 g1') });
  });

  it('moves it to a place of the city: the place’s point and address, the new grid and district, its history with it', () => {
    const state = city();
    run(state, DISPATCHER, { eventId: 'E-lost', placeId: 'pl-school' });
    expect(state.get('events', 'E-lost')).toMatchObject({ location: [118.5, 24.5], gridId: 'g2', districtId: 'd2', address: '青石街第一小学（青石街 88 号）' });
    expect(history(state, 'E-lost').map((r) => [r.action, r.districtId])).toEqual([['report', 'd2'], ['locate', 'd2']]);
  });

  it('moves it to typed coordinates (rounded to 6 places) with a typed address', () => {
    const state = city();
    run(state, DISPATCHER, { eventId: 'E-lost', location: [118.61234567, 24.1], address: '建设路 12 号' });
    expect(state.get('events', 'E-lost')).toMatchObject({ location: [118.612346, 24.1], gridId: 'g2', address: '建设路 12 号' });
  });

  it('refuses an unknown place, a point outside the city or the area, a closed, merged or placed event, a bad payload and roles without event work; nothing changes', () => {
    const state = city();
    const before = state.get('events', 'E-lost');
    const cases: Array<[Actor, unknown, string, RegExp]> = [
      [DISPATCHER, { eventId: 'E-lost', placeId: 'pl-nowhere' }, 'invalid', /没有这个地点：pl-nowhere/],
      [DISPATCHER, { eventId: 'E-lost', location: [119.5, 24] }, 'invalid', /不在本市网格内/],
      [STREET_D1, { eventId: 'E-lost', placeId: 'pl-school' }, 'forbidden', /不在您的辖区/],
      [DISPATCHER, { eventId: 'E-closed', location: [118, 24] }, 'conflict', /已结案/],
      [DISPATCHER, { eventId: 'E-merged', location: [118, 24] }, 'conflict', /已合并/],
      [DISPATCHER, { eventId: 'E-placed', location: [118, 24] }, 'conflict', /不是待核实/],
      [DISPATCHER, { eventId: 'E-nope', location: [118, 24] }, 'invalid', /事件 E-nope 不存在/],
      [DISPATCHER, { eventId: 'E-lost' }, 'invalid', /a location or a placeId/],
      [DISPATCHER, { eventId: 'E-lost', location: [118, 24], placeId: 'pl-school' }, 'invalid', /a location or a placeId/],
      [VIEWER, { eventId: 'E-lost', location: [118, 24] }, 'forbidden', /账号不能执行 event.locate/],
      [LEADER, { eventId: 'E-lost', location: [118, 24] }, 'forbidden', /账号不能执行 event.locate/],
    ];
    for (const [actor, payload, code, message] of cases) {
      const e = refusal(state, actor, payload);
      expect([e.code, e.message], JSON.stringify(payload)).toEqual([code, expect.stringMatching(message)]);
    }
    expect(state.get('events', 'E-lost')).toBe(before);
  });
});
