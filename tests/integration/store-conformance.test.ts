/**
 * One store conformance suite for both backend stores: the SQLite file (the embedded default) and PostgreSQL
 * (a real server started by the test: initdb into a temp dir, 127.0.0.1, a free port). Every case runs against
 * each, on a database of its own; then what only a server database can meet: a newer schema, another program's
 * tables, an unreachable address.
 */
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import type { KeyPerson, Staff } from '../../protocol';
import { SqliteStore } from '../../backend/store/sqlite-store';
import { PgStore } from '../../backend/store/pg-store';
import { PG_MIGRATIONS } from '../../backend/store/pg-migrations';
import { StoreOpenError } from '../../backend/store/open-check';
import { StaleReplicaError, type AttachmentRecord, type AuditEntry, type BackendStore, type CallFilter, type CallRow, type CommandRecord, type TrackRow, type UserRecord } from '../../backend/store/types';
import { startPostgres, type RunningPostgres } from '../../harness/postgres';
import { it } from '../../harness/fixtures';

type Seedable = BackendStore & { seedEntities(collection: 'staff', items: Iterable<Staff>): void | Promise<void> };
interface Subject {
  store: Seedable;
  /** Runs SQL on the store's database behind its back (what an operator with a SQL prompt could try). */
  raw(sql: string): Promise<void>;
  close(): Promise<void>;
}

let postgres: RunningPostgres;
let databases = 0;
beforeAll(async () => {
  postgres = await startPostgres();
}, 60_000);
afterAll(async () => {
  await postgres?.stop();
});

const kinds: Record<string, (dir: string) => Promise<Subject>> = {
  sqlite: async (dir) => {
    const file = join(dir, 'backend.sqlite');
    const store = new SqliteStore(file);
    return {
      store,
      raw: async (sql) => {
        const db = new Database(file);
        try {
          db.exec(sql);
        } finally {
          db.close();
        }
      },
      close: async () => store.close(),
    };
  },
  postgres: async () => {
    const url = postgres.createDatabase(`store_${++databases}`);
    const store = await PgStore.open(url);
    return {
      store,
      raw: async (sql) => {
        const client = new pg.Client({ connectionString: url });
        await client.connect();
        try {
          await client.query(sql);
        } finally {
          await client.end();
        }
      },
      close: async () => store.close(),
    };
  },
};

const staff = (id: string): Staff => ({
  id,
  name: '张三',
  phone: '13800000000',
  role: 'full-time',
  gridId: 'G1',
  districtId: 'D1',
  status: 'patrolling',
  position: [118.1, 24.5],
  sipUser: id,
  openTasks: 0,
  updatedAt: '2026-11-30T08:00:00.000+08:00',
});
const at = '2026-11-30T08:00:00.000Z';
const upsert = (s: Staff) => ({ op: 'upsert' as const, collection: 'staff' as const, id: s.id, data: s });

