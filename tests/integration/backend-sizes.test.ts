/**
 * Size is a property of the model, and every frame the server produces fits the frame limit by construction:
 * a batch larger than a frame goes out in parts (a protocol client and the real hub apply it whole), and a
 * database that already holds an oversize record (written before the bound existed) is served compacted
 * with a note, never a crash.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { MAX_FRAME_BYTES, type GovEvent, type Staff } from '../../protocol';
import { startTestBackend, TEST_TOKENS } from '../support/backend';
import { makeTempDir, waitFor } from '../support/temp';
import { WireClient } from '../support/wire-client';
import { Hub } from '../../electron/hub';
import { EVENT_MAX_BYTES, FOLDED_ACTION, boundEvent, recordBytes, upsert } from '../../domain';

let backend: Awaited<ReturnType<typeof startTestBackend>>;
let temp: { dir: string; cleanup: () => void };

beforeAll(async () => {
  temp = makeTempDir('zongzhi-sizes-');
  // A database from before the bound: one event whose timeline alone is ~3 MB.
  const seeded = await startTestBackend({}, temp.dir);
  const victim = [...seeded.state.collections.events.values()].find((e) => e.status !== 'closed' && e.status !== 'merged')!;
  await seeded.close();
  const huge: GovEvent = { ...victim, timeline: [...victim.timeline, ...Array.from({ length: 500 }, (_, i) => ({ at: victim.reportedAt, actor: 'dispatcher', actorName: '调度员 张敏', action: 'comment', note: `${i} ${'很长的备注'.repeat(400)}` }))] };
  const db = new Database(join(temp.dir, 'backend.sqlite'));
  db.prepare("UPDATE entities SET data = ? WHERE collection = 'events' AND id = ?").run(JSON.stringify(huge), victim.id);
  db.close();
  backend = await startTestBackend({}, temp.dir);
}, 90_000);
afterAll(async () => {
  await backend?.close();
  temp?.cleanup();
});

const frameSizes = (c: WireClient): number[] => c.frames.map((f) => Buffer.byteLength(JSON.stringify(f)));

describe('every frame fits', () => {
  it('an oversize record already in the database is served compacted, with a note that says so', async () => {
    const c = new WireClient({ url: backend.url, token: TEST_TOKENS.dispatcher, record: true });
    await c.waitSynced();
    const huge = [...backend.state.collections.events.values()].find((e) => recordBytes(e) > EVENT_MAX_BYTES)!;
    expect(huge).toBeDefined();
    const served = c.get<GovEvent>('events', huge.id)!;
    expect(recordBytes(served)).toBeLessThanOrEqual(EVENT_MAX_BYTES);
    expect(served.timeline[0]).toEqual(huge.timeline[0]);
    expect(served.timeline.some((t) => t.action === FOLDED_ACTION && /已折叠/.test(t.note ?? ''))).toBe(true);
    expect(served.timeline.at(-1)).toEqual(huge.timeline.at(-1));
    expect(Math.max(...frameSizes(c))).toBeLessThanOrEqual(MAX_FRAME_BYTES);
    // A step on it is committed and every console gets the delta (compacted by the model itself now).
    const ack = await c.command('event.comment', { eventId: huge.id, text: '超限事件仍可处置吗？' }).catch((e: { wire: { code: string } }) => e.wire);
    expect(ack).toMatchObject({ code: 'conflict' });
    await c.command('event.supervise', { eventId: huge.id, note: '督办：超限事件' });
    expect(recordBytes(backend.state.get('events', huge.id))).toBeLessThanOrEqual(EVENT_MAX_BYTES);
    c.close();
  });

  it('a batch larger than a frame arrives in parts; a protocol client and the real hub apply it whole, with no gap', async () => {
    const dir = makeTempDir('zongzhi-sizes-hub-');
    const hub = new Hub({ dataDir: dir.dir, version: 'test', backend: { url: backend.url, token: TEST_TOKENS.dispatcher }, link: { backoffBaseMs: 50, backoffMaxMs: 400, silenceLimitMs: 4000 }, flushIntervalMs: 20 });
    const c = new WireClient({ url: backend.url, token: TEST_TOKENS.dispatcher, record: true });
    try {
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
    } finally {
      c.close();
      hub.close();
      dir.cleanup();
    }
  });
});

describe('the bound itself', () => {
  it('is deterministic, keeps the report and the newest entries, and leaves a fitting record alone', () => {
    const event = [...backend.state.collections.events.values()].find((e) => recordBytes(e) < 10_000)!;
    expect(boundEvent(event)).toBe(event);
    const long = { ...event, timeline: [...event.timeline, ...Array.from({ length: 300 }, (_, i) => ({ at: event.reportedAt, actor: 'x', actorName: 'x', action: 'comment', note: `${i}${'字'.repeat(1999)}` }))] };
    const a = boundEvent(long);
    expect(a).toEqual(boundEvent(long));
    expect(recordBytes(a)).toBeLessThanOrEqual(EVENT_MAX_BYTES);
    expect(a.timeline[0]).toEqual(long.timeline[0]);
    expect(a.timeline.slice(-10)).toEqual(long.timeline.slice(-10));
    // Folding again adds to the count instead of stacking fold entries.
    const again = boundEvent({ ...a, timeline: [...a.timeline, ...long.timeline.slice(-60)] });
    expect(again.timeline.filter((t) => t.action === FOLDED_ACTION)).toHaveLength(1);
    expect(recordBytes(again)).toBeLessThanOrEqual(EVENT_MAX_BYTES);
  });
});
