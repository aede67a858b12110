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
import { writeFileSync } from 'node:fs';
import type { Grid, KeyPersonsAnswer, Place, Staff } from '../../protocol';
import { startTestBackend, TEST_TOKENS } from '../../harness/backend';
import { backendImport } from '../../harness/import-cli';
import { makeTempDir } from '../../harness/temp';
import { WireClient, until } from '../../harness/wire-client';
import { writeSampleCity, type SampleFile } from '../../backend/import/sample-city';
import { GridLocator } from '../../domain';

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
  backend = await startTestBackend({ historyDays: 0, staffPerGrid: 0, scale: 0.05 });
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

    expect(backend.state.seq).toBe(seq);
    // Every attempt that reached the backend (the one without a token never left the command line).
    const refusals = audit().slice(-6);
    expect(refusals.map((a) => [a.user_id, a.detail.what, a.detail.outcome])).toEqual([
      ['dispatcher', 'staff', 'refused'],
      ['admin', 'staff', 'refused'],
      ['admin', 'staff', 'refused'],
      ['admin', 'staff', 'refused'],
      ['admin', 'secrets', 'refused'],
      ['admin', 'staff', 'refused'],
    ]);
  }, 120_000);
});
