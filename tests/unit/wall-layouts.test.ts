/** The hub's wall memory on a real SQLite cache: unusable saved states are kept aside and said, never used. */
import { describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HubCache } from '../../hub/cache/cache';
import { WallLayouts } from '../../hub/wall-layouts';
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
});
