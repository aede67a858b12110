/**
 * The reference backend on PostgreSQL (a real server this file starts): the city seeded into it on the first
 * start, a command applied and audited, a restart that keeps state and sequence so a console resumes with
 * deltas; and the command line's refusals — an unreachable database, a database of a newer schema — as one
 * line and an exit code, never a crash.
 */
import { PG_MIGRATIONS } from '../../backend/store/pg-migrations';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import pg from 'pg';
import type { Grid } from '../../protocol';
import { parseRefusal } from '../../node-util/backend-refusal';
import { PgStore } from '../../backend/store/pg-store';
import { TEST_TOKENS } from '../../harness/backend';
import { backendArgs } from '../../harness/backend-process';
import { WireClient } from '../../harness/wire-client';
import { startPostgres, type RunningPostgres } from '../../harness/postgres';
import { it } from '../../harness/fixtures';

let postgres: RunningPostgres;
beforeAll(async () => {
  postgres = await startPostgres();
}, 60_000);
afterAll(async () => {
  await postgres?.stop();
});

describe('the backend on PostgreSQL', () => {
  it('seeds the city there, applies and audits a command, and keeps state and sequence across a restart', async ({ startBackend }) => {
    const databaseUrl = postgres.createDatabase('city');
    const first = await startBackend({ databaseUrl });
    const c = new WireClient({ url: first.url, token: TEST_TOKENS.dispatcher, clientId: 'pg-client-1' });
    await c.waitSynced();
    const grid = c.all<Grid>('grids')[0]!;
    expect(c.all<Grid>('grids').length).toBe(first.city.grids.length);
    const ack = await c.command('event.report', { source: 'hotline', category: 'noise', severity: 1, title: '夜间施工噪音', description: '', location: grid.center });
    const seq = c.seq;
    c.close();
    await first.close();

    const db = new pg.Client({ connectionString: databaseUrl });
    await db.connect();
    const audited = await db.query<{ n: string }>("SELECT COUNT(*)::text AS n FROM audit WHERE kind = 'command' AND detail->>'type' = 'event.report'");
    const events = await db.query<{ n: string }>("SELECT COUNT(*)::text AS n FROM entities WHERE collection = 'events' AND id = $1", [String(ack.result.eventId)]);
    await db.end();
    expect(audited.rows[0]?.n).toBe('1');
    expect(events.rows[0]?.n).toBe('1');

    const second = await startBackend({ databaseUrl }, 'second');
    expect(second.state.seq).toBeGreaterThanOrEqual(seq);
    const again = new WireClient({ url: second.url, token: TEST_TOKENS.dispatcher, clientId: 'pg-client-1', lastSeq: seq });
    await again.waitSynced();
    expect(again.welcome?.sync).toBe('deltas');
    expect(second.state.collections.events.has(String(ack.result.eventId))).toBe(true);
    again.close();
  }, 60_000);

  it('refuses an unreachable database and one of a newer schema with one line and an exit code', async ({ dataDir }) => {
    const run = (db: string): { status: number | null; refusal: { code: string; message: string } | null } => {
      // Run from the test's temp dir (a URL puts tokens.json in ./data/), so tsx is named by its full address.
      const args = backendArgs(db, ['--no-sim', '--history-days', '0', '--sip', 'off']);
      args[1] = import.meta.resolve('tsx');
      const result = spawnSync(process.execPath, args, { cwd: dataDir, encoding: 'utf8', timeout: 60_000 });
      const last = result.stderr.trim().split('\n').at(-1) ?? '';
      return { status: result.status, refusal: parseRefusal(last) };
    };
    const unreachable = run(`postgres://zongzhi:s3cret@127.0.0.1:${postgres.port + 1}/city`);
    expect(unreachable.status).toBe(1);
    expect(unreachable.refusal?.code).toBe('start-failed');
    expect(unreachable.refusal?.message).toMatch(/^cannot reach the database at postgres:\/\/zongzhi@127\.0\.0\.1:\d+\/city: /);
    expect(unreachable.refusal?.message).not.toContain('s3cret');

    // A database a later release migrated: ours, with a version this backend does not know.
    const newer = postgres.createDatabase('from_the_future');
    await (await PgStore.open(newer)).close();
    const db = new pg.Client({ connectionString: newer });
    await db.connect();
    // One past the newest this backend knows (a fixed number would collide with the next migration).
    await db.query('INSERT INTO schema_migrations (version, description) VALUES ($1, $2)', [PG_MIGRATIONS.length + 1, 'a later release']);
    await db.end();
    const refused = run(newer);
    expect(refused.status).toBe(3);
    expect(refused.refusal).toMatchObject({ code: 'database-newer', message: expect.stringContaining(`schema version ${PG_MIGRATIONS.length + 1}, newer than this backend knows`) });
  }, 90_000);
});
