/**
 * Size is a property of the model, and every frame the server produces fits the frame limit by construction:
 * an event's history is records of its own (a database of the old shape, with a history of megabytes in one
 * event's record, is migrated on start), a batch larger than a frame goes out in parts that a protocol client
 * and the real hub apply whole, and comments stop at the history cap with the reason.
 */
import { afterAll, describe, expect, onTestFinished } from 'vitest';
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { MAX_FRAME_BYTES, type GovEvent, type Staff, type TimelineRecord } from '../../protocol';
import { CommandError, MAX_TIMELINE_ENTRIES, executeCommand, upsert, type StateReader } from '../../domain';
import { startTestBackend, TEST_TOKENS } from '../../harness/backend';
import { historyOf } from '../../harness/history';
import { recordingSession } from '../../harness/hub-fixtures';
import { waitFor } from '../../harness/temp';
import { WireClient } from '../../harness/wire-client';
import { it } from '../../harness/fixtures';

let backend: Awaited<ReturnType<typeof startTestBackend>>;
let victim: { id: string; entries: number; lastSeq: number };

/** Turns a database back into the shape of schema 1: each event's history inside its record, the change log kept. */
function toSchemaOne(file: string, hugeEventId: string): number {
  const db = new Database(file);
  db.exec(`
    UPDATE entities SET data = json_set(json_remove(data, '$.timelineCount', '$.actors'), '$.timeline', json((
      SELECT json_group_array(json(json_remove(t.data, '$.id', '$.eventId', '$.districtId', '$.index')))
      FROM (SELECT data FROM entities t WHERE t.collection = 'timeline' AND json_extract(t.data, '$.eventId') = entities.id
            ORDER BY json_extract(t.data, '$.index')) t)))
    WHERE collection = 'events';
    DELETE FROM entities WHERE collection = 'timeline';
    DROP INDEX changes_at;
    DROP TABLE checkpoint_chunks;
    DROP TABLE checkpoints;
    DROP TABLE tracks;
    DROP TABLE calls;
    DROP TABLE webhook_deliveries;
    DROP TABLE attachment_uploads;
    DROP TABLE attachment_links;
    DROP TABLE attachments;
    DROP TABLE blobs;
    DROP TABLE api_keys;
    DROP TABLE sign_in_failures;
    DROP INDEX users_staff;
    ALTER TABLE users DROP COLUMN department_id;
    ALTER TABLE users DROP COLUMN staff_id;
    DROP TABLE key_persons;
    DROP TABLE sessions;
    ALTER TABLE users DROP COLUMN password_hash;
    ALTER TABLE users DROP COLUMN failed_logins;
    ALTER TABLE users DROP COLUMN locked_until;
    ALTER TABLE users DROP COLUMN disabled;
    PRAGMA user_version = 1;
  `);
  // One event with a history of ~3 MB inside its own record (what enough long comments used to make).
  const row = db.prepare<[string], { data: string }>("SELECT data FROM entities WHERE collection = 'events' AND id = ?").get(hugeEventId)!;
  const event = JSON.parse(row.data) as GovEvent & { timeline: unknown[] };
  for (let i = 0; i < 500; i++) event.timeline.push({ at: event.reportedAt, actor: 'dispatcher', actorName: '调度员 张敏', action: 'comment', note: `${i} ${'很长的备注'.repeat(400)}` });
  db.prepare("UPDATE entities SET data = ? WHERE collection = 'events' AND id = ?").run(JSON.stringify(event), hugeEventId);
  // A logged change of the old shape, as a client resuming from before the upgrade would ask for.
  const seq = (db.prepare<[], { seq: number }>('SELECT COALESCE(MAX(seq), 0) + 1 AS seq FROM changes').get()!).seq;
  db.prepare('INSERT INTO changes (seq, at, changes) VALUES (?, ?, ?)').run(seq, event.reportedAt, JSON.stringify([{ op: 'upsert', collection: 'events', id: hugeEventId, data: event }]));
  db.close();
  return event.timeline.length;
}

// Two backends in turn on the file's temp dir (the second opens what the first made, turned back into the old shape):
// the upgrade is what is tested, so they stay explicit here; the dir is the `fileDir` fixture's.
it.beforeAll(async ({ fileDir }) => {
  const seeded = await startTestBackend({}, fileDir);
  const open = [...seeded.state.collections.events.values()].find((e) => e.status !== 'closed' && e.status !== 'merged')!;
  const lastSeq = seeded.state.seq;
  await seeded.close();
  const entries = toSchemaOne(join(fileDir, 'backend.sqlite'), open.id);
  victim = { id: open.id, entries, lastSeq };
  backend = await startTestBackend({}, fileDir);
}, 90_000);
afterAll(async () => {
  await backend?.close();
});

const frameSizes = (c: WireClient): number[] => c.frames.map((f) => Buffer.byteLength(JSON.stringify(f)));