describe.each(Object.keys(kinds))('backend store conformance: %s', (kind) => {
  async function open(dir: string): Promise<Subject> {
    return kinds[kind]!(dir);
  }

  it('commits batches in order, loads them back, and refuses a seq that is not after the last', async ({ dataDir, onTestFinished }) => {
    const s = await open(dataDir);
    onTestFinished(() => s.close());
    await s.store.seedEntities('staff', [staff('S1'), staff('S2')]);
    await s.store.commit({ seq: 1, at, changes: [upsert({ ...staff('S3'), name: '李四' })] });
    await s.store.commit({ seq: 2, at, changes: [{ op: 'remove', collection: 'staff', id: 'S1' }] });
    const loaded = await s.store.load();
    expect(loaded.seq).toBe(2);
    expect([...loaded.state.staff.keys()].sort()).toEqual(['S2', 'S3']);
    expect(loaded.state.staff.get('S3')).toEqual({ ...staff('S3'), name: '李四' });
    await expect(s.store.commit({ seq: 2, at, changes: [upsert(staff('S9'))] })).rejects.toThrow(/seq 2 is not after 2/);
    expect((await s.store.load()).state.staff.has('S9')).toBe(false);
  });

  it('answers changes since a seq, and null once the log no longer reaches back that far', async ({ dataDir, onTestFinished }) => {
    const s = await open(dataDir);
    onTestFinished(() => s.close());
    for (let seq = 1; seq <= 5; seq++) await s.store.commit({ seq, at, changes: [upsert({ ...staff('S1'), openTasks: seq })] });
    expect(await s.store.changesSince(5, 100)).toEqual([]);
    const since = await s.store.changesSince(2, 2);
    expect(since?.map((b) => b.seq)).toEqual([3, 4]);
    expect(since?.[0]?.changes).toEqual([upsert({ ...staff('S1'), openTasks: 3 })]);
    expect(await s.store.pruneChanges(2)).toBe(3);
    expect(await s.store.changesSince(1, 100)).toBeNull();
    expect((await s.store.changesSince(3, 100))?.map((b) => b.seq)).toEqual([4, 5]);
    expect(await s.store.pruneChanges(0)).toBe(2);
    expect((await s.store.load()).seq).toBe(5);
    await s.store.commit({ seq: 6, at, changes: [] });
    expect((await s.store.changesSince(5, 10))?.map((b) => b.seq)).toEqual([6]);
  });

  it('keeps commands (applied with their batch, rejected on their own) with their audit lines', async ({ dataDir, onTestFinished }) => {
    const s = await open(dataDir);
    onTestFinished(() => s.close());
    const applied: CommandRecord = { commandId: 'c-1', userId: 'u1', type: 'event.comment', outcome: { status: 'applied', seq: 1, result: { ok: 1 } }, at };
    const rejected: CommandRecord = { commandId: 'c-2', userId: 'u1', type: 'event.close', outcome: { status: 'rejected', code: 'conflict', message: '事件已结案' }, at };
    const line: AuditEntry = { at, userId: 'u1', kind: 'command', detail: { commandId: 'c-1' } };
    await s.store.commit({ seq: 1, at, changes: [], command: applied, audit: [line] });
    await s.store.recordRejected(rejected, { ...line, kind: 'command-rejected', detail: { commandId: 'c-2' } });
    await s.store.audit([{ at, userId: null, kind: 'login-refused', detail: { reason: 'bad token' } }]);
    expect(await s.store.findCommand('c-1')).toEqual(applied);
    expect(await s.store.findCommand('c-2')).toEqual(rejected);
    expect(await s.store.findCommand('c-3')).toBeNull();
    await expect(s.store.recordRejected(rejected, line)).rejects.toThrow();
  });

  it('hands a write turn what was committed after the caller’s seq, commits in it, and leaves nothing when it throws', async ({ dataDir, onTestFinished }) => {
    const s = await open(dataDir);
    onTestFinished(() => s.close());
    for (let seq = 1; seq <= 3; seq++) await s.store.commit({ seq, at, changes: [upsert({ ...staff('S1'), openTasks: seq })] });
    const applied: CommandRecord = { commandId: 'c-9', userId: 'u1', type: 'event.comment', outcome: { status: 'applied', seq: 4, result: {} }, at };
    const seen = await s.store.writeTurn(1, async (turn) => {
      expect(await turn.findCommand('c-9')).toBeNull();
      await turn.commit({ seq: 4, at, changes: [upsert(staff('S4'))], command: applied });
      return turn.missed.map((b) => b.seq);
    });
    expect(seen).toEqual([2, 3]);
    expect(await s.store.findCommand('c-9')).toEqual(applied);
    await expect(
      s.store.writeTurn(4, async (turn) => {
        expect(turn.missed).toEqual([]);
        await turn.commit({ seq: 5, at, changes: [upsert(staff('S5'))] });
        throw new Error('decided otherwise');
      }),
    ).rejects.toThrow('decided otherwise');
    const loaded = await s.store.load();
    expect(loaded.seq).toBe(4);
    expect(loaded.state.staff.has('S5')).toBe(false);
    await s.store.pruneChanges(1);
    await expect(s.store.writeTurn(1, async () => 'never')).rejects.toBeInstanceOf(StaleReplicaError);
  });

  it('keeps the audit append-only in the database itself', async ({ dataDir, onTestFinished }) => {
    const s = await open(dataDir);
    onTestFinished(() => s.close());
    await s.store.audit([{ at, userId: 'u1', kind: 'login', detail: {} }]);
    await expect(s.raw("UPDATE audit SET kind = 'forged'")).rejects.toThrow(/append-only/);
    await expect(s.raw('DELETE FROM audit')).rejects.toThrow(/append-only/);
  });

  it('reads the audit newest first, by user, kind, event (a view or a command on it), time and text, in pages', async ({ dataDir, onTestFinished }) => {
    const s = await open(dataDir);
    onTestFinished(() => s.close());
    const t = (minute: number): string => `2026-11-30T08:${String(minute).padStart(2, '0')}:00.000Z`;
    await s.store.audit([
      { at: t(1), userId: 'u1', kind: 'login', detail: { clientId: 'c1' } },
      { at: t(2), userId: 'u1', kind: 'view', detail: { eventId: 'E1', personal: true, eventTitle: '噪音 100%_投诉' } },
      { at: t(2), userId: 'u2', kind: 'view', detail: { eventId: 'E2', personal: false } },
    ]);
    await s.store.commit({ seq: 1, at: t(3), changes: [], audit: [{ at: t(3), userId: 'u2', kind: 'command', detail: { type: 'event.comment', payload: { eventId: 'E1', text: 'O\'Brien 说 ok' } } }] });
    await s.store.audit([{ at: t(4), userId: null, kind: 'login-refused', detail: { reason: 'bad token' } }]);
    const all = await s.store.readAudit({ limit: 10 });
    expect(all.map((r) => [r.at.slice(14, 16), r.userId, r.kind])).toEqual([
      ['04', null, 'login-refused'],
      ['03', 'u2', 'command'],
      ['02', 'u2', 'view'],
      ['02', 'u1', 'view'],
      ['01', 'u1', 'login'],
    ]);
    expect(all[3]).toEqual({ id: expect.any(Number), at: t(2), userId: 'u1', kind: 'view', detail: { eventId: 'E1', personal: true, eventTitle: '噪音 100%_投诉' } });
    const kinds = async (filter: Omit<Parameters<BackendStore['readAudit']>[0], 'limit'>): Promise<string[]> => (await s.store.readAudit({ ...filter, limit: 10 })).map((r) => `${r.userId}:${r.kind}`);
    expect(await kinds({ userId: 'u1' })).toEqual(['u1:view', 'u1:login']);
    expect(await kinds({ kind: 'view' })).toEqual(['u2:view', 'u1:view']);
    expect(await kinds({ eventId: 'E1' })).toEqual(['u2:command', 'u1:view']);
    expect(await kinds({ from: t(2), to: t(4) })).toEqual(['u2:command', 'u2:view', 'u1:view']);
    expect(await kinds({ text: '100%_' })).toEqual(['u1:view']);
    // % and _ are the text itself, not wildcards; a quote is just a quote.
    expect(await kinds({ text: '1%0' })).toEqual([]);
    expect(await kinds({ text: "o'brien" })).toEqual(['u2:command']);
    expect(await kinds({ text: 'REFUSED' })).toEqual(['null:login-refused']);
    expect(await kinds({ userId: 'u2', kind: 'view', eventId: 'E1' })).toEqual([]);
    // Pages: after an entry (its at and id), ties at the same time in order too.
    const first = await s.store.readAudit({ limit: 2 });
    const rest = await s.store.readAudit({ limit: 10, before: { at: first[1]!.at, id: first[1]!.id } });
    expect([...first, ...rest].map((r) => r.id)).toEqual(all.map((r) => r.id));
    expect(await s.store.readAudit({ limit: 10, userId: "x' OR '1'='1" })).toEqual([]);
  });

  it('replaces the key-person register in one go and reads it by grid, outside the change log', async ({ dataDir, onTestFinished }) => {
    const s = await open(dataDir);
    onTestFinished(() => s.close());
    const person = (id: string, gridId: string, idNumber: string): KeyPerson => ({ id, name: '张三', idNumber, category: 'elderly-alone', gridId, address: '一巷1号', phone: '', level: 2, note: '' });
    await s.store.replaceKeyPersons([person('k2', 'G1', '110101198001011237'), person('k1', 'G1', '11010119800101125X'), person('k3', 'G2', '110101198001011261')]);
    expect((await s.store.keyPersonsIn(['G2', 'G1', 'G1'])).map((r) => r.id)).toEqual(['k1', 'k2', 'k3']);
    expect(await s.store.keyPersonsIn(['G9'])).toEqual([]);
    expect((await s.store.keyPersonsIn(['G2']))[0]).toEqual(person('k3', 'G2', '110101198001011261'));
    // A duplicate ID number refuses the whole replacement: the register stays as it was.
    await expect(s.store.replaceKeyPersons([person('k4', 'G1', '110101198001011237'), person('k5', 'G1', '110101198001011237')])).rejects.toThrow();
    expect(await s.store.keyPersonsIn(['G1', 'G2'])).toHaveLength(3);
    await s.store.replaceKeyPersons([person('k4', 'G2', '110101198001011237')]);
    expect((await s.store.keyPersonsIn(['G1', 'G2'])).map((r) => r.id)).toEqual(['k4']);
    expect(await s.store.changesSince(0, 10)).toEqual([]);
  });

  it('finds users by token hash, counts them, keeps meta, and saves positions without touching the rest', async ({ dataDir, onTestFinished }) => {
    const s = await open(dataDir);
    onTestFinished(() => s.close());
    const user: UserRecord = { id: 'u1', name: '调度员', role: 'dispatcher', districtScope: ['D1', 'D2'], tokenHash: 'h1', departmentId: null, staffId: null };
    await s.store.upsertUsers([user, { ...user, id: 'u2', districtScope: null, tokenHash: 'h2', departmentId: null, staffId: null }]);
    await s.store.upsertUsers([{ ...user, name: '调度员甲' }]);
    expect(await s.store.findUserByTokenHash('h1')).toEqual({ ...user, name: '调度员甲' });
    expect((await s.store.findUserByTokenHash('h2'))?.districtScope).toBeNull();
    expect(await s.store.findUserByTokenHash('nope')).toBeNull();
    expect(await s.store.countUsers()).toBe(2);
    expect(await s.store.getMeta('city')).toBeNull();
    await s.store.setMeta('city', '{"seed":1}');
    await s.store.setMeta('city', '{"seed":2}');
    expect(await s.store.getMeta('city')).toBe('{"seed":2}');
    await s.store.seedEntities('staff', [staff('S1'), staff('S2')]);
    await s.store.savePositions([['S1', 118.2, 24.6], ['nobody', 0, 0]]);
    const loaded = (await s.store.load()).state.staff;
    expect(loaded.get('S1')).toEqual({ ...staff('S1'), position: [118.2, 24.6] });
    expect(loaded.get('S2')).toEqual(staff('S2'));
    expect(loaded.has('nobody')).toBe(false);
  });
});

