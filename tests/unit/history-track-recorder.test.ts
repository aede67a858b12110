/**
 * The staff track recorder on a real SQLite store, fed positions as the relay broadcasts them: a point every 10
 * city seconds and at each status change, an offline point where someone went off duty (which is never
 * broadcast), hours cut at the hour, only changed buffers written (a failed write kept for the next), what is held
 * and not yet written laid over the store when read, a damaged row left out, and nothing recorded off the lead.
 */
import { describe, expect } from 'vitest';
import { join } from 'node:path';
import { CityState, upsert } from '../../domain';
import { STAFF_STATUS_CODES, type Staff, type StaffStatus } from '../../protocol';
import { SqliteStore } from '../../backend/store/sqlite-store';
import { SimClock } from '../../backend/clock';
import { silentLogger } from '../../node-util/logger';
import { TrackRecorder } from '../../backend/history/tracks';
import { hourOf } from '../../backend/history/track-codec';
import { OFFLINE_CODE, positionAt } from '../../backend/history/track-line';
import { it } from '../../harness/fixtures';

const T0 = Date.parse('2026-11-30T01:58:00Z');
const code = (s: StaffStatus): number => STAFF_STATUS_CODES.indexOf(s);
const staff = (id: string, status: StaffStatus, at: number): Staff => ({ id, name: id, phone: '', role: 'full-time', gridId: 'G1', districtId: 'D1', status, position: [118, 24], sipUser: id, openTasks: 0, updatedAt: new Date(at).toISOString() });

function setUp(dir: string, leading = () => true) {
  const store = new SqliteStore(join(dir, 'backend.sqlite'));
  const state = new CityState(undefined, 0);
  state.apply([upsert('staff', staff('S1', 'patrolling', T0)), upsert('staff', staff('S2', 'patrolling', T0))]);
  let wall = T0;
  const clock = new SimClock(1, T0, () => wall);
  const recorder = new TrackRecorder({ store, state, clock, log: silentLogger, keepDays: 1, leading, flushMs: 0 });
  /** Positions at city second `s` after T0: S1 walks east at 1 m/s, S2 stands (unless left out). */
  const tick = (s: number, statuses: Partial<Record<'S1' | 'S2', StaffStatus | null>> = {}): void => {
    wall = T0 + s * 1000;
    const items = (['S1', 'S2'] as const)
      .filter((id) => statuses[id] !== null)
      .map((id) => ({ id, lon: id === 'S1' ? 118 + (s * 1) / 101_000 : 118.5, lat: 24, status: statuses[id] ?? ('patrolling' as StaffStatus) }));
    recorder.saw(new Date(wall).toISOString(), items);
  };
  return { store, state, recorder, tick, close: () => store.close() };
}

