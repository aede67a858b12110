/**
 * What the console's video walls remember (protocol/hub-api/wall-layouts.ts), in the hub cache's table
 * wall_layouts: per wall name its state (layout, tiles, tour), and the named layouts (预案布局) every window
 * shares. A saved state that cannot be used (not JSON, not the shape, or another version: a newer program wrote
 * it) is moved aside (kind 'aside', never overwritten) and reported once, so the wall starts afresh instead of
 * blank and the newer program's data is not lost.
 */
import type Database from 'better-sqlite3';
import { HubError, WALL_LIMIT, WALL_PRESET_LIMIT, WALL_STATE_VERSION, WallPreset, WallState, describeIssues, validate, type VideoLayout, type WallMemory } from '../protocol';
import type { Logger } from '../node-util/logger';

export class WallLayouts {
  private readonly s;

  constructor(
    db: Database.Database,
    private readonly log: Logger,
    private readonly now: () => Date = () => new Date(),
  ) {
    const put = db.prepare<[string, string, string, string]>('INSERT INTO wall_layouts (kind, name, data, saved_at) VALUES (?, ?, ?, ?) ON CONFLICT(kind, name) DO UPDATE SET data = excluded.data, saved_at = excluded.saved_at');
    const remove = db.prepare<[string, string]>('DELETE FROM wall_layouts WHERE kind = ? AND name = ?');
    const get = db.prepare<[string, string], { data: string }>('SELECT data FROM wall_layouts WHERE kind = ? AND name = ?');
    const wallCount = db.prepare<[], { n: number }>("SELECT COUNT(*) AS n FROM wall_layouts WHERE kind = 'wall'");
    const oldestWalls = db.prepare<[string, number], { name: string }>("SELECT name FROM wall_layouts WHERE kind = 'wall' AND name <> ? ORDER BY saved_at, name LIMIT ?");
    this.s = {
      get,
      put,
      remove,
      presets: db.prepare<[], { name: string; data: string }>("SELECT name, data FROM wall_layouts WHERE kind = 'preset' ORDER BY name"),
      presetCount: db.prepare<[], { n: number }>("SELECT COUNT(*) AS n FROM wall_layouts WHERE kind = 'preset'"),
      // A new wall beyond WALL_LIMIT: the walls saved longest ago go (a wall on screen saves on every change).
      saveWall: db.transaction((wall: string, data: string, at: string): string[] => {
        const isNew = get.get('wall', wall) === undefined;
        put.run('wall', wall, data, at);
        if (!isNew) return [];
        const excess = (wallCount.get()?.n ?? 0) - WALL_LIMIT;
        if (excess <= 0) return [];
        const dropped = oldestWalls.all(wall, excess).map((row) => row.name);
        for (const name of dropped) remove.run('wall', name);
        return dropped;
      }),
      moveAside: db.transaction((name: string, data: string, at: string) => {
        put.run('aside', `${name}#${at}`, data, at);
        remove.run('wall', name);
      }),
    };
  }

  /** The wall's saved state and the named layouts; an unusable state is kept aside and said. */
  read(wall: string): WallMemory {
    const row = this.s.get.get('wall', wall);
    const presets = this.presets();
    if (!row) return { state: null, problem: null, presets };
    let problem: WallMemory['problem'];
    try {
      const raw: unknown = JSON.parse(row.data);
      const version = typeof raw === 'object' && raw !== null && 'version' in raw ? (raw as { version: unknown }).version : undefined;
      if (typeof version === 'number' && version > WALL_STATE_VERSION) {
        problem = { code: 'newer-version', detail: `saved by a newer program (version ${version}; this one reads ${WALL_STATE_VERSION})` };
      } else {
        const checked = validate(WallState, raw);
        if (checked.ok) return { state: checked.value, problem: null, presets };
        problem = { code: 'corrupt', detail: describeIssues(checked.issues).slice(0, 500) };
      }
    } catch (e) {
      problem = { code: 'corrupt', detail: (e as Error).message.slice(0, 500) };
    }
    const at = this.now().toISOString();
    this.s.moveAside(wall, row.data, at);
    this.log.warn('video wall state unusable: kept aside, the wall starts afresh', { wall, problem: problem.detail, keptAs: `${wall}#${at}` });
    return { state: null, problem, presets };
  }

  /** Saves a wall's state; a new wall beyond WALL_LIMIT pushes out the walls saved longest ago (logged). */
  save(wall: string, state: WallState): void {
    const dropped = this.s.saveWall(wall, JSON.stringify(state), this.now().toISOString());
    if (dropped.length > 0) this.log.info('video walls not used for longest forgotten: at most WALL_LIMIT are kept', { walls: dropped, limit: WALL_LIMIT });
  }

  /** The named layouts, by name; a row that does not parse is left out (and logged). */
  presets(): WallPreset[] {
    const out: WallPreset[] = [];
    for (const row of this.s.presets.all()) {
      try {
        const checked = validate(WallPreset, JSON.parse(row.data));
        if (checked.ok) out.push(checked.value);
        else this.log.warn('named wall layout unusable: left out', { name: row.name, problem: describeIssues(checked.issues) });
      } catch (e) {
        this.log.warn('named wall layout unusable: left out', { name: row.name, problem: (e as Error).message });
      }
    }
    return out;
  }

  savePreset(preset: { name: string; layout: VideoLayout; tiles: Array<string | null> }): WallPreset[] {
    const name = preset.name.trim();
    const exists = this.s.get.get('preset', name) !== undefined;
    if (!exists && (this.s.presetCount.get()?.n ?? 0) >= WALL_PRESET_LIMIT) {
      throw new HubError('invalid-params', `预案布局已达上限 ${WALL_PRESET_LIMIT} 个，请先删除不用的 / at most ${WALL_PRESET_LIMIT} named layouts: delete one first`);
    }
    const savedAt = this.now().toISOString();
    const row: WallPreset = { name, layout: preset.layout, tiles: preset.tiles, savedAt };
    this.s.put.run('preset', name, JSON.stringify(row), savedAt);
    return this.presets();
  }

  deletePreset(name: string): WallPreset[] {
    const result = this.s.remove.run('preset', name.trim());
    if (result.changes === 0) throw new HubError('not-found', `没有名为「${name.trim()}」的预案布局 / no named layout "${name.trim()}"`);
    return this.presets();
  }
}
