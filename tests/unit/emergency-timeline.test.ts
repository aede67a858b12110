import { describe, expect, it } from 'vitest';
import type { CommandLevelState, TimelineEntry } from '../../protocol';
import { emergencyTimeline, markWallsShown, wallsShownFor } from '../../renderer/src/stores/emergency';

const level: CommandLevelState = {
  id: 'current',
  level: 'emergency',
  since: '2026-11-22T10:00:00.000Z',
  by: '指挥长 王建国',
  reason: '暴雨红色预警',
  incidentId: 'ev-1',
  planTitle: '城市防汛应急预案（Ⅰ级响应）',
  plan: [
    { id: 'step-1', text: '启动响应', ownerDepartmentId: 'dept-water', doneAt: '2026-11-22T10:05:00.000Z', doneBy: '值班员 陈静' },
    { id: 'step-2', text: '封闭下穿通道', ownerDepartmentId: 'dept-transport', doneAt: null, doneBy: null },
  ],
};
const entry = (at: string, action: string, note?: string): TimelineEntry => ({ at, actor: 'u', actorName: '某人', action, ...(note ? { note } : {}) });

describe('the emergency timeline', () => {
  it('merges the level change, the incident since then (and its report) and the plan ticks, newest first', () => {
    const incident = [
      entry('2026-11-22T09:00:00.000Z', 'report'),
      entry('2026-11-22T09:10:00.000Z', 'accept'),
      entry('2026-11-22T10:00:00.000Z', 'level-emergency', '暴雨红色预警'),
      entry('2026-11-22T10:02:00.000Z', 'dispatch', '水务局'),
    ];
    const items = emergencyTimeline(level, incident);
    expect(items.map((i) => `${i.kind}:${i.action}`)).toEqual(['plan:plan-done', 'event:dispatch', 'level:level-emergency', 'event:report']);
    expect(items[0]).toMatchObject({ who: '值班员 陈静', note: '启动响应' });
  });
  it('without an incident or a level: only what exists, no crash', () => {
    expect(emergencyTimeline(null, [])).toEqual([]);
    expect(emergencyTimeline({ ...level, plan: [] }, []).map((i) => i.kind)).toEqual(['level']);
  });
  it('keeps the newest items when there are many', () => {
    const many = Array.from({ length: 100 }, (_, i) => entry(new Date(Date.parse(level.since) + i * 1000).toISOString(), 'comment'));
    const items = emergencyTimeline(level, many, 10);
    expect(items).toHaveLength(10);
    expect(items[0]!.at > items[9]!.at).toBe(true);
  });
});

describe('the walls are shown an emergency once per raise, whatever remounts the board', () => {
  function memoryStorage(): Pick<Storage, 'getItem' | 'setItem'> {
    const items = new Map<string, string>();
    return { getItem: (k) => items.get(k) ?? null, setItem: (k, v) => void items.set(k, v) };
  }

  it('a raise shown in this window is not shown again; the next raise (or another incident) is', () => {
    const storage = memoryStorage();
    const raise = `${level.since}|ev-1`;
    expect(wallsShownFor(storage, raise)).toBe(false);
    markWallsShown(storage, raise);
    // A reconnect or a reload mounts the board again: the same window's storage says it was shown.
    expect(wallsShownFor(storage, raise)).toBe(true);
    expect(wallsShownFor(storage, `${level.since}|ev-2`)).toBe(false);
    expect(wallsShownFor(storage, `2026-11-22T12:00:00.000Z|ev-1`)).toBe(false);
    // Another window (its own sessionStorage) shows it itself.
    expect(wallsShownFor(memoryStorage(), raise)).toBe(false);
  });

  it('a storage that fails counts as not shown and never throws', () => {
    const broken: Pick<Storage, 'getItem' | 'setItem'> = {
      getItem: () => { throw new Error('denied'); },
      setItem: () => { throw new Error('quota'); },
    };
    expect(() => markWallsShown(broken, 'x')).not.toThrow();
    expect(wallsShownFor(broken, 'x')).toBe(false);
    expect(wallsShownFor(undefined, 'x')).toBe(false);
  });
});