describe.each(Object.keys(kinds))('backend store conformance, attachments: %s', (kind) => {
  const record = (id: string, thumb: string | null): AttachmentRecord => ({ id, kind: 'image', mime: 'image/jpeg', size: 4, width: 2, height: 1, durationMs: null, name: '照片.jpg', thumbSha256: thumb, createdAt: at, createdBy: 'u1' });
  const A = 'a'.repeat(64);
  const T = 'b'.repeat(64);

  it('stores bytes once by hash, reads them whole or a range, and links them with a batch (twice: once)', async ({ dataDir, onTestFinished }) => {
    const s = await kinds[kind]!(dataDir);
    onTestFinished(() => s.close());
    expect(await s.store.attachmentCounts()).toEqual({ blobs: 0, attachments: 0, links: 0 });
    expect(await s.store.putAttachment(record(A, T), Buffer.from([1, 2, 3, 4]), Buffer.from([9, 9]))).toEqual({ record: record(A, T), created: true });
    // The same bytes again, by another user with another name: nothing changes, the first record comes back.
    expect(await s.store.putAttachment({ ...record(A, null), createdBy: 'u2', name: 'x.jpg' }, Buffer.from([1, 2, 3, 4]), null)).toEqual({ record: record(A, T), created: false });
    expect(await s.store.attachmentCounts()).toEqual({ blobs: 2, attachments: 1, links: 0 });
    // Migration 8: each uploader of the same bytes is linked (the first stays the record's createdBy); no one else.
    expect([await s.store.attachmentUploadedBy(A, 'u1'), await s.store.attachmentUploadedBy(A, 'u2'), await s.store.attachmentUploadedBy(A, 'u3'), await s.store.attachmentUploadedBy(T, 'u1')]).toEqual([true, true, false, false]);
    expect(await s.store.findAttachments([A, 'c'.repeat(64), A])).toEqual([record(A, T)]);
    expect(await s.store.findAttachments([])).toEqual([]);
    expect(await s.store.blobSize(A)).toBe(4);
    expect(await s.store.blobSize('c'.repeat(64))).toBeNull();
    expect(await s.store.readBlob(A)).toEqual({ bytes: Buffer.from([1, 2, 3, 4]), total: 4 });
    expect(await s.store.readBlob(A, { start: 1, end: 2 })).toEqual({ bytes: Buffer.from([2, 3]), total: 4 });
    expect(await s.store.readBlob(T)).toEqual({ bytes: Buffer.from([9, 9]), total: 2 });
    expect(await s.store.readBlob('c'.repeat(64))).toBeNull();
    await s.store.commit({ seq: 1, at, changes: [], attachmentLinks: [{ attachmentId: A, eventId: 'E2' }, { attachmentId: A, eventId: 'E1' }] });
    await s.store.commit({ seq: 2, at, changes: [], attachmentLinks: [{ attachmentId: A, eventId: 'E1' }] });
    expect(await s.store.attachmentEvents(A)).toEqual(['E1', 'E2']);
    expect(await s.store.attachmentCounts()).toEqual({ blobs: 2, attachments: 1, links: 2 });
    // A link to an attachment that does not exist fails the whole batch: nothing of it is kept.
    await expect(s.store.commit({ seq: 3, at, changes: [upsert(staff('S1'))], attachmentLinks: [{ attachmentId: 'c'.repeat(64), eventId: 'E1' }] })).rejects.toThrow();
    expect((await s.store.load()).seq).toBe(2);
    expect((await s.store.load()).state.staff.has('S1')).toBe(false);
  });
});

describe.each(Object.keys(kinds))('backend store conformance, sign-in: %s', (kind) => {
  it("keeps a liaison's department and a field account's staff member: read back by every read, one account per staff member", async ({ dataDir, onTestFinished }) => {
    const s = await kinds[kind]!(dataDir);
    onTestFinished(() => s.close());
    const liaison: UserRecord = { id: 'l1', name: '联络员', role: 'liaison', districtScope: null, tokenHash: 'tl', departmentId: 'dep-1', staffId: null };
    const field: UserRecord = { id: 'f1', name: '网格员', role: 'field', districtScope: null, tokenHash: 'tf', departmentId: null, staffId: 'S1' };
    await s.store.upsertUsers([liaison, field]);
    expect(await s.store.findUserByTokenHash('tl')).toEqual(liaison);
    expect((await s.store.findLogin('f1'))?.user).toEqual(field);
    expect((await s.store.listUsers()).filter((u) => u.id === 'l1' || u.id === 'f1')).toEqual([field, liaison]);
    await s.store.createSession({ tokenHash: 'sf', userId: 'f1', clientId: 'c', clientName: null, createdAt: '2030-01-01T08:00:00.000Z', expiresAt: '2030-01-01T17:00:00.000Z', idleExpiresAt: '2030-01-01T10:00:00.000Z', lastUsedAt: '2030-01-01T08:00:00.000Z', endedAt: null, endedWhy: null });
    expect(await s.store.findUserByTokenHash('sf', '2030-01-01T09:00:00.000Z')).toEqual(field);
    // A second account of the same staff member is refused by the store itself (and nothing of it is kept).
    await expect(s.store.upsertUsers([{ ...field, id: 'f2', tokenHash: 'tf2' }])).rejects.toThrow();
    expect((await s.store.listUsers()).some((u) => u.id === 'f2')).toBe(false);
    // Unlinked (made a dispatcher): both columns back to null.
    await s.store.upsertUsers([{ ...liaison, role: 'dispatcher', departmentId: null }]);
    expect((await s.store.findLogin('l1'))?.user).toMatchObject({ role: 'dispatcher', departmentId: null, staffId: null });
  });

  it('keeps passwords, failures and locks, sessions that end or pass a limit, and disabled users', async ({ dataDir, onTestFinished }) => {
    const s = await kinds[kind]!(dataDir);
    onTestFinished(() => s.close());
    const user: UserRecord = { id: 'u1', name: '调度员', role: 'dispatcher', districtScope: null, tokenHash: 'static-1', departmentId: null, staffId: null };
    await s.store.upsertUsers([user, { ...user, id: 'u2', tokenHash: 'static-2', departmentId: null, staffId: null }]);
    expect(await s.store.findLogin('nobody')).toBeNull();
    expect(await s.store.setPassword('nobody', 'x')).toBe(false);
    expect(await s.store.setPassword('u1', 'scrypt$hash')).toBe(true);
    await s.store.setLoginFailures('u1', 5, '2030-01-01T00:00:00.000Z');
    expect(await s.store.findLogin('u1')).toEqual({ user, passwordHash: 'scrypt$hash', failedLogins: 5, lockedUntil: '2030-01-01T00:00:00.000Z', disabled: false });
    await s.store.setPassword('u1', 'scrypt$other');
    expect(await s.store.findLogin('u1')).toMatchObject({ passwordHash: 'scrypt$other', failedLogins: 0, lockedUntil: null });

    const session = { tokenHash: 'sess-1', userId: 'u1', clientId: 'hub-1', clientName: '调度台', createdAt: '2030-01-01T08:00:00.000Z', expiresAt: '2030-01-01T17:00:00.000Z', idleExpiresAt: '2030-01-01T10:00:00.000Z', lastUsedAt: '2030-01-01T08:00:00.000Z', endedAt: null, endedWhy: null };
    await s.store.createSession(session);
    await expect(s.store.createSession(session)).rejects.toThrow();
    expect(await s.store.findSession('sess-1')).toEqual(session);
    expect((await s.store.findUserByTokenHash('sess-1', '2030-01-01T09:00:00.000Z'))?.id).toBe('u1');
    expect(await s.store.findUserByTokenHash('sess-1', '2030-01-01T10:00:00.000Z')).toBeNull(); // idle limit
    await s.store.touchSession('sess-1', '2030-01-01T09:30:00.000Z', '2030-01-01T11:30:00.000Z');
    expect((await s.store.findUserByTokenHash('sess-1', '2030-01-01T11:00:00.000Z'))?.id).toBe('u1');
    expect(await s.store.findUserByTokenHash('sess-1', '2030-01-01T17:00:00.000Z')).toBeNull(); // absolute limit
    expect(await s.store.endSession('sess-1', '2030-01-01T09:45:00.000Z', 'sign-out')).toBe(true);
    expect(await s.store.endSession('sess-1', '2030-01-01T09:46:00.000Z', 'expired')).toBe(false);
    expect(await s.store.findSession('sess-1')).toMatchObject({ endedAt: '2030-01-01T09:45:00.000Z', endedWhy: 'sign-out', lastUsedAt: '2030-01-01T09:30:00.000Z' });
    expect(await s.store.findUserByTokenHash('sess-1', '2030-01-01T09:50:00.000Z')).toBeNull();

    await s.store.createSession({ ...session, tokenHash: 'sess-2', userId: 'u2' });
    expect(await s.store.setUserDisabled('u2', true, '2030-01-01T09:00:00.000Z')).toBe(true);
    expect(await s.store.findUserByTokenHash('static-2')).toBeNull();
    expect(await s.store.findSession('sess-2')).toMatchObject({ endedWhy: 'disabled' });
    expect((await s.store.findLogin('u2'))?.disabled).toBe(true);
    await s.store.setUserDisabled('u2', false, '2030-01-01T09:05:00.000Z');
    expect((await s.store.findUserByTokenHash('static-2'))?.id).toBe('u2');
    expect((await s.store.listUsers()).map((u) => u.id)).toEqual(['u1', 'u2']);
  });
});

