/**
 * Users' district scopes after `import grids`, on a real SQLite file and a real PostgreSQL: the import warns of the
 * user whose scope names generated districts (d01) that are gone; `users scope` sets it by the imported districts'
 * codes or names (unknown ones refused, nothing changed), `users list` shows it (never a token), and the user sees
 * the staff of their districts at their next sign-in.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Staff } from '../../protocol';
import { startBackend } from '../../backend/index';
import { writeSampleCity } from '../../backend/import/sample-city';
import { backendImport, forEachStore, type ImportRun } from '../../harness/import-cli';
import { WireClient } from '../../harness/wire-client';

const dir = mkdtempSync(join(tmpdir(), 'user-scopes-it-'));
const root = join(import.meta.dirname, '../..');

function users(args: string[]): Promise<ImportRun> {
  return new Promise((done) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'backend/cli.ts'), 'users', ...args], { cwd: root, env: { ...process.env, ZONGZHI_DATABASE_URL: '' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d));
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    child.on('close', (code) => done({ code: code ?? -1, stdout, stderr }));
  });
}

const TOKENS = { dispatcher: 'tok-scope-dispatcher', 'dispatcher-d01': 'tok-scope-dispatcher-d01' };

function suite(kind: string, database: () => Promise<string>): void {
  describe(kind, () => {
    let db: string;
    const config = (): Parameters<typeof startBackend>[0] => ({
      ...(kind === 'postgresql' ? { databaseUrl: db, dbFile: join(dir, 'pg', 'backend.sqlite') } : { dbFile: join(dir, 'backend.sqlite') }),
      simulate: false,
      historyDays: 0,
      tokens: TOKENS,
      tokensFile: null,
      kpiIntervalMs: 600_000,
    });
    beforeAll(async () => {
      db = await database();
      await (await startBackend(config())).close();
    }, 120_000);

    it('warns of the lost scope at import, sets it by code or name, refuses unknown districts, lists users without tokens', async () => {
      const files = await writeSampleCity(join(dir, `${kind}-city`));
      const run = await backendImport(['grids', files.grids, '--crs', 'gcj02', '--db', db]);
      expect(run.code, run.stdout + run.stderr).toBe(0);
      expect(run.stdout).toMatch(/警告 warning: 用户 dispatcher-d01.*辖区 d01 在导入后不存在.*看不到任何数据.*user dispatcher-d01 .*d01.*will see nothing/);
      expect((await backendImport(['staff', files.staff, '--db', db])).code).toBe(0);

      const bad = await users(['scope', 'dispatcher-d01', '379901', 'd01', '北城区', '--db', db]);
      expect(bad.code).toBe(4);
      expect(bad.stderr).toContain('不是已有的区县：d01、北城区；现有区县：379901 东城区、379902 西城区');
      expect(bad.stderr).toContain('not a stored district: d01, 北城区');
      expect((await users(['scope', 'nobody', 'all', '--db', db])).stderr).toMatch(/没有用户 nobody.*no user nobody/);
      let list = await users(['list', '--db', db]);
      expect(list.stdout).toMatch(/dispatcher-d01\t.*\tdispatcher\t辖区 scope: d01（不存在 missing）/);

      const set = await users(['scope', 'dispatcher-d01', '西城区', '--db', db]);
      expect(set.code, set.stderr).toBe(0);
      expect(set.stdout).toContain('379902 西城区');
      expect(set.stdout).toContain('next sign-in');
      list = await users(['list', '--db', db, '--json']);
      const listed = JSON.parse(list.stdout) as Array<Record<string, unknown>>;
      expect(listed.find((u) => u.id === 'dispatcher-d01')).toEqual({ id: 'dispatcher-d01', name: expect.any(String), role: 'dispatcher', districtScope: ['d379902'] });
      expect(list.stdout).not.toMatch(/token|tok-scope/i);
      expect((await users(['list', '--db', db])).stdout).not.toMatch(/tok-scope|[0-9a-f]{64}/);

      // Set while the backend is stopped; a backend started again (with its tokens given) keeps it: the user signs
      // in and sees the staff of their district only.
      expect((await users(['scope', 'dispatcher-d01', '379902', '--db', db])).code).toBe(0);
      const backend = await startBackend(config());
      try {
        const client = new WireClient({ url: backend.url, token: TOKENS['dispatcher-d01'] });
        await client.waitSynced();
        const staff = client.all<Staff>('staff');
        expect(staff.length).toBe(16);
        expect(staff.every((s) => s.districtId === 'd379902')).toBe(true);
        client.close();
      } finally {
        await backend.close();
      }
      const usage = await users(['scope', 'dispatcher-d01', '--db', db]);
      expect(usage.code).toBe(2);

      // Streets and communities too: an unknown code is refused with what exists (9- and 12-digit codes), a
      // street set by its code and a community by its name; the list says each unit's level.
      const unknown = await users(['scope', 'dispatcher-d01', '379909001', '--db', db]);
      expect(unknown.code).toBe(4);
      const streetCode = /街道：(\d{9}) /.exec(unknown.stderr)?.[1];
      const community = /社区：\d{12} (\S+?)[、（]/.exec(unknown.stderr)?.[1];
      expect(streetCode, unknown.stderr).toBeDefined();
      expect(community, unknown.stderr).toBeDefined();
      const set2 = await users(['scope', 'dispatcher-d01', streetCode!, community!, '--db', db]);
      expect(set2.code, set2.stderr).toBe(0);
      list = await users(['list', '--db', db]);
      expect(list.stdout).toMatch(new RegExp(`dispatcher-d01\\t.*辖区 scope: ${streetCode} \\S+（街道 street）、\\d{12} ${community}（社区 community）`));
    }, 120_000);
  });
}

forEachStore(dir, suite);