describe('the staff track recorder', () => {
  it('takes a point every 10 city s and at each status change, and ends a track going offline where it was', async ({ dataDir, onTestFinished }) => {
    const r = setUp(dataDir);
    onTestFinished(r.close);
    for (let s = 0; s <= 60; s++) r.tick(s, { S1: s >= 33 && s < 45 ? 'handling' : 'patrolling', S2: s > 40 ? null : 'patrolling' });
    // S2 went off duty at 40.5 s (the record says so; the broadcast just stops).
    r.state.apply([upsert('staff', staff('S2', 'offline', T0 + 40_500))]);
    r.tick(61, { S2: null });
    r.tick(75, { S2: null });
    const { tracks } = await r.recorder.read(hourOf(T0), hourOf(T0));
    // Every 10 s, and 33 s (handling) and 45 s (patrolling again): all on the straight line east, so what
    // remains is the start, the status changes, and the open end.
    const s1 = tracks.get('S1')!;
    expect(s1.map((p) => [(p.t - T0) / 1000, p.code])).toEqual([
      [0, code('patrolling')],
      [33, code('handling')],
      [45, code('patrolling')],
      [75, code('patrolling')],
    ]);
    expect(r.recorder.stats.sampled).toBeGreaterThanOrEqual(8 + 2 + 5);
    const s2 = tracks.get('S2')!;
    expect(s2.at(-1)).toEqual({ t: T0 + 40_500, lon: 118.5, lat: 24, code: OFFLINE_CODE });
    expect(positionAt(s2, T0 + 40_000)).toMatchObject({ lon: 118.5, code: code('patrolling') });
    expect(positionAt(s2, T0 + 50_000)).toBeNull();
    // Along S1's line at any second: within the 2 m tolerance of where it was.
    for (let s = 0; s <= 61; s++) expect(Math.abs(positionAt(s1, T0 + s * 1000)!.lon - (118 + s / 101_000)) * 101_000).toBeLessThanOrEqual(2);
  });

  it('cuts tracks at the hour, writes only what changed, keeps a failed write for the next, and reads what it holds over the store', async ({ dataDir, onTestFinished }) => {
    const r = setUp(dataDir);
    onTestFinished(r.close);
    for (let s = 0; s < 100; s += 10) r.tick(s);
    expect(await r.recorder.flush()).toBe(2);
    expect(await r.recorder.flush()).toBe(0); // nothing changed
    // Over the hour (02:00 at 120 s): the first hour closes, the second opens.
    for (let s = 100; s <= 150; s += 10) r.tick(s, { S2: null });
    const put = r.store.putTracks;
    r.store.putTracks = async () => {
      throw new Error('disk full');
    };
    expect(await r.recorder.flush()).toBe(0);
    r.store.putTracks = put;
    // Not written yet, but read: the store's rows with what is held laid over them.
    expect((await r.store.tracksIn(0, 1e9)).map((row) => `${row.hour - hourOf(T0)}:${row.staffId}`).sort()).toEqual(['0:S1', '0:S2']);
    const held = await r.recorder.read(hourOf(T0), hourOf(T0) + 1);
    expect(held.tracks.get('S1')!.at(-1)!.t).toBe(T0 + 150_000);
    expect(await r.recorder.flush()).toBe(2); // S1's closed hour and its new one (S2 did not change)
    const rows = await r.store.tracksIn(0, 1e9);
    expect(rows.map((row) => `${row.hour - hourOf(T0)}:${row.staffId}`).sort()).toEqual(['0:S1', '0:S2', '1:S1']);
    const stored = await r.recorder.read(hourOf(T0), hourOf(T0) + 1);
    expect(stored.tracks.get('S1')!.map((p) => p.t)).toEqual(held.tracks.get('S1')!.map((p) => p.t));
    expect(stored.tracks.get('S1')!.filter((p) => hourOf(p.t) === hourOf(T0) + 1).length).toBeGreaterThan(0);
  });

  it('keeps the hour written before a restart (or by the instance that led before) in front of what it records after', async ({ dataDir, onTestFinished }) => {
    const first = setUp(dataDir);
    for (let s = 0; s <= 60; s += 10) first.tick(s);
    await first.recorder.stop();
    first.close();
    // Started again in the same hour: a new recorder on the same file.
    const again = setUp(dataDir);
    onTestFinished(again.close);
    for (let s = 90; s <= 100; s += 10) again.tick(s);
    const held = (await again.recorder.read(hourOf(T0), hourOf(T0))).tracks.get('S2')!;
    expect(held.map((p) => (p.t - T0) / 1000)).toEqual([0, 60, 90, 100]);
    expect(await again.recorder.flush()).toBe(2);
    const stored = (await again.recorder.read(hourOf(T0), hourOf(T0))).tracks;
    expect(stored.get('S2')!.map((p) => (p.t - T0) / 1000)).toEqual([0, 60, 90, 100]);
    // S1 walked on at the same pace: the line from before carries on (its old open end stays a point).
    expect(stored.get('S1')!.map((p) => (p.t - T0) / 1000)).toEqual([0, 60, 90, 100]);
    expect(positionAt(stored.get('S2')!, T0 + 75_000)).toMatchObject({ lon: 118.5 });
  });

  it('after a lead flap (A, then B, then A again) keeps what B recorded in between', async ({ dataDir, onTestFinished }) => {
    let aLeads = true;
    const a = setUp(dataDir, () => aLeads);
    onTestFinished(a.close);
    for (let s = 0; s <= 10; s += 10) a.tick(s);
    await a.recorder.flush();
    aLeads = false;
    a.tick(15); // the lead lost: what A holds is written once and dropped
    await a.recorder.flush();
    const b = setUp(dataDir);
    onTestFinished(b.close);
    for (let s = 20; s <= 30; s += 10) b.tick(s);
    await b.recorder.stop();
    aLeads = true;
    a.tick(40);
    await a.recorder.flush();
    const stored = (await b.recorder.read(hourOf(T0), hourOf(T0))).tracks;
    expect(stored.get('S2')!.map((p) => (p.t - T0) / 1000)).toEqual([0, 10, 20, 30, 40]);
  });

  it('leaves a damaged stored row out with a count, and records nothing while another instance leads', async ({ dataDir, onTestFinished }) => {
    let leading = true;
    const r = setUp(dataDir, () => leading);
    onTestFinished(r.close);
    for (let s = 0; s < 30; s += 10) r.tick(s);
    await r.recorder.flush();
    const [row] = await r.store.tracksIn(hourOf(T0), hourOf(T0), ['S1']);
    const bad = Buffer.from(row!.points);
    bad.writeUInt8(bad.readUInt8(bad.length - 6) ^ 0x01, bad.length - 6);
    await r.store.putTracks([{ ...row!, points: bad }]);
    const read = await r.recorder.read(hourOf(T0), hourOf(T0));
    expect(read.damaged).toBe(1);
    expect([...read.tracks.keys()]).toEqual(['S2']);
    leading = false;
    const before = r.recorder.stats.sampled;
    r.tick(60);
    expect(r.recorder.stats.sampled).toBe(before);
  });
});