describe.each(Object.keys(kinds))('backend store conformance, failed sign-ins and new users: %s', (kind) => {
  it('counts failures one at a time even in parallel, locks with the count, and forgets idle unknown names', async ({ dataDir, onTestFinished }) => {
    const s = await kinds[kind]!(dataDir);
    onTestFinished(() => s.close());
    const user: UserRecord = { id: 'u1', name: '调度员', role: 'dispatcher', districtScope: null, tokenHash: 'static-1', departmentId: null, staffId: null };
    await s.store.upsertUsers([user]);
    const rule = (failed: number) => (failed >= 3 ? `2030-01-01T00:00:0${failed}.000Z` : null);
    expect(await s.store.countLoginFailure('nobody', rule)).toBeNull();
    const counts = await Promise.all(Array.from({ length: 5 }, () => s.store.countLoginFailure('u1', rule)));
    expect(counts.map((c) => c!.failed).sort()).toEqual([1, 2, 3, 4, 5]);
    expect(await s.store.findLogin('u1')).toMatchObject({ failedLogins: 5, lockedUntil: '2030-01-01T00:00:05.000Z' });
    await s.store.setLoginFailures('u1', 0, null);
    expect(await s.store.findLogin('u1')).toMatchObject({ failedLogins: 0, lockedUntil: null });

    expect(await s.store.findNameFailures('ghost')).toBeNull();
    const names = await Promise.all(Array.from({ length: 4 }, (_, i) => s.store.countNameFailure('ghost', `2030-01-01T08:00:0${i}.000Z`, rule)));
    expect(names.map((c) => c.failed).sort()).toEqual([1, 2, 3, 4]);
    expect(names.find((c) => c.failed === 2)?.lockedUntil).toBeNull();
    expect(await s.store.findNameFailures('ghost')).toEqual({ failed: 4, lockedUntil: '2030-01-01T00:00:04.000Z' });
    await s.store.countNameFailure('recent', '2030-01-02T08:00:00.000Z', rule);
    for (const [login, at] of [['idle-1', '2030-01-01T01:00:00.000Z'], ['idle-2', '2030-01-01T02:00:00.000Z']] as const) await s.store.countNameFailure(login, at, () => null);
    await s.store.countNameFailure('locked-long', '2030-01-01T01:00:00.000Z', () => '2031-01-01T00:00:00.000Z');
    // Idle before 2030-01-02 and not locked at 2030-01-02T12:00: ghost (its lock passed), idle-1, idle-2 — one per call here.
    expect(await s.store.pruneNameFailures('2030-01-02T00:00:00.000Z', '2030-01-02T12:00:00.000Z', 2)).toBe(2);
    expect(await s.store.pruneNameFailures('2030-01-02T00:00:00.000Z', '2030-01-02T12:00:00.000Z', 2)).toBe(1);
    expect(await s.store.pruneNameFailures('2030-01-02T00:00:00.000Z', '2030-01-02T12:00:00.000Z', 2)).toBe(0);
    expect(await s.store.findNameFailures('recent')).toEqual({ failed: 1, lockedUntil: null });
    expect(await s.store.findNameFailures('locked-long')).toMatchObject({ failed: 1 });
    expect(await s.store.findNameFailures('ghost')).toBeNull();
  });

  it('creates a user with their password in one write, and refuses a taken id without changing it', async ({ dataDir, onTestFinished }) => {
    const s = await kinds[kind]!(dataDir);
    onTestFinished(() => s.close());
    const user: UserRecord = { id: 'new-1', name: '新用户', role: 'field', districtScope: ['d01'], tokenHash: 'random-1', departmentId: null, staffId: 'staff-0001' };
    expect(await s.store.createUser(user, 'scrypt$first')).toBe(true);
    expect(await s.store.findLogin('new-1')).toEqual({ user, passwordHash: 'scrypt$first', failedLogins: 0, lockedUntil: null, disabled: false });
    expect(await s.store.createUser({ ...user, name: '冒名', tokenHash: 'random-2' }, 'scrypt$second')).toBe(false);
    expect(await s.store.findLogin('new-1')).toMatchObject({ user, passwordHash: 'scrypt$first' });
    // A token hash another user holds: refused as a whole, no user left without a password.
    await expect(s.store.createUser({ ...user, id: 'new-2' }, 'scrypt$third')).rejects.toThrow();
    expect(await s.store.findLogin('new-2')).toBeNull();
  });
});

