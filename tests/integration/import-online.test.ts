/**
 * An administrator's import into a running backend (`import … --server URL`, POST /admin/import/<what>): the
 * sample city's files go through the real command line to a real backend, which checks and writes them through its
 * command pipeline — a console already signed in gets the new grids, staff, places… as deltas, with no restart —
 * and every attempt is in the audit. Refusals: not the administrator, no token, a bad file (its report, nothing
 * written), a file over the limit, a form that is not one. One backend (SQLite) for the whole file.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import type { Grid, KeyPersonsAnswer, Place, Staff } from '../../protocol';
import { startTestBackend, TEST_TOKENS } from '../../harness/backend';
import { backendImport } from '../../harness/import-cli';
import { makeTempDir, waitFor } from '../../harness/temp';
import { WireClient, until } from '../../harness/wire-client';
import { writeSampleCity, type SampleFile } from '../../backend/import/sample-city';
import { samplePersonRows } from '../../backend/import/sample-registers';
import { GridLocator } from '../../domain';
import { workerReader } from '../../backend/import/read-worker';
import { readImport } from '../../backend/import/prepare';
import { PROJECT_ROOT as ROOT } from '../../harness/browser';

let backend: Awaited<ReturnType<typeof startTestBackend>>;
let files: Record<SampleFile, string>;
let console_: WireClient;
const temp = makeTempDir('zongzhi-import-online-');
const adminTokens = join(temp.dir, 'tokens.json');
const dispatcherToken = join(temp.dir, 'dispatcher.token');
const http = (): string => backend.url.replace(/^ws/, 'http').replace(/\/ws$/, '');
const server = (...args: string[]): string[] => [...args, '--server', backend.url, '--token-file', adminTokens];

function audit(): Array<{ user_id: string | null; kind: string; detail: Record<string, unknown> }> {
  const db = new Database(join(backend.dir, 'backend.sqlite'), { readonly: true });
  try {
    return db
      .prepare<[], { user_id: string | null; kind: string; detail: string }>("SELECT user_id, kind, detail FROM audit WHERE kind = 'import' ORDER BY id")
      .all()
      .map((r) => ({ ...r, detail: JSON.parse(r.detail) as Record<string, unknown> }));
  } finally {
    db.close();
  }
}

beforeAll(async () => {
  // A generated city with no staff and no history: nothing of it holds on to what the files replace.
  backend = await startTestBackend({ historyDays: 0, staffPerGrid: 0, scale: 0.05, kpiIntervalMs: 3_600_000 });
  files = await writeSampleCity(join(temp.dir, 'city'));
  // The backend's tokens.json as an administrator has it (the "admin" entry is used); a dispatcher's token alone.
  writeFileSync(adminTokens, JSON.stringify(TEST_TOKENS));
  writeFileSync(dispatcherToken, TEST_TOKENS.dispatcher + '\n');
  console_ = new WireClient({ url: backend.url, token: TEST_TOKENS.dispatcher });
  await console_.waitSynced();
}, 60_000);

afterAll(async () => {
  console_?.close();
  await backend?.close();
  backend?.cleanup();
  temp.cleanup();
});

describe('import into a running backend (--server)', () => {
  it('the sample city, file by file: a signed-in console gets each as deltas, and the audit has each', async () => {
    const grids = await backendImport(server('grids', files.grids, '--crs', 'gcj02', '--parents', files.boundaries));
    expect(grids.stderr).toBe('');
    expect(grids.code).toBe(0);
    expect(grids.stdout).toContain('GCJ-02');
    expect(grids.stdout).toMatch(/已导入.*变更批次 \d+/);
    // The user scoped to the generated district d01 is named in the report.
    expect(grids.stdout).toContain('dispatcher-d01');
    await until(() => console_.all<Grid>('grids').length === 16 && console_.get<Grid>('grids', 'g379901001001001') !== undefined, 'the imported grids at the console', 15_000);
    expect(backend.state.get('grids', 'g379901001001001')?.name).toBe('东城区第1街道1社区第1网格');
    // The generated city's resources are not the real city's: each kept only inside an imported grid, by position.
    expect(grids.stdout).toMatch(/设施.*已按位置重新归入导入的网格 \d+ 个，不在任何导入网格内的 [1-9]\d* 个已移除/);
    // The generated cameras are still there until the city's list is imported: said, not touched.
    expect(grids.stdout).toMatch(/警告 warning: \d+ 个摄像头不在所属的导入网格内.*import cameras/);
    const locator = new GridLocator(backend.state.all('grids'));
    expect([...backend.state.all('resources')].every((r) => locator.at(r.position)?.id === r.gridId)).toBe(true);

    for (const [what, extra] of [
      ['staff', []],
      ['cameras', ['--crs', 'gcj02']],
      ['departments', ['--rules', files.rules]],
      ['population', []],
      ['places', ['--crs', 'gcj02']],
      ['persons', []],
    ] as const) {
      const run = await backendImport(server(what, files[what], ...extra));
      expect(run.code, `${what}: ${run.stdout}${run.stderr}`).toBe(0);
      expect(run.stdout).toContain('已导入');
    }
    await until(() => console_.all<Staff>('staff').length === 32 && console_.all<Place>('places').length === 16, 'the imported staff and places at the console', 15_000);
    const grid = console_.get<Grid>('grids', 'g379901001001001')!;
    expect(grid.households).toBeGreaterThan(0);
    expect(console_.all<Place>('places').every((p) => console_.get<Grid>('grids', p.gridId) !== undefined)).toBe(true);

    // The register went to the store only: the leader reads it over HTTP, the console never got it.
    const answer = (await (await fetch(`${http()}/city/key-persons?level=grid&id=g379901001001001`, { headers: { Authorization: `Bearer ${TEST_TOKENS.leader}` } })).json()) as KeyPersonsAnswer;
    expect(answer.total).toBeGreaterThan(0);
    expect(answer.revealed).toBe(true);

    const imports = audit().filter((a) => a.detail.via === 'http');
    expect(imports.map((a) => [a.user_id, a.detail.what, a.detail.outcome])).toEqual(
      ['grids', 'staff', 'cameras', 'departments', 'population', 'places', 'persons'].map((what) => ['admin', what, 'imported']),
    );
  }, 120_000);

  it('refuses whoever is not the administrator, a bad file (its report, nothing written), an oversized file, a bad form', async () => {
    const seq = backend.state.seq;
    const dispatcher = await backendImport(['staff', files.staff, '--server', backend.url, '--token-file', dispatcherToken]);
    expect(dispatcher.code).toBe(3);
    expect(dispatcher.stderr).toContain('只有系统管理员');

    const noToken = await backendImport(['staff', files.staff, '--server', backend.url]);
    expect(noToken.code).toBe(2);
    expect(noToken.stderr).toContain('ZONGZHI_ADMIN_TOKEN');

    // A roster naming a grid the city does not have: the report says which line, nothing is written.
    const bad = join(temp.dir, 'bad-staff.csv');
    writeFileSync(bad, '工号,姓名,手机号码,网格编码,角色\nWG9001,测试甲,13800000001,379901001001001,专职网格员\nWG9002,测试乙,13800000002,379999999999999,专职网格员\n');
    const refused = await backendImport(server('staff', bad));
    expect(refused.code).toBe(4);
    expect(refused.stdout).toContain('第3行');
    expect(refused.stdout).toContain('379999999999999');
    expect(refused.stdout).toContain('未写入任何数据');

    const tooLarge = await backendImport(server('staff', files.staff, '--max-mb', '0.0001'));
    expect(tooLarge.code).toBe(4);
    expect(tooLarge.stdout).toContain('未写入任何数据');

    const notForm = await fetch(`${http()}/admin/import/staff`, { method: 'POST', headers: { Authorization: `Bearer ${TEST_TOKENS.admin}`, 'Content-Type': 'text/csv' }, body: 'a,b\n' });
    expect(notForm.status).toBe(415);
    const unknown = await fetch(`${http()}/admin/import/secrets`, { method: 'POST', headers: { Authorization: `Bearer ${TEST_TOKENS.admin}` } });
    expect(unknown.status).toBe(404);
    const form = new FormData();
    form.append('file', new File(['x'], '../../etc/passwd'));
    const badName = await fetch(`${http()}/admin/import/staff`, { method: 'POST', headers: { Authorization: `Bearer ${TEST_TOKENS.admin}` }, body: form });
    expect(badName.status).toBe(400);
    expect(await badName.text()).toContain('文件类型');

    // Declared larger than the route takes: refused before a byte of it is read.
    const huge = await rawUpload('/admin/import/staff', { 'Content-Type': 'multipart/form-data; boundary=x', 'Content-Length': String(200 * 1024 * 1024) }, 'partial', false);
    expect(huge.status).toBe(413);

    expect(backend.state.seq).toBe(seq);
    // Every attempt that reached the backend (the one without a token never left the command line).
    const refusals = audit().slice(-7, -1);
    expect(refusals.map((a) => [a.user_id, a.detail.what, a.detail.outcome])).toEqual([
      ['dispatcher', 'staff', 'refused'],
      ['admin', 'staff', 'refused'],
      ['admin', 'staff', 'refused'],
      ['admin', 'staff', 'refused'],
      ['admin', 'secrets', 'refused'],
      ['admin', 'staff', 'refused'],
    ]);
  }, 120_000);

  it('an upload cut off halfway leaves the route free; a file name with a path in it is only a name', async () => {
    // Headers, half a body, then the client is gone: the backend notices, audits it, and frees the route.
    const audited = audit().length;
    const cut = await rawUpload('/admin/import/staff', { 'Content-Type': 'multipart/form-data; boundary=x', 'Content-Length': '100000' }, '--x\r\nContent-Disposition: form-data; name="file"; filename="a.csv"\r\n\r\n工号', true);
    expect(cut.status).toBe(0);
    await waitFor(() => audit().length === audited + 1, 'the cut upload audited', 10_000);
    expect(audit().at(-1)?.detail).toMatchObject({ outcome: 'refused', status: 400 });
    const form = new FormData();
    form.append('file', new File([readFileSync(files.staff)], '../../outside/花名册.csv'));
    form.append('options', JSON.stringify({ dryRun: true }));
    const named = await fetch(`${http()}/admin/import/staff`, { method: 'POST', headers: { Authorization: `Bearer ${TEST_TOKENS.admin}` }, body: form });
    const answer = (await named.json()) as { outcome: string; report: { file: string } };
    expect(named.status).toBe(200);
    expect(answer).toMatchObject({ outcome: 'dry-run', report: { file: '花名册.csv' } });
  }, 60_000);

  it('a worker thread reads and checks what the serving thread would (the backend process reads uploads there)', async () => {
    const files_ = { file: files.grids, parents: files.boundaries };
    const inWorker = await workerReader(join(ROOT, 'backend/cli.ts'), ['--import', 'tsx'])('grids', files_, { crs: 'gcj02' });
    const here = await readImport('grids', files_, { crs: 'gcj02' });
    expect(inWorker.what).toBe('grids');
    expect(inWorker).toEqual(here);
    await expect(workerReader(join(ROOT, 'backend/cli.ts'), ['--import', 'tsx'])('staff', { file: join(temp.dir, 'missing.csv') }, {})).rejects.toThrow(/missing\.csv/);
  }, 60_000);

  // Last: it changes the city the other cases use.
  it('a grid import that drops grids says how many register rows it leaves behind', async () => {
    const collection = JSON.parse(readFileSync(files.grids, 'utf8')) as { features: Array<{ properties: { WGBM: string } }> };
    const dropped = collection.features.filter((f) => f.properties.WGBM.startsWith('379902002'));
    const smaller = join(temp.dir, 'smaller.geojson');
    writeFileSync(smaller, JSON.stringify({ ...collection, features: collection.features.filter((f) => !dropped.includes(f)) }));
    const persons = samplePersonRows().slice(1).filter((r) => String(r[3]).startsWith('379902002')).length;
    expect(persons).toBeGreaterThan(0);
    const run = await backendImport(server('grids', smaller, '--crs', 'gcj02'));
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.stdout).toContain(`重点人员登记表中有 ${persons} 人所属的网格已不在导入的网格中`);
  }, 60_000);
});

/** A request written by hand: `cut` sends the headers and `body`, then drops the connection without waiting. */
function rawUpload(path: string, headers: Record<string, string>, body: string, cut: boolean): Promise<{ status: number }> {
  return new Promise((resolve) => {
    const url = new URL(http());
    const req = request({ host: url.hostname, port: url.port, path, method: 'POST', headers: { Authorization: `Bearer ${TEST_TOKENS.admin}`, ...headers } });
    req.on('response', (res) => {
      res.resume();
      resolve({ status: res.statusCode ?? 0 });
    });
    req.on('error', () => resolve({ status: 0 }));
    req.write(body);
    if (cut) setTimeout(() => req.destroy(), 200);
  });
}
