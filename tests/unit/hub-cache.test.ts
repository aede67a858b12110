import { describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { HubCache, CACHE_FILE_NAME, backoffDelay } from '../../hub';
import { CACHE_MIGRATIONS } from '../../hub/cache/migrations';
import { StoreVersionError, migrate } from '../../node-util/sqlite';
import { silentLogger } from '../../node-util/logger';
import { makeTempDir } from '../../harness/temp';
import type { CallLogEntry } from '../../protocol';

describe('hub cache migrations (one test each)', () => {
  it('1: entities, meta, outbox, snapshot chunks', () => {
    const db = new Database(':memory:');
    migrate(db, CACHE_MIGRATIONS.slice(0, 1));
    expect(db.pragma('user_version', { simple: true })).toBe(1);
    const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all().map((r) => (r as { name: string }).name);
    expect(tables).toEqual(expect.arrayContaining(['entities', 'meta', 'outbox', 'snapshot_chunks']));
    // The outbox keeps insertion order and refuses unknown states.
    db.prepare("INSERT INTO outbox (command_id, type, payload, status, queued_at) VALUES ('a', 't', '{}', 'pending', 'x')").run();
    expect(() => db.prepare("INSERT INTO outbox (command_id, type, payload, status, queued_at) VALUES ('b', 't', '{}', 'lost', 'x')").run()).toThrow(/CHECK/);
  });

  it('2: an index on the outbox status, keeping rows written under version 1', () => {
    const db = new Database(':memory:');
    migrate(db, CACHE_MIGRATIONS.slice(0, 1));
    db.prepare("INSERT INTO outbox (command_id, type, payload, status, queued_at) VALUES ('a', 't', '{}', 'pending', 'x')").run();
    migrate(db, CACHE_MIGRATIONS.slice(0, 2));
    expect(db.pragma('user_version', { simple: true })).toBe(2);
    expect(db.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND name = 'outbox_status'").get()).toBeDefined();
    expect(db.prepare('SELECT COUNT(*) AS n FROM outbox').get()).toEqual({ n: 1 });
  });

  it('3: the call log, keeping what versions 1–2 wrote; a finished call is kept once and read newest first', () => {
    const temp = makeTempDir();
    const file = join(temp.dir, CACHE_FILE_NAME);
    const old = new Database(file);
    migrate(old, CACHE_MIGRATIONS.slice(0, 2));
    old.prepare("INSERT INTO outbox (command_id, type, payload, status, queued_at) VALUES ('a', 't', '{}', 'pending', 'x')").run();
    old.close();
    const entry = (id: string, startedAt: string): CallLogEntry => ({ id, direction: 'outgoing', peer: 's00001', peerName: '张三', video: true, startedAt, answeredAt: startedAt, endedAt: startedAt, durationS: 0, result: 'answered', cause: '', eventId: 'E1', groupId: null, userId: 'dispatcher' });
    let cache = new HubCache(file, silentLogger);
    expect(cache.db.pragma('user_version', { simple: true })).toBe(CACHE_MIGRATIONS.length);
    cache.addCall(entry('call-a', '2026-11-22T01:00:00.000Z'), 2);
    cache.addCall(entry('call-a', '2026-11-22T01:00:00.000Z'), 2);
    cache.addCall(entry('call-b', '2026-11-22T03:00:00.000Z'), 2);
    cache.addCall(entry('call-c', '2026-11-22T02:00:00.000Z'), 2);
    cache.close();
    cache = new HubCache(file, silentLogger);
    // Only the newest two are kept (the limit), newest first; the outbox row from version 1 is still there.
    expect(cache.recentCalls(10).map((c) => c.id)).toEqual(['call-b', 'call-c']);
    expect(cache.recentCalls(10)[0]).toEqual(entry('call-b', '2026-11-22T03:00:00.000Z'));
    expect(cache.command('a')).not.toBeNull();
    cache.close();
    temp.cleanup();
  });

  it("4: each cached event's history becomes records of its own (the offline picture keeps it); a staged old-shape snapshot is dropped; the outbox is kept", () => {
    const db = new Database(':memory:');
    migrate(db, CACHE_MIGRATIONS.slice(0, 3));
    const timeline = [{ at: 't0', actor: 'sim:s1', actorName: '王建', action: 'report' }, { at: 't1', actor: 'dispatcher', actorName: '调度员', action: 'accept', note: '已受理' }];
    db.prepare("INSERT INTO entities (collection, id, data) VALUES ('events', 'E1', ?)").run(JSON.stringify({ id: 'E1', districtId: 'd01', timeline }));
    db.prepare("INSERT INTO meta (key, value) VALUES ('lastSeq', '41'), ('stagingSnapshot', 'snap-1')").run();
    db.prepare("INSERT INTO snapshot_chunks (snapshot_id, idx, collection, items) VALUES ('snap-1', 0, 'events', '[]')").run();
    db.prepare("INSERT INTO outbox (command_id, type, payload, status, queued_at) VALUES ('a', 't', '{}', 'pending', 'x')").run();
    migrate(db, CACHE_MIGRATIONS.slice(0, 4));
    expect(db.pragma('user_version', { simple: true })).toBe(4);
    const data = (collection: string): unknown[] => db.prepare<[string], { data: string }>('SELECT data FROM entities WHERE collection = ? ORDER BY id').all(collection).map((r) => JSON.parse(r.data));
    expect(data('events')).toEqual([{ id: 'E1', districtId: 'd01', timelineCount: 2, actors: ['sim:s1', 'dispatcher'] }]);
    expect(data('timeline')).toEqual(timeline.map((t, index) => ({ ...t, id: `E1.000${index}`, eventId: 'E1', districtId: 'd01', index })));
    expect(db.prepare("SELECT value FROM meta WHERE key = 'lastSeq'").get()).toEqual({ value: '41' });
    expect(db.prepare("SELECT value FROM meta WHERE key = 'stagingSnapshot'").get()).toEqual({ value: '' });
    expect(db.prepare('SELECT COUNT(*) AS n FROM snapshot_chunks').get()).toEqual({ n: 0 });
    expect(db.prepare('SELECT COUNT(*) AS n FROM outbox').get()).toEqual({ n: 1 });
  });

  it('5: attachments kept for offline viewing, one row per attachment and variant; what versions 1–4 wrote is kept', () => {
    const db = new Database(':memory:');
    migrate(db, CACHE_MIGRATIONS.slice(0, 4));
    db.prepare("INSERT INTO outbox (command_id, type, payload, status, queued_at) VALUES ('a', 't', '{}', 'pending', 'x')").run();
    migrate(db, CACHE_MIGRATIONS.slice(0, 5));
    expect(db.pragma('user_version', { simple: true })).toBe(5);
    const put = db.prepare('INSERT INTO attachment_blobs (id, variant, mime, name, size, bytes, last_used) VALUES (?, ?, ?, ?, ?, ?, ?)');
    put.run('a'.repeat(64), 'full', 'image/jpeg', 'a.jpg', 3, Buffer.from([1, 2, 3]), 1);
    put.run('a'.repeat(64), 'thumb', 'image/webp', 'a.jpg.thumb.webp', 1, Buffer.from([9]), 2);
    expect(() => put.run('a'.repeat(64), 'full', 'image/jpeg', 'a.jpg', 3, Buffer.from([1, 2, 3]), 3)).toThrow(/UNIQUE/);
    expect(() => put.run('b'.repeat(64), 'poster', 'image/jpeg', 'b.jpg', 1, Buffer.from([1]), 3)).toThrow(/CHECK/);
    expect(db.prepare('SELECT substr(bytes, 2, 2) AS part FROM attachment_blobs WHERE variant = ?').get('full')).toEqual({ part: Buffer.from([2, 3]) });
    expect(db.prepare('SELECT COUNT(*) AS n FROM outbox').get()).toEqual({ n: 1 });
  });

  it("7: a refused command's reason (key and parameters); a row refused under version 6 keeps its message, without a reason", () => {
    const temp = makeTempDir();
    const file = join(temp.dir, CACHE_FILE_NAME);
    const old = new Database(file);
    migrate(old, CACHE_MIGRATIONS.slice(0, 6));
    old.prepare("INSERT INTO outbox (command_id, type, payload, status, queued_at, error_code, error_message) VALUES ('old', 'event.accept', '{}', 'rejected', 'x', 'conflict', '旧的原因')").run();
    old.close();
    const cache = new HubCache(file, silentLogger);
    expect(cache.db.pragma('user_version', { simple: true })).toBe(7);
    expect(cache.command('old')!.error).toEqual({ code: 'conflict', message: '旧的原因' });
    cache.addCommand({ id: 'new', type: 'event.accept', payload: {}, queuedAt: 'x', expiresAt: null });
    cache.markCommand('new', 'rejected', { code: 'invalid', message: '事件 E9 不存在', reason: { key: 'event.notFound', params: { id: 'E9' } } });
    expect(cache.command('new')!.error).toEqual({ code: 'invalid', message: '事件 E9 不存在', reason: { key: 'event.notFound', params: { id: 'E9' } } });
    // A reason the file holds that does not fit (hand-edited, or from another build) is dropped, not the row.
    cache.db.prepare("UPDATE outbox SET error_reason = ? WHERE command_id = 'new'").run('{"key":"Not A Key","params":{}}');
    expect(cache.command('new')!.error).toEqual({ code: 'invalid', message: '事件 E9 不存在' });
    cache.db.prepare("UPDATE outbox SET error_reason = ? WHERE command_id = 'new'").run('not json');
    expect(cache.outbox().map((e) => e.id)).toEqual(['old', 'new']);
    cache.close();
    temp.cleanup();
  });

  it('refuses a cache written by a newer program, and leaves it alone', () => {
    const temp = makeTempDir();
    const file = join(temp.dir, CACHE_FILE_NAME);
    const db = new Database(file);
    db.pragma('user_version = 42');
    db.close();
    expect(() => new HubCache(file, silentLogger)).toThrow(StoreVersionError);
    expect(readdirSync(temp.dir).filter((f) => f.includes('corrupt'))).toEqual([]);
    temp.cleanup();
  });

  it('moves a corrupt file aside and starts fresh, with a notice', () => {
    const temp = makeTempDir();
    const file = join(temp.dir, CACHE_FILE_NAME);
    writeFileSync(file, 'this is not a database, it is a shift report');
    const cache = new HubCache(file, silentLogger);
    expect(cache.notice).toMatchObject({ code: 'cache-rebuilt', keptAs: expect.stringMatching(/corrupt-\d+$/) });
    expect(cache.lastSeq).toBe(0);
    const aside = readdirSync(temp.dir).find((f) => f.startsWith(`${CACHE_FILE_NAME}.corrupt-`) && !f.endsWith('-wal') && !f.endsWith('-shm'))!;
    expect(readFileSync(join(temp.dir, aside), 'utf8')).toContain('shift report');
    cache.close();
    expect(existsSync(file)).toBe(true);
    temp.cleanup();
  });
});

describe('outbox and staged snapshots', () => {
  it('keeps commands in order across reopen; rejection keeps the reason', () => {
    const temp = makeTempDir();
    const file = join(temp.dir, CACHE_FILE_NAME);
    let cache = new HubCache(file, silentLogger);
    for (let i = 0; i < 5; i++) cache.addCommand({ id: `cmd-${i}-xxxxxx`, type: 'event.comment', payload: { i }, queuedAt: new Date().toISOString(), expiresAt: null });
    cache.markCommand('cmd-2-xxxxxx', 'rejected', { code: 'conflict', message: 'it is closed' });
    cache.close();
    cache = new HubCache(file, silentLogger);
    expect(cache.pendingCommands().map((c) => c.id)).toEqual(['cmd-0-xxxxxx', 'cmd-1-xxxxxx', 'cmd-3-xxxxxx', 'cmd-4-xxxxxx']);
    expect(cache.command('cmd-2-xxxxxx')).toMatchObject({ status: 'rejected', error: { code: 'conflict', message: 'it is closed' } });
    expect(cache.outboxCounts()).toEqual({ pending: 4, rejected: 1 });
    expect(() => cache.addCommand({ id: 'cmd-0-xxxxxx', type: 'x', payload: {}, queuedAt: 'x', expiresAt: null })).toThrow(/UNIQUE/);
    cache.close();
    temp.cleanup();
  });

  it('stages a snapshot chunk by chunk, survives a reopen, and swaps it in atomically', () => {
    const temp = makeTempDir();
    const file = join(temp.dir, CACHE_FILE_NAME);
    let cache = new HubCache(file, silentLogger);
    cache.applyDelta(5, [{ op: 'upsert', collection: 'departments', id: 'old', data: { id: 'old', code: 'O', name: '旧' } }]);
    cache.beginSnapshot('snap-1', 0);
    cache.stageChunk('snap-1', 0, 'departments', [{ id: 'a', code: 'A', name: '甲' }]);
    cache.close();
    cache = new HubCache(file, silentLogger);
    expect(cache.stagedSnapshot()).toEqual({ snapshotId: 'snap-1', nextIndex: 1 });
    expect(cache.loadState().get('departments', 'old')).toBeDefined(); // the confirmed state is untouched meanwhile
    cache.beginSnapshot('snap-1', 1);
    cache.stageChunk('snap-1', 1, 'departments', [{ id: 'b', code: 'B', name: '乙' }]);
    cache.finishSnapshot('snap-1', 9);
    const state = cache.loadState();
    expect([...state.collections.departments.keys()].sort()).toEqual(['a', 'b']);
    expect(cache.lastSeq).toBe(9);
    expect(cache.stagedSnapshot()).toBeNull();
    cache.close();
    temp.cleanup();
  });
});

describe('reconnect backoff', () => {
  it('grows exponentially with jitter and is capped', () => {
    expect(backoffDelay(0, 500, 30_000, () => 0)).toBe(250);
    expect(backoffDelay(0, 500, 30_000, () => 1)).toBe(500);
    expect(backoffDelay(3, 500, 30_000, () => 0.5)).toBe(3000);
    expect(backoffDelay(20, 500, 30_000, () => 1)).toBe(30_000);
    expect(backoffDelay(1000, 500, 30_000, () => 0)).toBe(15_000);
  });
});