describe.each(Object.keys(kinds))('backend store conformance, API keys: %s', (kind) => {
  it('keeps source systems’ keys by hash: created once, listed oldest first, revoked once, last use written', async ({ dataDir, onTestFinished }) => {
    const s = await kinds[kind]!(dataDir);
    onTestFinished(() => s.close());
    const key = { id: 'abcdEFGH', name: '12345 热线平台', source: 'hotline', keyHash: 'a'.repeat(64), ratePerMinute: 600, createdAt: '2030-01-01T08:00:00.000Z', createdBy: 'admin', revokedAt: null, revokedBy: null, lastUsedAt: null, webhookUrl: null, webhookSecret: null };
    await s.store.createApiKey(key);
    await s.store.createApiKey({ ...key, id: 'zz_-0001', name: '物联感知', source: 'sensor', keyHash: 'b'.repeat(64), ratePerMinute: 1, createdAt: '2030-01-01T09:00:00.000Z', createdBy: 'cli' });
    await expect(s.store.createApiKey({ ...key, id: 'other123' })).rejects.toThrow(); // the same hash
    await expect(s.store.createApiKey({ ...key, keyHash: 'c'.repeat(64) })).rejects.toThrow(); // the same id
    expect(await s.store.findApiKeyByHash('a'.repeat(64))).toEqual(key);
    expect(await s.store.findApiKeyByHash('d'.repeat(64))).toBeNull();
    expect((await s.store.listApiKeys()).map((k) => k.id)).toEqual(['abcdEFGH', 'zz_-0001']);
    await s.store.touchApiKey('abcdEFGH', '2030-01-01T10:00:00.000Z');
    expect(await s.store.revokeApiKey('abcdEFGH', '2030-01-01T11:00:00.000Z', 'admin')).toBe(true);
    expect(await s.store.revokeApiKey('abcdEFGH', '2030-01-01T12:00:00.000Z', 'cli')).toBe(false);
    expect(await s.store.revokeApiKey('nosuchid', '2030-01-01T12:00:00.000Z', 'cli')).toBe(false);
    expect(await s.store.findApiKeyByHash('a'.repeat(64))).toEqual({ ...key, lastUsedAt: '2030-01-01T10:00:00.000Z', revokedAt: '2030-01-01T11:00:00.000Z', revokedBy: 'admin' });
    expect((await s.store.listApiKeys())[1]).toMatchObject({ revokedAt: null, ratePerMinute: 1, createdBy: 'cli' });
    // Revoked keys of one maker go after a while (the simulator's), unless a webhook delivery still names one.
    await s.store.createApiKey({ ...key, id: 'simKEY01', keyHash: 'f'.repeat(64), createdBy: 'simulator' });
    await s.store.createApiKey({ ...key, id: 'simKEY02', keyHash: '0'.repeat(64), createdBy: 'simulator' });
    await s.store.createApiKey({ ...key, id: 'simKEY03', keyHash: '1'.repeat(64), createdBy: 'simulator' });
    for (const id of ['simKEY01', 'simKEY02']) await s.store.revokeApiKey(id, '2030-01-01T11:00:00.000Z', 'simulator');
    await s.store.queueWebhook({ id: 'simKEY02:E1', keyId: 'simKEY02', eventId: 'E1', state: 'waiting', payload: {}, attempts: 0, nextAt: null, deliveredAt: null, lastError: null, url: null, endedAt: null });
    expect(await s.store.removeRevokedApiKeys('simulator', '2030-01-01T11:00:00.000Z')).toBe(0); // not before
    expect(await s.store.removeRevokedApiKeys('simulator', '2030-01-08T11:00:00.000Z')).toBe(1);
    expect((await s.store.listApiKeys()).map((k) => k.id)).toEqual(['abcdEFGH', 'simKEY02', 'simKEY03', 'zz_-0001']);
  });

  it('keeps a key’s webhook and its deliveries (migration 7): queued once, read by state and due time, updated', async ({ dataDir, onTestFinished }) => {
    const s = await kinds[kind]!(dataDir);
    onTestFinished(() => s.close());
    const key = { id: 'hookKEY1', name: '12345 热线平台', source: 'hotline', keyHash: 'e'.repeat(64), ratePerMinute: 600, createdAt: '2030-01-01T08:00:00.000Z', createdBy: 'admin', revokedAt: null, revokedBy: null, lastUsedAt: null, webhookUrl: 'https://12345.example/hook', webhookSecret: 'whsec_x' };
    await s.store.createApiKey(key);
    expect(await s.store.findApiKeyByHash('e'.repeat(64))).toEqual(key);
    const waiting = { id: 'hookKEY1:E1', keyId: 'hookKEY1', eventId: 'E1', state: 'waiting' as const, payload: { sourceId: 's-1' }, attempts: 0, nextAt: null, deliveredAt: null, lastError: null, url: null, endedAt: null };
    await s.store.queueWebhook(waiting);
    await s.store.queueWebhook({ ...waiting, payload: { sourceId: 'another' } }); // the same id: nothing changes
    await s.store.queueWebhook({ ...waiting, id: 'hookKEY1:E2', eventId: 'E2' });
    expect(await s.store.webhooksIn('waiting', 10)).toEqual([waiting, { ...waiting, id: 'hookKEY1:E2', eventId: 'E2' }]);
    expect((await s.store.webhooksIn('waiting', 10, { afterId: 'hookKEY1:E1' })).map((d) => d.id)).toEqual(['hookKEY1:E2']);
    await s.store.updateWebhook({ ...waiting, state: 'due', payload: { eventId: 'E1', status: 'closed' }, nextAt: '2030-01-01T09:00:00.000Z' });
    expect(await s.store.webhooksIn('due', 10, { dueBy: '2030-01-01T08:59:59.000Z' })).toEqual([]);
    const [due] = await s.store.webhooksIn('due', 10, { dueBy: '2030-01-01T09:00:00.000Z' });
    expect(due).toMatchObject({ id: 'hookKEY1:E1', payload: { eventId: 'E1', status: 'closed' } });
    await s.store.updateWebhook({ ...due!, state: 'failed', attempts: 6, nextAt: null, lastError: 'HTTP 500' });
    expect(await s.store.webhooksIn('failed', 10)).toEqual([{ ...due!, state: 'failed', attempts: 6, nextAt: null, lastError: 'HTTP 500' }]);
    expect(await s.store.webhooksIn('waiting', 10)).toHaveLength(1);
  });

  it('keeps a report’s own callback URL and prunes ended deliveries by when they ended (migration 8)', async ({ dataDir, onTestFinished }) => {
    const s = await kinds[kind]!(dataDir);
    onTestFinished(() => s.close());
    await s.store.createApiKey({ id: 'pruneKEY', name: '12345', source: 'hotline', keyHash: 'f'.repeat(64), ratePerMinute: 600, createdAt: '2030-01-01T08:00:00.000Z', createdBy: 'admin', revokedAt: null, revokedBy: null, lastUsedAt: null, webhookUrl: null, webhookSecret: 'whsec_y' });
    const d = (id: string, state: 'waiting' | 'due' | 'delivered' | 'failed', endedAt: string | null) => ({ id, keyId: 'pruneKEY', eventId: id, state, payload: {}, attempts: 1, nextAt: null, deliveredAt: state === 'delivered' ? endedAt : null, lastError: null, url: 'https://12345.example/cb/1', endedAt });
    for (const x of [d('old-delivered', 'delivered', '2030-01-01T00:00:00.000Z'), d('old-failed', 'failed', '2030-01-02T00:00:00.000Z'), d('new-delivered', 'delivered', '2030-02-01T00:00:00.000Z'), d('waiting', 'waiting', null), d('due', 'due', null)]) await s.store.queueWebhook(x);
    expect((await s.store.webhooksIn('waiting', 10))[0]).toEqual(d('waiting', 'waiting', null));
    expect(await s.store.pruneWebhooks('2030-01-15T00:00:00.000Z', 1)).toBe(1);
    expect(await s.store.pruneWebhooks('2030-01-15T00:00:00.000Z', 100)).toBe(1);
    expect(await s.store.pruneWebhooks('2030-01-15T00:00:00.000Z', 100)).toBe(0);
    const left = [...(await s.store.webhooksIn('delivered', 10)), ...(await s.store.webhooksIn('failed', 10)), ...(await s.store.webhooksIn('waiting', 10)), ...(await s.store.webhooksIn('due', 10))];
    expect(left.map((x) => x.id).sort()).toEqual(['due', 'new-delivered', 'waiting']);
    // Never a waiting or due one, however old the cut.
    expect(await s.store.pruneWebhooks('2099-01-01T00:00:00.000Z', 100)).toBe(1);
    expect((await s.store.webhooksIn('waiting', 10)).length + (await s.store.webhooksIn('due', 10)).length).toBe(2);
  });
});

