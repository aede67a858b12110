/** The hub's wall memory on a real SQLite cache: unusable saved states are kept aside and said, never used. */
import { describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HubCache } from '../../hub/cache/cache';
import { WallLayouts } from '../../hub/wall-layouts';
import { Hub } from '../../hub/hub';
import { WALL_LIMIT, type WallState } from '../../protocol';
import { silentLogger } from '../../node-util/logger';

function withWalls(run: (walls: WallLayouts, cache: HubCache) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'walls-'));
  const cache = new HubCache(join(dir, 'cache.sqlite'), silentLogger);
  try {
    run(new WallLayouts(cache.db, silentLogger, () => new Date('2026-11-30T08:00:00.000Z')), cache);
  } finally {
    cache.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const put = (cache: HubCache, name: string, data: string): void =>
  void cache.db.prepare("INSERT OR REPLACE INTO wall_layouts (kind, name, data, saved_at) VALUES ('wall', ?, ?, '2026-11-30T00:00:00.000Z')").run(name, data);

describe('wall layouts in the hub cache', () => {
  it('keeps a state that is not JSON, not the shape, or of a newer version aside and reports it once', () => {
    withWalls((walls, cache) => {
      put(cache, 'a', '{not json');
      put(cache, 'b', JSON.stringify({ version: 1, layout: '5', tiles: [], tour: null }));
      put(cache, 'c', JSON.stringify({ version: 2, layout: '4', tiles: [], tour: null, zoom: 3 }));
      expect(walls.read('a')).toMatchObject({ state: null, problem: { code: 'corrupt' } });
      expect(walls.read('b')).toMatchObject({ state: null, problem: { code: 'corrupt' } });
      expect(walls.read('c')).toMatchObject({ state: null, problem: { code: 'newer-version', detail: expect.stringContaining('version 2') } });
      // Said once: the next read finds nothing saved; the rows are kept aside, not lost.
      expect(walls.read('c')).toEqual({ state: null, problem: null, presets: [] });
      const aside = cache.db.prepare<[], { name: string; data: string }>("SELECT name, data FROM wall_layouts WHERE kind = 'aside' ORDER BY name").all();
      expect(aside.map((r) => r.name)).toEqual(['a#2026-11-30T08:00:00.000Z', 'b#2026-11-30T08:00:00.000Z', 'c#2026-11-30T08:00:00.000Z']);
      expect(JSON.parse(aside[2]!.data)).toMatchObject({ version: 2, zoom: 3 });
    });
  });

  it('replaces a preset of the same name and leaves an unreadable preset row out', () => {
    withWalls((walls, cache) => {
      walls.savePreset({ name: '日常', layout: '4', tiles: ['c1'] });
      walls.savePreset({ name: '日常', layout: '9', tiles: ['c2'] });
      cache.db.prepare("INSERT INTO wall_layouts (kind, name, data, saved_at) VALUES ('preset', 'zz', '[]', 'x')").run();
      expect(walls.presets()).toEqual([{ name: '日常', layout: '9', tiles: ['c2'], savedAt: '2026-11-30T08:00:00.000Z' }]);
    });
  });

  it('keeps at most WALL_LIMIT walls: a new one beyond it forgets the wall saved longest ago, never the one saved', () => {
    const dir = mkdtempSync(join(tmpdir(), 'walls-'));
    const cache = new HubCache(join(dir, 'cache.sqlite'), silentLogger);
    try {
      let t = Date.parse('2026-11-30T08:00:00.000Z');
      const walls = new WallLayouts(cache.db, silentLogger, () => new Date(t));
      const state = (tile: string): WallState => ({ version: 1, layout: '4', tiles: [tile], tour: null });
      for (let i = 0; i < WALL_LIMIT; i++) {
        walls.save(`w${i}`, state(`c${i}`));
        t += 1000;
      }
      walls.save('w0', state('again')); // w0 in use again: w1 is now the one saved longest ago
      t += 1000;
      walls.save('w1', state('c1')); // an existing wall: nothing forgotten
      walls.savePreset({ name: '日常', layout: '4', tiles: ['c1'] });
      t += 1000;
      walls.save('new', state('n'));
      const names = cache.db.prepare<[], { name: string }>("SELECT name FROM wall_layouts WHERE kind = 'wall' ORDER BY name").all().map((r) => r.name);
      expect(names).toHaveLength(WALL_LIMIT);
      expect(names).not.toContain('w2');
      expect(names).toEqual(expect.arrayContaining(['w0', 'w1', 'w3', 'new']));
      expect(walls.read('w0').state?.tiles).toEqual(['again']);
      expect(walls.read('w2')).toMatchObject({ state: null, problem: null });
      expect(walls.presets().map((p) => p.name)).toEqual(['日常']); // presets are not walls
    } finally {
      cache.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('wall layouts through a session', () => {
  it('a demo screen saves its own wall but neither saves nor deletes the named layouts; a desk does', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'walls-hub-'));
    const hub = new Hub({ version: 'test', dataDir: dir });
    try {
      const demo = hub.openSession({ bridge: 'websocket', displayRole: 'video', label: 'demo', demo: true }, () => {});
      const desk = hub.openSession({ bridge: 'websocket', displayRole: 'video', label: 'desk' }, () => {});
      const preset = { name: '防汛预案', layout: '4', tiles: ['cam-1'] };
      expect(await desk.handle('saveWallPreset', preset)).toMatchObject({ ok: true, result: { presets: [{ name: '防汛预案' }] } });
      expect(await demo.handle('saveWallPreset', { ...preset, name: '演示' })).toMatchObject({ ok: false, error: { code: 'unauthorized', message: expect.stringContaining('演示屏不能保存预案布局') } });
      expect(await demo.handle('deleteWallPreset', { name: '防汛预案' })).toMatchObject({ ok: false, error: { code: 'unauthorized', message: expect.stringContaining('演示屏不能删除预案布局') } });
      const state = { version: 1, layout: '9', tiles: ['cam-2'], tour: null };
      expect(await demo.handle('saveWall', { wall: 'demo-wall', state })).toEqual({ ok: true, result: {} });
      expect(await demo.handle('getWall', { wall: 'demo-wall' })).toMatchObject({ ok: true, result: { state, presets: [{ name: '防汛预案' }] } });
      expect(await desk.handle('deleteWallPreset', { name: '防汛预案' })).toMatchObject({ ok: true, result: { presets: [] } });
    } finally {
      hub.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
