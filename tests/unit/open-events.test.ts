/**
 * The open events of each staff member and department (domain/open-events.ts), kept by CityState.apply(): after
 * every change of a random run its answers are the full scan's; a reload that replaces the events without apply()
 * is seen and the index built again; an event leading and co-handling for one department is listed once.
 */
import { describe, expect, it } from 'vitest';
import { CityState, upsert } from '../../domain';
import type { Change, EventStatus, GovEvent } from '../../protocol';

const NOW = '2026-11-30T08:00:00.000Z';
const event = (id: string, extra: Partial<GovEvent>): GovEvent => ({
  id, source: 'hotline', category: 'road', severity: 2, title: id, description: '', location: [118, 24], address: '', gridId: 'g1', districtId: 'd1',
  status: 'dispatched', step: 'dispatch', reportedAt: NOW, stepDeadline: NOW, finalDeadline: NOW, assignee: null, coHandlers: [], coHandlingRequests: [],
  supervised: false, escalation: 'grid', mergedInto: null, reporter: null, evaluation: null, closedAt: null, acceptedAt: null, dispatchedAt: null, handledAt: null,
  timelineCount: 0, actors: [], cameraId: null, version: 1, ...extra,
});

const open = (e: GovEvent): boolean => e.status !== 'closed' && e.status !== 'merged';
const scanStaff = (s: CityState, staffId: string): string[] => [...s.all('events')].filter((e) => open(e) && e.assignee?.staffId === staffId).map((e) => e.id).sort();
const scanDepartment = (s: CityState, d: string): string[] => [...s.all('events')].filter((e) => open(e) && (e.assignee?.departmentId === d || e.coHandlers.includes(d))).map((e) => e.id).sort();
const ids = (events: GovEvent[]): string[] => events.map((e) => e.id).sort();

/** A small deterministic generator (the run is the same every time). */
function random(seed: number): () => number {
  let x = seed;
  return () => ((x = (x * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
}

describe('the open events index', () => {
  it('answers as a full scan after every change of a random run (upserts, reassignments, closes, deletes)', () => {
    const state = new CityState();
    const next = random(7);
    const pick = <T>(list: readonly T[]): T => list[Math.floor(next() * list.length)]!;
    const STAFF = ['s1', 's2', 's3'];
    const DEPTS = ['d-a', 'd-b', 'd-c'];
    const STATUSES: EventStatus[] = ['new', 'dispatched', 'handling', 'closed', 'merged'];
    // Read once first: the index is built, then kept in step change by change.
    expect(state.openEvents.ofStaff('s1')).toEqual([]);
    for (let i = 0; i < 2000; i++) {
      const id = `E${Math.floor(next() * 60)}`;
      const change: Change =
        next() < 0.1
          ? { op: 'remove', collection: 'events', id }
          : upsert('events', event(id, {
              status: pick(STATUSES),
              assignee: next() < 0.2 ? null : { staffId: next() < 0.5 ? pick(STAFF) : null, departmentId: next() < 0.6 ? pick(DEPTS) : null },
              coHandlers: DEPTS.filter(() => next() < 0.2),
            }));
      state.apply([change]);
      if (i % 7 === 0) {
        for (const s of STAFF) expect(ids(state.openEvents.ofStaff(s))).toEqual(scanStaff(state, s));
        for (const d of DEPTS) expect(ids(state.openEvents.ofDepartment(d))).toEqual(scanDepartment(state, d));
      }
    }
    expect(state.openEvents.ofStaff('nobody')).toEqual([]);
  });

  it('is built again after the events were replaced without apply() (a reload), and lists a lead that co-handles once', () => {
    const state = new CityState();
    state.apply([upsert('events', event('E1', { assignee: { staffId: 's1', departmentId: 'd-a' }, coHandlers: ['d-a', 'd-b'] }))]);
    expect(ids(state.openEvents.ofDepartment('d-a'))).toEqual(['E1']);
    expect(ids(state.openEvents.ofDepartment('d-b'))).toEqual(['E1']);
    // What commit-tail's reload does: the map refilled in place, the version moved on.
    state.collections.events.clear();
    state.collections.events.set('E2', event('E2', { assignee: { staffId: 's1', departmentId: null } }));
    state.versions.events++;
    expect(ids(state.openEvents.ofStaff('s1'))).toEqual(['E2']);
    expect(state.openEvents.ofDepartment('d-a')).toEqual([]);
    state.apply([upsert('events', event('E2', { status: 'closed', assignee: { staffId: 's1', departmentId: null } }))]);
    expect(state.openEvents.ofStaff('s1')).toEqual([]);
  });
});