describe.each(Object.keys(kinds))('backend store conformance, history for replay (migration 9): %s', (kind) => {
  const t = (minute: number): string => new Date(Date.parse(at) + minute * 60_000).toISOString();
  const bytes = (text: string): Buffer => Buffer.from(text);
  const hash = (c: string): string => c.repeat(64);

  it('keeps checkpoints with their chunks once by hash, finds the newest at or before a time, and reads the log by time', async ({ dataDir, onTestFinished }) => {
    const s = await kinds[kind]!(dataDir);
    onTestFinished(() => s.close());
    expect(await s.store.checkpointRange()).toBeNull();
    expect(await s.store.checkpointAtOrBefore(t(100))).toBeNull();
    for (let seq = 1; seq <= 6; seq++) await s.store.commit({ seq, at: t(seq), changes: [upsert({ ...staff('S1'), openTasks: seq })] });
    await s.store.putCheckpoint({ seq: 2, at: t(2), manifest: { staff: [hash('a')], events: [hash('b'), hash('c')] } }, [
      { hash: hash('a'), data: bytes('A') },
      { hash: hash('b'), data: bytes('B') },
      { hash: hash('c'), data: bytes('C') },
    ]);
    // The same chunk again is kept as it was; a chunk already stored need not be sent.
    await s.store.putCheckpoint({ seq: 4, at: t(4), manifest: { staff: [hash('a')], events: [hash('b'), hash('d')] } }, [{ hash: hash('a'), data: bytes('other') }, { hash: hash('d'), data: bytes('D') }]);
    // A manifest naming a chunk neither given nor stored: refused, nothing written.
    await expect(s.store.putCheckpoint({ seq: 5, at: t(5), manifest: { staff: [hash('e')] } }, [{ hash: hash('f'), data: bytes('F') }])).rejects.toThrow(/1 of its 1 chunks are neither given nor stored/);
    expect(await s.store.checkpointAtOrBefore(t(5))).toEqual({ seq: 4, at: t(4), manifest: { staff: [hash('a')], events: [hash('b'), hash('d')] } });
    expect((await s.store.checkpointAtOrBefore(t(3)))?.seq).toBe(2);
    expect(await s.store.checkpointAtOrBefore(t(1))).toBeNull();
    expect(await s.store.checkpointRange()).toEqual({ first: { seq: 2, at: t(2) }, last: { seq: 4, at: t(4) }, count: 2 });
    const chunks = await s.store.readChunks([hash('a'), hash('d'), hash('f'), hash('z')]);
    expect([...chunks.keys()].sort()).toEqual([hash('a'), hash('d')]);
    expect(chunks.get(hash('a'))!.toString()).toBe('A');

    expect((await s.store.changesBetween(2, t(4), 100)).map((b) => b.seq)).toEqual([3, 4]);
    expect((await s.store.changesBetween(2, t(4), 1)).map((b) => b.seq)).toEqual([3]);
    expect((await s.store.changesBetween(0, t(4), 100))[2]).toEqual({ seq: 3, at: t(3), changes: [upsert({ ...staff('S1'), openTasks: 3 })] });
    expect(await s.store.changesBetween(4, t(4), 100)).toEqual([]);
    expect(await s.store.changesBetween(0, t(0), 100)).toEqual([]);
    expect((await s.store.changesBetween(5, t(99), 100)).map((b) => b.seq)).toEqual([6]);
    const size = await s.store.historySize();
    expect(size).toMatchObject({ checkpoints: 2, chunks: 4, chunkBytes: 4, batches: 6, first: { seq: 2 }, last: { seq: 4 } });
    expect(size.changeBytes).toBeGreaterThan(6 * 100);
  });

  it('prunes by time: keeps the newest checkpoint at or before the bound and the log after it; a client behind it gets null (a snapshot)', async ({ dataDir, onTestFinished }) => {
    const s = await kinds[kind]!(dataDir);
    onTestFinished(() => s.close());
    for (let seq = 1; seq <= 6; seq++) await s.store.commit({ seq, at: t(seq), changes: [upsert({ ...staff('S1'), openTasks: seq })] });
    expect(await s.store.pruneHistory(t(9), 100)).toEqual({ checkpoints: 0, batches: 0, chunks: 0 }); // no checkpoint: nothing goes
    for (const [seq, own] of [[2, 'b'], [4, 'c'], [6, 'd']] as const) {
      await s.store.putCheckpoint({ seq, at: t(seq), manifest: { rules: [hash('a')], staff: [hash(own)] } }, [{ hash: hash('a'), data: bytes('A') }, { hash: hash(own), data: bytes(own) }]);
    }
    // Limited to one row of each a call: the oldest first.
    expect(await s.store.pruneHistory(t(5), 1)).toEqual({ checkpoints: 1, batches: 1, chunks: 1 });
    expect(await s.store.changesSince(1, 100)).not.toBeNull();
    expect(await s.store.pruneHistory(t(5), 100)).toEqual({ checkpoints: 0, batches: 3, chunks: 0 });
    expect(await s.store.checkpointRange()).toEqual({ first: { seq: 4, at: t(4) }, last: { seq: 6, at: t(6) }, count: 2 });
    expect(await s.store.changesSince(3, 100)).toBeNull();
    expect((await s.store.changesSince(4, 100))?.map((b) => b.seq)).toEqual([5, 6]);
    expect([...(await s.store.readChunks([hash('a'), hash('b'), hash('c')])).keys()].sort()).toEqual([hash('a'), hash('c')]);
    // Everything before the last checkpoint pruned: the seq stays, the next batch follows it.
    expect(await s.store.pruneHistory(t(60), 100)).toEqual({ checkpoints: 1, batches: 2, chunks: 1 });
    expect((await s.store.load()).seq).toBe(6);
    expect(await s.store.changesSince(6, 100)).toEqual([]);
    expect(await s.store.changesSince(5, 100)).toBeNull();
    await s.store.commit({ seq: 7, at: t(7), changes: [] });
    expect((await s.store.changesSince(6, 100))?.map((b) => b.seq)).toEqual([7]);
    expect(await s.store.historySize()).toMatchObject({ checkpoints: 1, chunks: 2, batches: 1 });
  });
});

