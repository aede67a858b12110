/**
 * What a phone's GET /field/api/me and a department page's GET /department/api/me spend finding their open events,
 * at a city's size (phones poll every 15 s): the old full scan of every event beside the index CityState keeps
 * (domain/open-events.ts), per request, with the route's sort and cut. One line per lookup: old, new, speed-up.
 * Run: npm run bench -- open-events   (BENCH_EVENTS, default 50000)
 */
import { CityState, upsert } from '../domain';
import type { GovEvent } from '../protocol';

const EVENTS = Number(process.env.BENCH_EVENTS ?? 50_000);
const STAFF = 5_000;
const DEPARTMENTS = 60;
const NOW = Date.parse('2026-11-30T08:00:00Z');

const state = new CityState();
const changes = [];
for (let i = 0; i < EVENTS; i++) {
  const at = new Date(NOW - i * 60_000).toISOString();
  // About one event in five still open, as in a city that closes most of its work.
  const status = i % 5 === 0 ? (i % 2 === 0 ? 'dispatched' : 'handling') : 'closed';
  const event: GovEvent = {
    id: `E${i}`, source: 'hotline', category: 'road', severity: 2, title: `事件 ${i}`, description: '', location: [118, 24], address: '', gridId: 'g1', districtId: 'd1',
    status, step: status === 'closed' ? 'close' : 'handle', reportedAt: at, stepDeadline: at, finalDeadline: at,
    assignee: i % 3 === 0 ? { staffId: `s${i % STAFF}`, departmentId: null } : { staffId: null, departmentId: `dept-${i % DEPARTMENTS}` },
    coHandlers: i % 11 === 0 ? [`dept-${(i + 1) % DEPARTMENTS}`] : [], coHandlingRequests: [], supervised: false, escalation: 'grid', mergedInto: null,
    reporter: null, evaluation: null, closedAt: null, acceptedAt: null, dispatchedAt: null, handledAt: null, timelineCount: 0, actors: [], cameraId: null, version: 1,
  };
  changes.push(upsert('events', event));
}
state.apply(changes);

const isOpen = (e: GovEvent): boolean => e.status !== 'closed' && e.status !== 'merged';
const newestFirst = (list: GovEvent[]): GovEvent[] => list.sort((a, b) => b.reportedAt.localeCompare(a.reportedAt)).slice(0, 20);
const oldStaff = (id: string): GovEvent[] => newestFirst([...state.collections.events.values()].filter((e) => e.assignee?.staffId === id && isOpen(e)));
const newStaff = (id: string): GovEvent[] => newestFirst(state.openEvents.ofStaff(id));
const oldDepartment = (id: string): GovEvent[] => newestFirst([...state.collections.events.values()].filter((e) => (e.assignee?.departmentId === id || e.coHandlers.includes(id)) && isOpen(e)));
const newDepartment = (id: string): GovEvent[] => newestFirst(state.openEvents.ofDepartment(id));

/** Microseconds per request over `n` requests (after a warm-up), each for another key. */
function perRequest(lookup: (id: string) => GovEvent[], key: (i: number) => string, n: number): number {
  for (let i = 0; i < Math.min(50, n); i++) lookup(key(i));
  const started = process.hrtime.bigint();
  let found = 0;
  for (let i = 0; i < n; i++) found += lookup(key(i)).length;
  if (found < 0) console.log(found);
  return Number(process.hrtime.bigint() - started) / 1000 / n;
}

const built = process.hrtime.bigint();
state.openEvents.ofStaff('s0'); // the first read builds the index
const buildMs = Number(process.hrtime.bigint() - built) / 1e6;
// The same answers either way.
for (const id of ['s0', 's3', 's4999']) if (JSON.stringify(oldStaff(id)) !== JSON.stringify(newStaff(id))) throw new Error(`staff ${id}: the index differs from the scan`);
for (const id of ['dept-0', 'dept-7']) if (JSON.stringify(oldDepartment(id)) !== JSON.stringify(newDepartment(id))) throw new Error(`${id}: the index differs from the scan`);

const line = (what: string, before: number, after: number): void => console.log(`${what.padEnd(26)} old ${before.toFixed(1).padStart(8)} µs/request   new ${after.toFixed(1).padStart(6)} µs/request   ×${(before / after).toFixed(0)}`);
console.log(`${EVENTS} events (${[...state.collections.events.values()].filter(isOpen).length} open), ${STAFF} staff, ${DEPARTMENTS} departments; index built in ${buildMs.toFixed(1)} ms`);
line('GET /field/api/me', perRequest(oldStaff, (i) => `s${(i * 7) % STAFF}`, 300), perRequest(newStaff, (i) => `s${(i * 7) % STAFF}`, 30_000));
line('GET /department/api/me', perRequest(oldDepartment, (i) => `dept-${i % DEPARTMENTS}`, 300), perRequest(newDepartment, (i) => `dept-${i % DEPARTMENTS}`, 3_000));
console.log(`5,000 phones every 15 s: old ${((perRequest(oldStaff, (i) => `s${i % STAFF}`, 100) * (STAFF / 15)) / 1e4).toFixed(1)} % of a core, new ${((perRequest(newStaff, (i) => `s${i % STAFF}`, 10_000) * (STAFF / 15)) / 1e4).toFixed(3)} % of a core`);
