/**
 * Checkpoints for replay on a real SQLite store, without a backend: a city cut into chunks by day, written once
 * by hash (a second checkpoint sends only what changed), rebuilt exactly with an LRU far too small to hold it, and
 * a damaged chunk refused with the reason rather than read as records.
 */
import { describe, expect } from 'vitest';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import Database from 'better-sqlite3';
import { CityState, upsert } from '../../domain';
import type { Change, GovEvent, Staff } from '../../protocol';
import { SqliteStore } from '../../backend/store/sqlite-store';
import { CheckpointWriter } from '../../backend/history/checkpoints';
import { HistoryReader } from '../../backend/history/state-at';
import { cutCollection } from '../../backend/history/chunks';
import { it } from '../../harness/fixtures';

const T0 = Date.parse('2026-11-30T00:00:00Z');
const event = (id: string, day: number): GovEvent => ({ id, reportedAt: new Date(T0 - day * 86_400_000).toISOString(), title: id }) as unknown as GovEvent;
const staff = (id: string, status: string): Staff => ({ id, status, position: [118, 24] }) as unknown as Staff;

describe('checkpoints for replay', () => {
  it('cuts events by the day they were reported, each chunk sorted by id; other collections whole', () => {
    const groups = cutCollection('events', [event('E3', 0), event('E1', 1), event('E2', 0)]);
    expect([...groups.keys()].sort()).toEqual(['2026-11-29', '2026-11-30']);
    expect(groups.get('2026-11-30')!.map((e) => (e as GovEvent).id)).toEqual(['E2', 'E3']);
    expect([...cutCollection('staff', [staff('S2', 'idle'), staff('S1', 'idle')]).entries()]).toEqual([['', [staff('S1', 'idle'), staff('S2', 'idle')]]]);
  });

  it('writes only the chunks that changed, and rebuilds every state exactly with a tiny chunk cache', async ({ dataDir, onTestFinished }) => {
    const store = new SqliteStore(join(dataDir, 'backend.sqlite'));
    onTestFinished(() => store.close());
    const state = new CityState();
    let now = T0;
    const clock = { now: () => new Date(now), nowMs: () => now };
    const commit = async (changes: Change[]): Promise<void> => {
      const batch = { seq: state.seq + 1, at: new Date(now).toISOString(), changes };
      await store.commit(batch);
      state.apply(changes);
      state.seq = batch.seq;
    };
    await commit([...Array.from({ length: 30 }, (_, d) => upsert('events', event(`E${d}`, d))), upsert('staff', staff('S1', 'idle'))]);
    const writer = new CheckpointWriter({ store, state, clock });
    expect(await writer.due()).toBe(true); // none stored yet
    await writer.write();
    const firstBytes = writer.bytesWritten;
    expect(await writer.due()).toBe(false);
    const snapshots: Array<{ at: number; json: string }> = [{ at: now, json: JSON.stringify([...state.collections.events.values()].sort((a, b) => (a.id < b.id ? -1 : 1))) }];
    for (let i = 1; i <= 5; i++) {
      now += 10 * 60_000;
      await commit([upsert('events', { ...event(`E0`, 0), title: `更新 ${i}` }), upsert('staff', staff('S1', i % 2 ? 'busy' : 'idle'))]);
      snapshots.push({ at: now, json: JSON.stringify([...state.collections.events.values()].sort((a, b) => (a.id < b.id ? -1 : 1))) });
      if (i === 3) {
        await writer.write();
        // Today's events and the staff changed: 2 chunks of 31 sent again, the 29 older days not.
        expect((await store.historySize()).chunks).toBe(31 + 2);
      }
    }
    expect(writer.bytesWritten - firstBytes).toBeLessThan(firstBytes / 5);
    const reader = new HistoryReader({ store, maxChunkBytes: 200 });
    for (const s of [...snapshots].reverse()) {
      const rebuilt = await reader.stateAt(s.at);
      expect(JSON.stringify([...rebuilt.state.collections.events.values()].sort((a, b) => (a.id < b.id ? -1 : 1)))).toBe(s.json);
    }
    expect(reader.stats.chunksDecoded).toBeGreaterThan(31); // evicted and read again: the cache stays within its bound
  });

  it('refuses a damaged chunk with the reason', async ({ dataDir, onTestFinished }) => {
    const file = join(dataDir, 'backend.sqlite');
    const store = new SqliteStore(file);
    onTestFinished(() => store.close());
    const state = new CityState();
    state.apply([upsert('staff', staff('S1', 'idle'))]);
    const writer = new CheckpointWriter({ store, state, clock: { now: () => new Date(T0), nowMs: () => T0 } });
    await writer.write();
    const db = new Database(file);
    // Other records where the chunk's were (valid gzip, valid JSON): its content no longer matches its hash.
    db.prepare('UPDATE checkpoint_chunks SET data = ?').run(gzipSync(JSON.stringify([staff('S9', 'idle')])));
    db.close();
    await expect(new HistoryReader({ store }).stateAt(T0)).rejects.toThrow(/checkpoint chunk [0-9a-f]{12} is damaged/);
  });
});