describe.each(Object.keys(kinds))('backend store conformance, calls (migration 9): %s', (kind) => {
  const t = (minute: number): string => new Date(Date.parse(at) + minute * 60_000).toISOString();
  const record = (id: string, minute: number, eventId: string | null): CallRow => ({
    id,
    at: t(minute),
    eventId,
    userId: 'u1',
    data: {
      id, direction: 'outgoing', peer: 'S1', peerName: '张三', video: false, startedAt: t(minute), answeredAt: null, endedAt: t(minute), durationS: 0, result: 'no-answer', cause: '',
      eventId, groupId: null, userId: 'u1', at: t(minute), userName: '调度员', sipUser: 'sip-u1', recording: null, peerStaffId: 'S1', districtId: 'D1', gridId: 'G1',
    },
  });

  it('keeps a batch’s calls with it (an id kept already stays), reads them by time and event, prunes the oldest first', async ({ dataDir, onTestFinished }) => {
    const s = await kinds[kind]!(dataDir);
    onTestFinished(() => s.close());
    await s.store.commit({ seq: 1, at: t(1), changes: [], calls: [record('call-a', 1, 'E1'), record('call-b', 2, null)] });
    await s.store.commit({ seq: 2, at: t(3), changes: [], calls: [record('call-c', 3, 'E1'), { ...record('call-a', 9, null), userId: 'other' }] });
    // A batch that fails leaves no call behind (the same transaction).
    await expect(s.store.commit({ seq: 2, at: t(4), changes: [], calls: [record('call-d', 4, 'E1')] })).rejects.toThrow(/seq 2 is not after 2/);
    const ids = async (filter: Omit<CallFilter, 'limit'>, limit = 10): Promise<string[]> => (await s.store.callsIn({ ...filter, limit })).map((c) => c.id);
    expect(await ids({ from: t(0), to: t(60) })).toEqual(['call-a', 'call-b', 'call-c']);
    expect(await s.store.callsIn({ from: t(0), to: t(60), limit: 1 })).toEqual([record('call-a', 1, 'E1')]);
    expect(await ids({ from: t(2), to: t(3) })).toEqual(['call-b']); // from inclusive, to exclusive
    expect(await ids({ from: t(0), to: t(60), eventId: 'E1' })).toEqual(['call-a', 'call-c']);
    expect(await ids({ from: t(2), to: t(60), eventId: 'E1' })).toEqual(['call-c']);
    expect(await ids({ from: t(0), to: t(60), eventId: "E1' OR '1'='1" })).toEqual([]);
    expect(await s.store.pruneCalls(t(3), 1)).toBe(1);
    expect(await ids({ from: t(0), to: t(60) })).toEqual(['call-b', 'call-c']);
    expect(await s.store.pruneCalls(t(3), 100)).toBe(1);
    expect(await s.store.pruneCalls(t(3), 100)).toBe(0);
    expect(await ids({ from: t(0), to: t(60) })).toEqual(['call-c']);
  });
});

describe.each(Object.keys(kinds))('backend store conformance, staff tracks (migration 9): %s', (kind) => {
  const row = (hour: number, staffId: string, text: string, n = 1): TrackRow => ({ hour, staffId, points: Buffer.from(text), n });
  const keys = (rows: TrackRow[]): string[] => rows.map((r) => `${r.hour}:${r.staffId}:${r.points.toString()}:${r.n}`).sort();

  it('keeps one track per hour and staff member (a write replaces it), reads a range of hours, of some staff, and prunes the oldest first', async ({ dataDir, onTestFinished }) => {
    const s = await kinds[kind]!(dataDir);
    onTestFinished(() => s.close());
    expect(await s.store.tracksIn(0, 1e9)).toEqual([]);
    await s.store.putTracks([row(495_000, 'S1', 'a'), row(495_000, 'S2', 'b'), row(495_001, 'S1', 'c'), row(495_003, 'S3', 'd')]);
    await s.store.putTracks([row(495_000, 'S1', 'a1', 3), row(495_000, 'S1', 'a2', 7)]); // the last of a key given twice
    expect(keys(await s.store.tracksIn(495_000, 495_001))).toEqual(['495000:S1:a2:7', '495000:S2:b:1', '495001:S1:c:1']);
    expect(keys(await s.store.tracksIn(495_001, 495_003, ['S1', 'S3', 'nobody']))).toEqual(['495001:S1:c:1', '495003:S3:d:1']);
    expect(await s.store.tracksIn(495_002, 495_002)).toEqual([]);
    const [bytes] = await s.store.tracksIn(495_003, 495_003);
    expect(Buffer.isBuffer(bytes!.points)).toBe(true);

    // A bad row refuses the whole write: nothing of it is kept.
    await expect(s.store.putTracks([row(495_004, 'S1', 'e'), row(-1, 'S1', 'f')])).rejects.toThrow(/track row refused/);
    await expect(s.store.putTracks([row(495_004, 'S1', 'e'), row(495_004, 'S2', 'f', 0)])).rejects.toThrow(/track row refused/);
    expect(await s.store.tracksIn(495_004, 495_004)).toEqual([]);
    // Before hour 495_003: three rows, at most two a call, the oldest hour first.
    expect(await s.store.pruneTracks(495_003, 2)).toBe(2);
    expect(keys(await s.store.tracksIn(0, 1e9))).toEqual(['495001:S1:c:1', '495003:S3:d:1']);
    expect(await s.store.pruneTracks(495_003, 2)).toBe(1);
    expect(await s.store.pruneTracks(495_003, 2)).toBe(0);
    expect(keys(await s.store.tracksIn(0, 1e9))).toEqual(['495003:S3:d:1']);
    // Many at once (a minute's write of a whole city), then pruned in one go.
    await s.store.putTracks(Array.from({ length: 2500 }, (_, i) => row(495_010, `M${i}`, `m${i}`, i + 1)));
    const many = await s.store.tracksIn(495_010, 495_010);
    expect(many).toHaveLength(2500);
    expect(many.find((r) => r.staffId === 'M2499')).toMatchObject({ n: 2500, points: Buffer.from('m2499') });
    expect(await s.store.pruneTracks(495_011, 5000)).toBe(2501);
  });
});

