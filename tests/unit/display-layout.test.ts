import { describe, expect, it } from 'vitest';
import { readdirSync, writeFileSync } from 'node:fs';
import { LAYOUT_FILE_NAME, clampBounds, defaultPlans, loadLayout, planForNewDisplay, restorePlans, roleFromUrl, saveLayout, type DisplayInfo, type WallLayout } from '../../electron/display-layout';
import { makeTempDir } from '../../harness/temp';
import { silentLogger } from '../../node-util/logger';

const display = (id: number, x: number, width = 1920, height = 1080, extra: Partial<DisplayInfo> = {}): DisplayInfo => ({
  id,
  label: `monitor-${id}`,
  bounds: { x, y: 0, width, height },
  workArea: { x, y: 0, width, height: height - 40 },
  primary: false,
  ...extra,
});
const desk = display(1, 0, 1920, 1080, { primary: true, label: 'DELL U2720Q' });
const wallA = display(2, 1920, 3840, 2160, { label: 'LG 4K wall' });
const wallB = display(3, 5760, 5760, 1080, { label: 'LED strip' });

const layout = (windows: WallLayout['windows']): WallLayout => ({ version: 1, windows });
const saved = (d: DisplayInfo, role: WallLayout['windows'][number]['role'], extra: Partial<WallLayout['windows'][number]> = {}): WallLayout['windows'][number] => ({
  displayId: d.id,
  displayLabel: d.label,
  displaySize: [d.bounds.width, d.bounds.height],
  role,
  bounds: { ...d.bounds },
  fullscreen: !d.primary,
  kiosk: false,
  ...extra,
});

describe('first start', () => {
  it('one display: the combined console over the work area', () => {
    expect(defaultPlans([desk])).toEqual([{ role: 'combined', displayId: 1, bounds: desk.workArea, fullscreen: false, kiosk: false, wall: 'display-1' }]);
  });
  it('several: dispatch desk on the primary (windowed), walls fullscreen on the others left to right', () => {
    const plans = defaultPlans([wallB, desk, wallA]);
    expect(plans.map((p) => [p.role, p.displayId, p.fullscreen])).toEqual([
      ['dispatch', 1, false],
      ['map', 2, true],
      ['kpi', 3, true],
    ]);
  });
  it('no displays (headless): no windows rather than a crash', () => {
    expect(defaultPlans([])).toEqual([]);
  });
});

describe('restore', () => {
  it('each role goes back to its own display, even when the displays are listed in another order', () => {
    const { plans, notes } = restorePlans(layout([saved(desk, 'dispatch'), saved(wallA, 'video'), saved(wallB, 'kpi')]), [wallB, wallA, desk]);
    expect(plans.map((p) => [p.role, p.displayId])).toEqual([
      ['dispatch', 1],
      ['video', 2],
      ['kpi', 3],
    ]);
    expect(notes).toEqual([]);
  });
  it('finds a monitor again by name and size when its id changed', () => {
    const renumbered = { ...wallA, id: 42 };
    const { plans } = restorePlans(layout([saved(desk, 'dispatch'), saved(wallA, 'map')]), [desk, renumbered]);
    expect(plans.find((p) => p.role === 'map')!.displayId).toBe(42);
    // Its wall keeps the name it was saved under (what the video wall remembers follows the window).
    expect(plans.find((p) => p.role === 'map')!.wall).toBe('display-2');
    const named = restorePlans(layout([{ ...saved(wallA, 'video'), wall: 'display-7' }]), [renumbered]);
    expect(named.plans[0]!.wall).toBe('display-7');
  });
  it('a wall whose display is gone moves to a free display, fullscreen, and says so', () => {
    const spare = display(9, 1920, 2560, 1440, { label: 'spare' });
    const { plans, notes } = restorePlans(layout([saved(desk, 'dispatch'), saved(wallA, 'map')]), [desk, spare]);
    expect(plans[1]).toEqual({ role: 'map', displayId: 9, bounds: spare.bounds, fullscreen: true, kiosk: false, wall: 'display-2' });
    expect(notes[0]).toMatch(/map window moved to display "spare"/);
  });
  it('more windows than displays: the extra ones are left out with a note, never stacked', () => {
    const { plans, notes } = restorePlans(layout([saved(desk, 'dispatch'), saved(wallA, 'map'), saved(wallB, 'kpi')]), [desk]);
    expect(plans.map((p) => p.role)).toEqual(['dispatch']);
    expect(notes).toHaveLength(2);
    expect(notes.join('\n')).toMatch(/left out/);
  });
  it('bounds saved off-screen or too large are clamped into the work area (VS Code style)', () => {
    const { plans } = restorePlans(layout([saved(desk, 'dispatch', { bounds: { x: -5000, y: 3000, width: 4000, height: 3000 }, fullscreen: false })]), [desk]);
    expect(plans[0]!.bounds).toEqual({ x: 0, y: 0, width: 1920, height: 1040 });
  });
  it('kiosk and fullscreen are kept per window', () => {
    const { plans } = restorePlans(layout([saved(desk, 'dispatch'), saved(wallA, 'kpi', { kiosk: true })]), [desk, wallA]);
    expect(plans[1]).toMatchObject({ fullscreen: true, kiosk: true });
  });
  it('no saved layout, or an empty one → the default layout', () => {
    expect(restorePlans(null, [desk, wallA]).plans).toEqual(defaultPlans([desk, wallA]));
    expect(restorePlans(layout([]), [desk]).plans).toEqual(defaultPlans([desk]));
  });
});

