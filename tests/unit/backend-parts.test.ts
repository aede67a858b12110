import { describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { SqliteStore, migrate } from '../../backend/store/sqlite-store';
import { StoreOpenError, checkDatabaseFile } from '../../backend/store/open-check';
import { statSync, truncateSync, writeFileSync } from 'node:fs';
import { BACKEND_MIGRATIONS } from '../../backend/store/migrations';
import { SimClock } from '../../backend/clock';
import { TokenBucket } from '../../backend/rate-limit';
import { ratio, periodStart } from '../../backend/kpi';
import { poisson } from '../../backend/live-simulator/timing';
import { MinHeap } from '../../backend/live-simulator/heap';
import { Rng } from '../../backend/city-generator/random';
import { makeTempDir } from '../../harness/temp';

describe('backend store migrations', () => {
  it('migration 1 creates the schema and sets user_version', () => {
    const db = new Database(':memory:');
    expect(migrate(db, BACKEND_MIGRATIONS.slice(0, 1))).toBe(1);
    expect(db.pragma('user_version', { simple: true })).toBe(1);
    const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all().map((r) => (r as { name: string }).name);
    expect(tables).toEqual(expect.arrayContaining(['entities', 'changes', 'commands', 'audit', 'users', 'meta']));
    expect(migrate(db, BACKEND_MIGRATIONS.slice(0, 1))).toBe(1); // idempotent
  });

  it("migration 2 moves each event's history into records of its own and drops the change log of the old shape", () => {
    const db = new Database(':memory:');
    migrate(db, BACKEND_MIGRATIONS.slice(0, 1));
    const entry = (action: string, actor: string): Record<string, string> => ({ at: '2026-11-30T01:00:00.000Z', actor, actorName: actor, action });
    const events = [
      { id: 'E1', districtId: 'd01', timeline: [entry('report', 'sim:s1'), entry('accept', 'dispatcher'), entry('comment', 'duty'), entry('comment', 'dispatcher')] },
      { id: 'E2', districtId: 'd02', timeline: [] },
    ];
    for (const e of events) db.prepare("INSERT INTO entities (collection, id, data) VALUES ('events', ?, ?)").run(e.id, JSON.stringify(e));
    db.prepare("INSERT INTO entities (collection, id, data) VALUES ('staff', 's1', '{}')").run();
    db.prepare("INSERT INTO changes (seq, at, changes) VALUES (7, 'x', '[]'), (8, 'x', '[]')").run();
    expect(migrate(db, BACKEND_MIGRATIONS.slice(0, 2))).toBe(2);
    const rows = (collection: string): Array<Record<string, unknown>> => db.prepare<[string], { data: string }>('SELECT data FROM entities WHERE collection = ? ORDER BY id').all(collection).map((r) => JSON.parse(r.data) as Record<string, unknown>);
    expect(rows('events')).toEqual([
      { id: 'E1', districtId: 'd01', timelineCount: 4, actors: ['sim:s1', 'duty', 'dispatcher'] },
      { id: 'E2', districtId: 'd02', timelineCount: 0, actors: [] },
    ]);
    expect(rows('timeline')).toEqual(events[0]!.timeline.map((t, index) => ({ ...t, id: `E1.000${index}`, eventId: 'E1', districtId: 'd01', index })));
    expect(rows('staff')).toEqual([{}]);
    expect(db.prepare('SELECT COUNT(*) AS n FROM changes').get()).toEqual({ n: 0 });
    expect(db.prepare("SELECT value FROM meta WHERE key = 'baseSeq'").get()).toEqual({ value: '8' });
  });

  it('migration 3 adds the key-person register (a table of its own, one row per ID number)', () => {
    const db = new Database(':memory:');
    migrate(db, BACKEND_MIGRATIONS.slice(0, 2));
    db.prepare("INSERT INTO entities (collection, id, data) VALUES ('staff', 's1', '{}')").run();
    expect(migrate(db, BACKEND_MIGRATIONS.slice(0, 3))).toBe(3);
    const insert = db.prepare("INSERT INTO key_persons (id, grid_id, id_number, data) VALUES (?, 'g1', ?, '{}')");
    insert.run('k1', '110101198001011237');
    expect(() => insert.run('k2', '110101198001011237')).toThrow(/UNIQUE/);
    expect(db.prepare('SELECT COUNT(*) AS n FROM entities').get()).toEqual({ n: 1 });
  });

  it('migration 4 adds passwords, lockout and disabled users (token-only users keep working) and a sessions table', () => {
    const db = new Database(':memory:');
    migrate(db, BACKEND_MIGRATIONS.slice(0, 3));
    db.prepare("INSERT INTO users (id, name, role, district_scope, token_hash) VALUES ('u1', '调度员', 'dispatcher', NULL, 'h1')").run();
    expect(migrate(db, BACKEND_MIGRATIONS.slice(0, 4))).toBe(4);
    expect(db.prepare("SELECT password_hash, failed_logins, locked_until, disabled FROM users WHERE id = 'u1'").get()).toEqual({ password_hash: null, failed_logins: 0, locked_until: null, disabled: 0 });
    const insert = db.prepare("INSERT INTO sessions (token_hash, user_id, client_id, created_at, expires_at, idle_expires_at, last_used_at) VALUES (?, ?, 'c', 't', 't', 't', 't')");
    insert.run('s1', 'u1');
    expect(() => insert.run('s1', 'u1')).toThrow(/UNIQUE|PRIMARY/);
  });

  it('migration 5 links accounts to a department or a staff record (one account per staff member), and adds API keys and failures of unknown names', () => {
    const db = new Database(':memory:');
    migrate(db, BACKEND_MIGRATIONS.slice(0, 4));
    db.prepare("INSERT INTO users (id, name, role, district_scope, token_hash) VALUES ('u1', '调度员', 'dispatcher', NULL, 'h1')").run();
    expect(migrate(db, BACKEND_MIGRATIONS.slice(0, 5))).toBe(5);
    expect(db.prepare("SELECT department_id, staff_id FROM users WHERE id = 'u1'").get()).toEqual({ department_id: null, staff_id: null });
    const user = db.prepare("INSERT INTO users (id, name, role, district_scope, token_hash, staff_id) VALUES (?, '网格员', 'field', NULL, ?, ?)");
    user.run('f1', 'h2', 's1');
    user.run('f2', 'h3', null);
    user.run('f3', 'h4', null);
    expect(() => user.run('f4', 'h5', 's1')).toThrow(/UNIQUE/);
    const key = db.prepare("INSERT INTO api_keys (id, name, source, key_hash, rate_per_minute, created_at, created_by) VALUES (?, '12345', 'hotline', ?, 600, 't', 'admin')");
    key.run('k1', 'kh1');
    expect(() => key.run('k2', 'kh1')).toThrow(/UNIQUE/);
    db.prepare("INSERT INTO sign_in_failures (login, failed, updated_at) VALUES ('nobody', 1, 't')").run();
    expect(db.prepare('SELECT COUNT(*) AS n FROM sign_in_failures').get()).toEqual({ n: 1 });
  });

  it('migration 6 adds attachments: blobs by hash, records naming their blobs, links to events (each pair once)', () => {
    const db = new Database(':memory:');
    migrate(db, BACKEND_MIGRATIONS.slice(0, 5));
    db.pragma('foreign_keys = ON');
    expect(migrate(db, BACKEND_MIGRATIONS.slice(0, 6))).toBe(6);
    const blob = db.prepare('INSERT INTO blobs (sha256, bytes) VALUES (?, ?)');
    blob.run('h1', Buffer.from([1, 2]));
    expect(() => blob.run('h1', Buffer.from([3]))).toThrow(/UNIQUE/);
    const attachment = db.prepare("INSERT INTO attachments (id, kind, mime, size, name, thumb_sha256, created_at, created_by) VALUES (?, 'image', 'image/jpeg', 2, 'a.jpg', NULL, 't', 'u1')");
    attachment.run('h1');
    expect(() => attachment.run('h2')).toThrow(/FOREIGN KEY/); // no record without its bytes
    const link = db.prepare('INSERT INTO attachment_links (attachment_id, event_id) VALUES (?, ?)');
    link.run('h1', 'E1');
    expect(() => link.run('h1', 'E1')).toThrow(/UNIQUE|PRIMARY/);
    expect(() => link.run('h9', 'E1')).toThrow(/FOREIGN KEY/);
    expect(db.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND name = 'attachment_links_event'").get()).toEqual({ name: 'attachment_links_event' });
  });

  it('migration 8 keeps a delivery\'s callback URL and end, links every uploader, and carries the rows before it', () => {
    const db = new Database(':memory:');
    migrate(db, BACKEND_MIGRATIONS.slice(0, 7));
    db.pragma('foreign_keys = ON');
    db.prepare("INSERT INTO api_keys (id, name, source, key_hash, rate_per_minute, created_at, created_by) VALUES ('k1', '12345', 'hotline', 'kh', 600, 't', 'admin')").run();
    const delivery = db.prepare("INSERT INTO webhook_deliveries (id, key_id, event_id, state, payload, delivered_at) VALUES (?, 'k1', ?, ?, '{}', ?)");
    delivery.run('d1', 'E1', 'delivered', '2030-01-01T00:00:00.000Z');
    delivery.run('d2', 'E2', 'failed', null);
    delivery.run('d3', 'E3', 'waiting', null);
    db.prepare('INSERT INTO blobs (sha256, bytes) VALUES (?, ?)').run('h1', Buffer.from([1]));
    db.prepare("INSERT INTO attachments (id, kind, mime, size, name, created_at, created_by) VALUES ('h1', 'image', 'image/jpeg', 1, 'a.jpg', 't0', 'u1')").run();
    expect(migrate(db, BACKEND_MIGRATIONS.slice(0, 8))).toBe(8);
    const ended = db.prepare<[], { id: string; ended_at: string | null; url: string | null }>('SELECT id, ended_at, url FROM webhook_deliveries ORDER BY id').all();
    expect(ended[0]).toEqual({ id: 'd1', ended_at: '2030-01-01T00:00:00.000Z', url: null });
    expect(ended[1]!.ended_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/); // given up before: ended at the migration
    expect(ended[2]).toEqual({ id: 'd3', ended_at: null, url: null });
    expect(db.prepare('SELECT * FROM attachment_uploads').all()).toEqual([{ attachment_id: 'h1', uploader: 'u1', uploaded_at: 't0' }]);
    const upload = db.prepare("INSERT INTO attachment_uploads (attachment_id, uploader, uploaded_at) VALUES (?, ?, 't1')");
    upload.run('h1', 'u2');
    expect(() => upload.run('h1', 'u2')).toThrow(/UNIQUE|PRIMARY/);
    expect(() => upload.run('h9', 'u2')).toThrow(/FOREIGN KEY/);
  });

  it('migration 9 adds the history for replay: the log by time, checkpoints and their chunks, tracks, calls; the log before it stays', () => {
    const db = new Database(':memory:');
    migrate(db, BACKEND_MIGRATIONS.slice(0, 8));
    db.prepare("INSERT INTO changes (seq, at, changes) VALUES (1, '2026-11-30T08:00:00.000Z', '[]')").run();
    expect(migrate(db, BACKEND_MIGRATIONS.slice(0, 9))).toBe(9);
    expect(db.prepare('SELECT seq FROM changes').all()).toEqual([{ seq: 1 }]);
    const indexes = db.prepare<[], { name: string }>("SELECT name FROM sqlite_master WHERE type = 'index' AND name IN ('changes_at', 'checkpoints_at', 'calls_at', 'calls_event') ORDER BY name").all();
    expect(indexes.map((i) => i.name)).toEqual(['calls_at', 'calls_event', 'changes_at', 'checkpoints_at']);
    const plan = db.prepare<[], { detail: string }>("EXPLAIN QUERY PLAN SELECT seq FROM changes WHERE at <= 'x' ORDER BY at DESC, seq DESC LIMIT 1").all();
    expect(plan.map((p) => p.detail).join(' ')).toMatch(/USING COVERING INDEX changes_at/);
    db.prepare("INSERT INTO checkpoint_chunks (hash, data) VALUES ('h', x'00')").run();
    expect(() => db.prepare("INSERT INTO checkpoint_chunks (hash, data) VALUES ('h', x'01')").run()).toThrow(/UNIQUE|PRIMARY/);
    db.prepare("INSERT INTO checkpoints (seq, at, manifest) VALUES (1, 't', '{}')").run();
    db.prepare("INSERT INTO tracks (hour, staff_id, points, n) VALUES (1, 's1', x'00', 1)").run();
    expect(() => db.prepare("INSERT INTO tracks (hour, staff_id, points, n) VALUES (1, 's1', x'00', 1)").run()).toThrow(/UNIQUE|PRIMARY/);
    db.prepare("INSERT INTO calls (id, at, event_id, user_id, data) VALUES ('c1', 't', NULL, 'u1', '{}')").run();
  });

  it('refuses a database from a newer program, clearly, without touching it', () => {
    const temp = makeTempDir();
    const file = join(temp.dir, 'future.sqlite');
    const db = new Database(file);
    db.pragma('user_version = 99');
    db.close();
    expect(() => new SqliteStore(file)).toThrow(StoreOpenError);
    expect(() => new SqliteStore(file)).toThrow(/version 99 is newer than this program knows \(9\)/);
    const check = new Database(file);
    expect(check.pragma('user_version', { simple: true })).toBe(99);
    check.close();
    temp.cleanup();
  });

  it('commits batches atomically and refuses a seq that does not advance', async () => {
    const temp = makeTempDir();
    const store = new SqliteStore(join(temp.dir, 's.sqlite'));
    await store.commit({ seq: 1, at: 'x', changes: [{ op: 'upsert', collection: 'departments', id: 'd', data: { id: 'd', code: 'D', name: '部门' } }] });
    await expect(store.commit({ seq: 1, at: 'x', changes: [{ op: 'remove', collection: 'departments', id: 'd' }] })).rejects.toThrow(/not after/);
    expect((await store.load()).state.departments.get('d')).toMatchObject({ name: '部门' });
    expect(await store.changesSince(0, 10)).toHaveLength(1);
    expect(await store.pruneChanges(0)).toBe(1);
    expect(await store.changesSince(0, 10)).toBeNull(); // too old now: the caller sends a snapshot
    expect((await store.load()).seq).toBe(1);
    store.close();
    temp.cleanup();
  });
});

describe('a database file shorter than its header says', () => {
  it('is refused as truncated, but not while a write-ahead log is beside it (a crash mid-checkpoint, which SQLite completes)', () => {
    const temp = makeTempDir();
    try {
      const file = join(temp.dir, 'backend.sqlite');
      const db = new Database(file);
      db.exec("CREATE TABLE t (x TEXT); WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 200) INSERT INTO t SELECT hex(randomblob(500)) FROM n");
      db.close();
      truncateSync(file, Math.floor(statSync(file).size / 2 / 4096) * 4096);
      expect(() => checkDatabaseFile(file)).toThrow(/is truncated/);
      writeFileSync(`${file}-wal`, Buffer.alloc(4096, 1));
      expect(() => checkDatabaseFile(file)).not.toThrow();
    } finally {
      temp.cleanup();
    }
  });
});

describe('clock, rate limit, KPI helpers, simulator parts', () => {
  it('the simulated clock runs at its rate and refuses nonsense rates', () => {
    let real = 1000;
    const clock = new SimClock(60, 5000, () => real);
    real += 1000;
    expect(clock.nowMs()).toBe(5000 + 60_000);
    expect(clock.realDelayUntil(5000 + 120_000)).toBe(1000);
    expect(() => new SimClock(0)).toThrow(/rate/);
    expect(() => new SimClock(Number.NaN)).toThrow(/rate/);
  });

  it('the token bucket allows bursts then the rate', () => {
    let t = 0;
    const bucket = new TokenBucket(10, 20, () => t);
    let allowed = 0;
    for (let i = 0; i < 50; i++) if (bucket.take()) allowed++;
    expect(allowed).toBe(20);
    t += 500;
    allowed = 0;
    for (let i = 0; i < 50; i++) if (bucket.take()) allowed++;
    expect(allowed).toBe(5);
  });

  it('ratios keep numerator and denominator, and say "no data" instead of dividing by zero', () => {
    expect(ratio(3, 4)).toEqual({ numerator: 3, denominator: 4, value: 0.75 });
    expect(ratio(0, 0)).toEqual({ numerator: 0, denominator: 0, value: null });
  });

  it('periods start at local (UTC+8) midnight', () => {
    const now = new Date('2026-11-22T03:00:00Z'); // 11:00 in Beijing
    expect(periodStart('today', now).toISOString()).toBe('2026-11-21T16:00:00.000Z');
    expect(periodStart('7d', now).toISOString()).toBe('2026-11-15T16:00:00.000Z');
  });

  it('poisson draws have the right mean', () => {
    const rng = new Rng('poisson');
    for (const mean of [0.3, 4, 50]) {
      let sum = 0;
      for (let i = 0; i < 4000; i++) sum += poisson(rng, mean);
      expect(sum / 4000).toBeCloseTo(mean, mean < 1 ? 1 : 0);
    }
  });

  it('the agenda heap pops in time order', () => {
    const heap = new MinHeap<{ at: number }>();
    const rng = new Rng('heap');
    const values = Array.from({ length: 500 }, () => rng.int(0, 10_000));
    for (const at of values) heap.push({ at });
    const out: number[] = [];
    while (heap.size) out.push(heap.pop()!.at);
    expect(out).toEqual([...values].sort((a, b) => a - b));
  });
});