describe('PostgreSQL store: databases it must not use', () => {
  it('refuses a database of a newer schema, and one holding another program’s tables, with the reason', async () => {
    const newer = postgres.createDatabase('newer');
    await (await PgStore.open(newer)).close();
    const client = new pg.Client({ connectionString: newer });
    await client.connect();
    await client.query("INSERT INTO schema_migrations (version, description) VALUES (99, 'from the future')");
    await client.end();
    const refusal = await PgStore.open(newer).catch((e: unknown) => e);
    expect(refusal).toBeInstanceOf(StoreOpenError);
    expect(refusal).toMatchObject({ code: 'database-newer', message: expect.stringMatching(/schema version 99, newer than this backend knows \(9\)/) });

    const foreign = postgres.createDatabase('foreign');
    const other = new pg.Client({ connectionString: foreign });
    await other.connect();
    await other.query('CREATE TABLE invoices (id int)');
    await other.end();
    await expect(PgStore.open(foreign)).rejects.toMatchObject({ code: 'database-not-ours', message: expect.stringContaining('invoices') });
  });

  it('migrates a database of schema 1 (one instance) to 2 (several instances), 3 (the key-person register) and 4 (sign-in), keeping what it holds', async () => {
    const url = postgres.createDatabase('schema_one');
    const raw = new pg.Client({ connectionString: url });
    await raw.connect();
    await raw.query('BEGIN');
    await raw.query('CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, description TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())');
    await raw.query(PG_MIGRATIONS[0]!.sql);
    await raw.query("INSERT INTO schema_migrations (version, description) VALUES (1, 'v1')");
    await raw.query("INSERT INTO changes (seq, at, changes) VALUES (1, 'x', '[]')");
    await raw.query("INSERT INTO users (id, name, role, district_scope, token_hash) VALUES ('u1', '调度员', 'dispatcher', NULL, 'h1')");
    await raw.query('COMMIT');
    const store = await PgStore.open(url);
    expect((await store.load()).seq).toBe(1);
    expect(await store.findLogin('u1')).toMatchObject({ passwordHash: null, failedLogins: 0, lockedUntil: null, disabled: false });
    expect((await store.findUserByTokenHash('h1'))?.id).toBe('u1');
    await store.close();
    const { rows } = await raw.query<{ v: number }>('SELECT MAX(version) AS v FROM schema_migrations');
    const comment = await raw.query<{ c: string | null }>("SELECT obj_description('changes'::regclass) AS c");
    const table = await raw.query<{ n: string }>('SELECT COUNT(*) AS n FROM key_persons');
    await raw.end();
    expect(rows[0]?.v).toBe(PG_MIGRATIONS.at(-1)!.version);
    expect(table.rows[0]?.n).toBe('0');
    expect(comment.rows[0]?.c).toContain('write turn');
  });

  it('migrates a database of schema 7 to 8: ended deliveries get when they ended, each attachment its uploader', async () => {
    const url = postgres.createDatabase('schema_seven');
    const raw = new pg.Client({ connectionString: url });
    await raw.connect();
    await raw.query('BEGIN');
    await raw.query('CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, description TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())');
    for (const m of PG_MIGRATIONS.filter((x) => x.version <= 7)) {
      await raw.query(m.sql);
      await raw.query('INSERT INTO schema_migrations (version, description) VALUES ($1, $2)', [m.version, m.description]);
    }
    await raw.query("INSERT INTO api_keys (id, name, source, key_hash, rate_per_minute, created_at, created_by, webhook_url, webhook_secret) VALUES ('k1', '12345', 'hotline', 'kh', 600, 't', 'admin', 'https://12345.example/hook', 'whsec_x')");
    await raw.query("INSERT INTO webhook_deliveries (id, key_id, event_id, state, payload, delivered_at) VALUES ('d1', 'k1', 'E1', 'delivered', '{}', '2030-01-01T00:00:00.000Z'), ('d2', 'k1', 'E2', 'failed', '{}', NULL), ('d3', 'k1', 'E3', 'waiting', '{}', NULL)");
    await raw.query("INSERT INTO blobs (sha256, bytes) VALUES ('h1', '\\x01')");
    await raw.query("INSERT INTO attachments (id, kind, mime, size, name, created_at, created_by) VALUES ('h1', 'image', 'image/jpeg', 1, 'a.jpg', 't0', 'u1')");
    await raw.query('COMMIT');
    const store = await PgStore.open(url);
    expect(await store.attachmentUploadedBy('h1', 'u1')).toBe(true);
    expect(await store.attachmentUploadedBy('h1', 'u2')).toBe(false);
    const [delivered] = await store.webhooksIn('delivered', 10);
    const [failed] = await store.webhooksIn('failed', 10);
    const [waiting] = await store.webhooksIn('waiting', 10);
    expect(delivered).toMatchObject({ endedAt: '2030-01-01T00:00:00.000Z', url: null });
    expect(failed!.endedAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/); // given up before: ended at the migration
    expect(waiting).toMatchObject({ endedAt: null, url: null });
    await store.close();
    await raw.end();
  });

  it('migrates a database of schema 8 to 9: the log it holds is read by time, no checkpoint yet', async () => {
    const url = postgres.createDatabase('schema_eight');
    const raw = new pg.Client({ connectionString: url });
    await raw.connect();
    await raw.query('BEGIN');
    await raw.query('CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, description TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())');
    for (const m of PG_MIGRATIONS.filter((x) => x.version <= 8)) {
      await raw.query(m.sql);
      await raw.query('INSERT INTO schema_migrations (version, description) VALUES ($1, $2)', [m.version, m.description]);
    }
    await raw.query(`INSERT INTO changes (seq, at, changes) VALUES (1, '${at}', '[]'), (2, '2026-11-30T09:00:00.000Z', '[]')`);
    await raw.query('COMMIT');
    const store = await PgStore.open(url);
    expect((await store.changesBetween(0, at, 10)).map((b) => b.seq)).toEqual([1]);
    expect(await store.checkpointRange()).toBeNull();
    expect((await store.load()).seq).toBe(2);
    await store.close();
    const { rows } = await raw.query<{ name: string }>("SELECT indexname AS name FROM pg_indexes WHERE indexname IN ('changes_at', 'checkpoints_at', 'calls_at', 'calls_event') ORDER BY indexname");
    const tables = await raw.query<{ n: string }>("SELECT COUNT(*)::text AS n FROM information_schema.tables WHERE table_name IN ('checkpoints', 'checkpoint_chunks', 'tracks', 'calls')");
    await raw.end();
    expect(rows.map((r) => r.name)).toEqual(['calls_at', 'calls_event', 'changes_at', 'checkpoints_at']);
    expect(tables.rows[0]?.n).toBe('4');
  });

  it('refuses another tool’s schema_migrations', async () => {
    const rails = postgres.createDatabase('rails');
    const other = new pg.Client({ connectionString: rails });
    await other.connect();
    await other.query("CREATE TABLE schema_migrations (version varchar PRIMARY KEY); INSERT INTO schema_migrations VALUES ('20240101120000')");
    await other.end();
    await expect(PgStore.open(rails)).rejects.toMatchObject({ code: 'database-not-ours' });
  });

  it('says which database it cannot reach, without the password', async () => {
    const refusal = (await PgStore.open(`postgres://zongzhi:s3cret@127.0.0.1:${postgres.port + 1}/nowhere`).catch((e: unknown) => e)) as Error;
    expect(refusal.message).toMatch(/^cannot reach the database at postgres:\/\/zongzhi@127\.0\.0\.1:\d+\/nowhere: /);
    expect(refusal.message).not.toContain('s3cret');
    const inQuery = (await PgStore.open(`postgres://zongzhi@127.0.0.1:${postgres.port + 1}/nowhere?password=s3cret`).catch((e: unknown) => e)) as Error;
    expect(inQuery.message).toMatch(/^cannot reach the database at /);
    expect(inQuery.message).not.toContain('s3cret');
  });
});

describe('PostgreSQL store: several instances on one database', () => {
  it('serialises write turns of two instances into one gapless order, each deciding on what the other committed', async () => {
    const url = postgres.createDatabase('two_writers');
    const [a, b] = [await PgStore.open(url), await PgStore.open(url)];
    try {
      const known = { a: 0, b: 0 };
      const turn = (store: PgStore, who: 'a' | 'b', n: number): Promise<void> =>
        store.writeTurn(known[who], async (t) => {
          for (const batch of t.missed) {
            expect(batch.seq).toBe(known[who] + 1);
            known[who] = batch.seq;
          }
          await t.commit({ seq: known[who] + 1, at, changes: [upsert({ ...staff(`S-${who}-${n}`), openTasks: n })] });
          known[who]++;
        });
      // Each instance one turn after another (its pipeline is serial), the two at once.
      const run = async (store: PgStore, who: 'a' | 'b'): Promise<void> => {
        for (let n = 0; n < 40; n++) await turn(store, who, n);
      };
      await Promise.all([run(a, 'a'), run(b, 'b')]);
      const log = await a.changesSince(0, 1000);
      expect(log?.map((batch) => batch.seq).join(',')).toEqual(Array.from({ length: 80 }, (_, i) => i + 1).join(','));
      expect((await b.load()).state.staff.size).toBe(80);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('tells the other instances at each commit, and gives the lead to one instance at a time, then to another when it goes', async () => {
    const url = postgres.createDatabase('lead');
    const [a, b] = [await PgStore.open(url), await PgStore.open(url)];
    try {
      let pokes = 0;
      const feed = b.watchCommits(() => pokes++, () => {});
      await until(() => pokes > 0);
      const before = pokes;
      await a.commit({ seq: 1, at, changes: [] });
      await until(() => pokes > before);
      await feed.close();

      const leading = { a: false, b: false };
      const leadA = a.lead((now) => (leading.a = now));
      await until(() => leading.a);
      const leadB = b.lead((now) => (leading.b = now));
      await new Promise((r) => setTimeout(r, 1500)); // b has tried (every second) and must not hold it
      expect(leading).toEqual({ a: true, b: false });
      await leadA.close();
      await until(() => leading.b);
      expect(leading).toEqual({ a: false, b: true });
      await leadB.close();
    } finally {
      await a.close();
      await b.close();
    }
  });
});

async function until(test: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!test()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}
