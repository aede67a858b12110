/**
 * The simulator on an imported city: the sample city's grids (GeoJSON in GCJ-02) and staff (a GBK roster)
 * imported with the real command line into a SQLite file, then the backend started on it with the simulator at a
 * fast clock. Its events land inside the imported grids (the grid named holds the point), none in a generated
 * grid; its staff patrol inside their own grid's polygon; a scripted scenario lands there too.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GovEvent, Grid, Staff } from '../../protocol';
import { pointInRing } from '../../domain';
import { startBackend, type RunningBackend } from '../../backend/index';
import { writeSampleCity } from '../../backend/import/sample-city';
import { backendImport } from '../../harness/import-cli';
import { WireClient, until } from '../../harness/wire-client';

const dir = mkdtempSync(join(tmpdir(), 'imported-city-sim-'));
const db = join(dir, 'backend.sqlite');
const TOKEN = 'tok-imported-sim-dispatcher';
let backend: RunningBackend;

/** Inside the ring, or within about a metre of it (positions are rounded to 1e-6°). */
const inside = (p: [number, number], grid: Grid): boolean =>
  pointInRing(p, grid.polygon) || [[1e-5, 0], [-1e-5, 0], [0, 1e-5], [0, -1e-5]].some(([dx, dy]) => pointInRing([p[0] + dx!, p[1] + dy!], grid.polygon));

beforeAll(async () => {
  // The backend's first start sets the database up (the generated city), as an operator's would.
  const first = await startBackend({ dbFile: db, simulate: false, historyDays: 0, tokens: { dispatcher: TOKEN }, tokensFile: null, kpiIntervalMs: 600_000 });
  await first.close();
  const files = await writeSampleCity(join(dir, 'city'));
  for (const args of [['grids', files.grids, '--crs', 'gcj02'], ['staff', files.staff]]) {
    const run = await backendImport([...args, '--db', db]);
    expect(run.code, run.stdout + run.stderr).toBe(0);
  }
  backend = await startBackend({ dbFile: db, simulate: true, speed: 10_000, tickMs: 250, historyDays: 0, tokens: { dispatcher: TOKEN }, tokensFile: null, kpiIntervalMs: 600_000 });
}, 120_000);

afterAll(async () => {
  await backend?.close();
  rmSync(dir, { recursive: true, force: true });
}, 30_000);

describe('the simulator on an imported city', () => {
  it('makes its events inside the imported grids and keeps staff patrolling inside their own grid', async () => {
    const grids = new Map([...backend.state.all('grids')].map((g) => [g.id, g]));
    expect(grids.size).toBe(16);
    expect([...grids.keys()].every((id) => /^g3799\d{11}$/.test(id))).toBe(true);
    expect([...backend.state.all('staff')].every((s) => grids.has(s.gridId))).toBe(true);
    const client = new WireClient({ url: backend.url, token: TOKEN });
    await client.waitSynced();
    const known = new Set(client.all<GovEvent>('events').map((e) => e.id));
    const fresh = (): GovEvent[] => client.all<GovEvent>('events').filter((e) => !known.has(e.id));
    await until(() => fresh().length >= 2, 'simulated events on the imported city', 60_000);
    await until(() => client.positions.some((f) => f.items.length > 0), 'staff positions', 30_000);
    // A scripted burst lands in the imported grids too.
    const district = [...grids.values()][0]!.districtId;
    const scenario = await backend.injectScenario('flood', district);
    expect(scenario.length).toBeGreaterThan(10);
    for (const id of scenario) known.delete(id);
    await until(() => scenario.every((id) => client.get<GovEvent>('events', id)), 'the scenario events', 10_000);

    for (const event of fresh()) {
      const grid = grids.get(event.gridId);
      expect(grid, `${event.id} in ${event.gridId}`).toBeDefined();
      expect(inside(event.location, grid!), `${event.id} at ${event.location.join(',')} inside ${grid!.id}`).toBe(true);
      expect(backend.state.get('rules', event.category), event.category).toBeDefined();
    }
    expect(scenario.every((id) => client.get<GovEvent>('events', id)!.districtId === district)).toBe(true);

    let checked = 0;
    for (const frame of client.positions)
      for (const [id, lon, lat] of frame.items) {
        const staff = client.get<Staff>('staff', id)!;
        const grid = grids.get(staff.gridId)!;
        expect(inside([lon, lat], grid), `${id} at ${lon},${lat} inside its grid ${grid.id}`).toBe(true);
        checked++;
      }
    expect(checked).toBeGreaterThan(0);
    // They move: some member of staff is seen at two different places.
    const seen = new Map<string, Set<string>>();
    for (const frame of client.positions) for (const [id, lon, lat] of frame.items) (seen.get(id) ?? seen.set(id, new Set()).get(id)!).add(`${lon},${lat}`);
    expect([...seen.values()].some((places) => places.size > 1)).toBe(true);
    expect(client.gaps).toEqual([]);
    client.close();
  }, 120_000);
});
