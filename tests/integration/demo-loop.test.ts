/**
 * 迎检: the show that runs itself. A backend with the simulator and the demo loop injects the scripted incidents in
 * turn (暴雨内涝, 人员聚集, 火灾隐患, 交通事故), each in the next district, through the simulated people's real routes;
 * the simulated desk, departments and staff then work them through the loop to closure, and the simulated duty
 * officer acknowledges their alarms. A loop faster than every 10 s is refused.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestBackend } from '../../harness/backend';
import { lastBeijingTime } from '../../backend/live-simulator/timing';
import { until } from '../../harness/wire-client';
import { SCENARIO_KINDS } from '../../backend/live-simulator/reports';

let backend: Awaited<ReturnType<typeof startTestBackend>>;

beforeAll(async () => {
  // A loop that never fires by itself here (the test takes each turn): an hour between incidents.
  backend = await startTestBackend({ simulate: true, speed: 2000, tickMs: 200, kpiIntervalMs: 600_000, historyDays: 0, demoLoopMs: 3_600_000, startAtMs: lastBeijingTime(9, 0, Date.now()) });
}, 120_000);
afterAll(async () => {
  await backend?.close();
  backend?.cleanup();
}, 30_000);

describe('迎检: the demo loop', () => {
  it('injects each kind in turn in the next district, and the simulated people close them and acknowledge the alarms', async () => {
    await until(() => backend.leading(), 'the lead');
    const turns = [];
    for (let i = 0; i < SCENARIO_KINDS.length; i++) turns.push(await backend.demoLoop!.next());
    expect(new Set(turns.map((t) => t?.kind))).toEqual(new Set(['flood', 'crowd', 'fire', 'traffic']));
    const districts = turns.map((t) => t!.districtId);
    expect(new Set(districts).size).toBe(Math.min(4, [...backend.state.all('adminUnits')].filter((u) => u.level === 'district').length));
    const ids = turns.flatMap((t) => t!.ids);
    expect(ids.length).toBeGreaterThan(30);
    for (const t of turns) for (const id of t!.ids) expect(backend.state.get('events', id)!.districtId).toBe(t!.districtId);
    // Worked to closure by the simulated people (2000×: a city day in 43 s), their alarms acknowledged or gone.
    const closed = () => ids.filter((id) => ['closed', 'merged'].includes(backend.state.get('events', id)!.status)).length;
    await until(() => closed() >= ids.length * 0.8, `most of the ${ids.length} incidents closed (${closed()} so far)`, 90_000);
    const ackedBySim = [...backend.state.all('alarms')].filter((a) => a.ackedById === 'sim:duty-officer').length;
    const ringingOld = [...backend.state.all('alarms')].filter((a) => a.ackedAt === null && Date.parse(a.raisedAt) < backend.clock.nowMs() - 10 * 60_000);
    expect(ringingOld).toEqual([]);
    expect(ackedBySim + closed()).toBeGreaterThan(0);
  }, 150_000);

  it('refuses a loop faster than every 10 s', async () => {
    await expect(startTestBackend({ simulate: true, demoLoopMs: 1000, historyDays: 0 })).rejects.toThrow(/at least 10 s/);
  });
});