describe('helpers', () => {
  it('clamps sizes to at least the minimum and at most the work area', () => {
    expect(clampBounds({ x: 10, y: 10, width: 200, height: 100 }, { x: 0, y: 0, width: 1920, height: 1040 })).toEqual({ x: 10, y: 10, width: 1024, height: 640 });
    expect(clampBounds({ x: 1900, y: 0, width: 1280, height: 800 }, { x: 0, y: 0, width: 1920, height: 1040 })).toEqual({ x: 640, y: 0, width: 1280, height: 800 });
    // A work area smaller than the minimum wins.
    expect(clampBounds({ x: 0, y: 0, width: 1280, height: 800 }, { x: 0, y: 0, width: 800, height: 600 })).toEqual({ x: 0, y: 0, width: 800, height: 600 });
  });
  it('the role a window plays is the workspace it shows', () => {
    expect(roleFromUrl('app://console/index.html?role=combined#/video', 'combined')).toBe('video');
    expect(roleFromUrl('app://console/index.html?role=kpi', 'kpi')).toBe('kpi');
    expect(roleFromUrl('app://console/index.html#/mapping', 'dispatch')).toBe('dispatch');
  });
  it('a display plugged in later gets the first wall not on screen yet', () => {
    expect(planForNewDisplay(wallA, ['dispatch', 'map']).role).toBe('kpi');
    expect(planForNewDisplay(wallA, ['map', 'kpi', 'video']).role).toBe('map');
  });
});

describe('layout file', () => {
  it('round-trips, and an unusable file is kept aside and ignored', () => {
    const dir = makeTempDir();
    try {
      expect(loadLayout(dir.dir, silentLogger)).toBeNull();
      const l = layout([saved(desk, 'dispatch'), saved(wallA, 'map')]);
      saveLayout(dir.dir, l);
      expect(loadLayout(dir.dir, silentLogger)).toEqual(l);
      writeFileSync(`${dir.dir}/${LAYOUT_FILE_NAME}`, '{"version":1,"windows":[{"role":"mars"}]}');
      expect(loadLayout(dir.dir, silentLogger)).toBeNull();
      writeFileSync(`${dir.dir}/${LAYOUT_FILE_NAME}`, '{not json');
      expect(loadLayout(dir.dir, silentLogger)).toBeNull();
      expect(readdirSync(dir.dir).filter((f) => f.includes('.corrupt-')).length).toBeGreaterThanOrEqual(1);
    } finally {
      dir.cleanup();
    }
  });
});