describe('an event history of megabytes, from a database of the old shape', () => {
  it('is migrated into records of its own: the event record is small, every entry kept in order, every frame fits', async () => {
    const c = new WireClient({ url: backend.url, token: TEST_TOKENS.dispatcher, record: true });
    await c.waitSynced();
    const event = c.get<GovEvent>('events', victim.id)!;
    expect(event).not.toHaveProperty('timeline');
    expect(event.timelineCount).toBe(victim.entries);
    expect(event.actors).toContain('dispatcher');
    expect(Buffer.byteLength(JSON.stringify(event))).toBeLessThan(8 * 1024);
    const history = historyOf(c.all<TimelineRecord>('timeline'), victim.id);
    expect(history.map((r) => r.index)).toEqual([...Array(victim.entries).keys()]);
    expect(history.at(-1)!.note).toMatch(/^499 /);
    expect(history[0]!.action === 'report' || history[0]!.action === 'assign').toBe(true);
    expect(Math.max(...frameSizes(c))).toBeLessThanOrEqual(MAX_FRAME_BYTES);
    // A step on it appends one record and the delta stays small.
    const from = c.frames.length;
    await c.command('event.supervise', { eventId: victim.id, note: '督办：历史很长的事件' });
    const delta = c.frames.slice(from).find((f) => f.type === 'delta')!;
    expect(Buffer.byteLength(JSON.stringify(delta))).toBeLessThan(8 * 1024);
    expect(historyOf(c.all<TimelineRecord>('timeline'), victim.id)).toHaveLength(victim.entries + 1);
    c.close();
  });

  it('a console resuming from a sequence number of the old log takes a snapshot instead of old-shaped deltas', async () => {
    const c = new WireClient({ url: backend.url, token: TEST_TOKENS.dispatcher, lastSeq: victim.lastSeq });
    await c.waitSynced();
    expect(c.welcome!.sync).toBe('snapshot');
    expect(c.get<GovEvent>('events', victim.id)!.timelineCount).toBeGreaterThanOrEqual(victim.entries);
    c.close();
  });
});

describe('every frame fits', () => {
  it('a batch larger than a frame arrives in parts; a protocol client and the real hub apply it whole, with no gap', async ({ newHub }) => {
    // The hub (in the test's temp dir) is closed after the test by the fixture, the client by onTestFinished.
    const hub = newHub({ version: 'test', backend: { url: backend.url, token: TEST_TOKENS.dispatcher }, link: { backoffBaseMs: 50, backoffMaxMs: 400, silenceLimitMs: 4000 }, flushIntervalMs: 20 });
    const c = new WireClient({ url: backend.url, token: TEST_TOKENS.dispatcher, record: true });
    onTestFinished(() => c.close());
    await c.waitSynced();
    await waitFor(() => hub.connection.value.status === 'online' && hub.cache.lastSeq === backend.state.seq, 'hub online', 30_000);
    // ~2,000 staff records with long (but schema-valid) names: about 3 MB in one committed batch.
    const staff = [...backend.state.collections.staff.values()].slice(0, 2000);
    const seq = await backend.server.commitSystemChanges(() => staff.map((s: Staff) => upsert('staff', { ...s, name: `${s.name}${'长'.repeat(500)}` })));
    await waitFor(() => c.seq === seq, 'client applied the batch', 10_000);
    expect(c.deltaParts).toBeGreaterThanOrEqual(3);
    expect(c.gaps).toEqual([]);
    expect(Math.max(...frameSizes(c))).toBeLessThanOrEqual(MAX_FRAME_BYTES);
    for (const s of staff) expect(c.get<Staff>('staff', s.id)!.name.endsWith('长'.repeat(500))).toBe(true);
    await waitFor(() => hub.cache.lastSeq === seq, 'hub applied the batch', 10_000);
    expect(hub.backendLink!.violations).toBe(0);
    for (const s of staff) expect(hub.confirmed.get('staff', s.id)!.name.endsWith('长'.repeat(500))).toBe(true);
    // A window asking for one event's history gets exactly its records, in any order, read by id.
    const { updates, session } = recordingSession(hub);
    await session.handle('subscribe', { query: { topic: 'collection', collection: 'timeline', filter: { eventIds: [victim.id] } } });
    await waitFor(() => updates.some((u) => u.kind === 'snapshot' && !u.more), 'the history result', 10_000);
    const rows = updates.filter((u) => u.kind === 'snapshot').flatMap((u) => (u.kind === 'snapshot' ? (u.data as Array<{ id: string; eventId: string }>) : []));
    expect(rows.length).toBe(hub.confirmed.get('events', victim.id)!.timelineCount);
    expect(rows.every((r) => r.eventId === victim.id)).toBe(true);
    session.close();
  });
});

describe('the history cap', () => {
  it('refuses comments past it with the reason; steps of the loop still go', () => {
    // A new event (the seeded history may hold none at this hour: one of its events, as if just reported).
    const any = [...backend.state.collections.events.values()].find((e) => e.status === 'new') ?? [...backend.state.collections.events.values()][0]!;
    const event: GovEvent = { ...any, status: 'new', step: 'report', assignee: null };
    // The backend's state, with this one event's history at the cap (read-only: nothing is applied).
    const full: StateReader = { get: (collection, id) => (collection === 'events' && id === event.id ? { ...event, timelineCount: MAX_TIMELINE_ENTRIES } : backend.state.get(collection, id)) as never, all: (collection) => backend.state.all(collection) };
    const ctx = { state: full, actor: { id: 'dispatcher', name: '调度员', role: 'dispatcher' as const, districtScope: null }, now: new Date(), newId: () => 'x', locate: () => null };
    expect(() => executeCommand(ctx, 'event.comment', { eventId: event.id, text: '再加一条' })).toThrow(CommandError);
    expect(() => executeCommand(ctx, 'event.comment', { eventId: event.id, text: '再加一条' })).toThrow(/的历史记录已达 2000 条，不能再添加备注/);
    const accepted = executeCommand(ctx, 'event.accept', { eventId: event.id });
    expect(accepted.changes.find((c) => c.collection === 'timeline')).toMatchObject({ op: 'upsert', id: `${event.id}.${String(MAX_TIMELINE_ENTRIES).padStart(4, '0')}` });
  });
});
