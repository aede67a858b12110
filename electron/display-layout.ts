/**
 * The big-screen room's window layout: one console window per display, each with a role (map wall, KPI wall,
 * video wall, dispatch desk, combined), remembered per display and restored on the right display at start.
 * Like VS Code's window-state validation, saved bounds are checked against the displays connected now: a
 * window whose display is gone moves to a free display or is left out (every window can show every workspace,
 * so no capability is lost), and bounds are clamped into the display's work area. Pure: no Electron import,
 * so every rule is unit-tested here; main.ts feeds it `screen.getAllDisplays()` and applies the plans.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync, existsSync, copyFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import { DisplayRole, WallName, describeIssues, validate } from '../protocol';
import type { Logger } from '../node-util/logger';

export interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** The slice of Electron's Display the layout needs. */
export interface DisplayInfo {
  id: number;
  label: string;
  bounds: Rect;
  workArea: Rect;
  primary: boolean;
}

const RectSchema = z.object({ x: z.number().int(), y: z.number().int(), width: z.number().int().positive(), height: z.number().int().positive() });

export const SavedWindow = z.object({
  displayId: z.number().int(),
  /** Display ids can change when a machine restarts or a cable moves; the label (monitor name) and size help find it again. */
  displayLabel: z.string().max(200),
  displaySize: z.tuple([z.number().int().positive(), z.number().int().positive()]),
  role: DisplayRole,
  bounds: RectSchema,
  fullscreen: z.boolean(),
  kiosk: z.boolean(),
  /**
   * The window's wall name (what its video wall remembers, kept by the hub): the display it was first opened on,
   * kept when the display comes back under another id or the window moves. Absent in older files.
   */
  wall: WallName.optional(),
});
export type SavedWindow = z.infer<typeof SavedWindow>;

export const WallLayout = z.object({ version: z.literal(1), windows: z.array(SavedWindow).max(32) });
export type WallLayout = z.infer<typeof WallLayout>;

export interface WindowPlan {
  role: DisplayRole;
  displayId: number;
  /** Where the window goes when not fullscreen (and where fullscreen starts from). */
  bounds: Rect;
  fullscreen: boolean;
  kiosk: boolean;
  /** Its wall name: `display-<id>` of the display it was made for (see SavedWindow.wall). */
  wall: string;
}

/** The wall name of a window made for this display. */
export const wallOfDisplay = (displayId: number): string => `display-${displayId}`;

/** The smallest useful console window; smaller saved sizes grow to this (never beyond the work area). */
export const MIN_SIZE = { width: 1024, height: 640 };

/** Bounds that lie inside the work area: size capped to it and at least MIN_SIZE, position pulled inside. */
export function clampBounds(bounds: Rect, area: Rect): Rect {
  const width = Math.min(area.width, Math.max(MIN_SIZE.width, bounds.width));
  const height = Math.min(area.height, Math.max(MIN_SIZE.height, bounds.height));
  const x = Math.min(Math.max(bounds.x, area.x), area.x + area.width - width);
  const y = Math.min(Math.max(bounds.y, area.y), area.y + area.height - height);
  return { x: Math.round(x), y: Math.round(y), width: Math.round(width), height: Math.round(height) };
}

const WALL_ORDER: DisplayRole[] = ['map', 'kpi', 'video'];

/**
 * First start (or no usable saved layout): one display → the combined console, windowed over the work area;
 * several → the dispatch desk on the primary display (windowed: the operator uses other apps beside it) and the
 * walls fullscreen on the others, in the order map, KPI, video, then more maps.
 */
export function defaultPlans(displays: readonly DisplayInfo[]): WindowPlan[] {
  if (displays.length === 0) return [];
  const primary = displays.find((d) => d.primary) ?? displays[0]!;
  if (displays.length === 1) return [{ role: 'combined', displayId: primary.id, bounds: { ...primary.workArea }, fullscreen: false, kiosk: false, wall: wallOfDisplay(primary.id) }];
  const others = displays.filter((d) => d !== primary).sort((a, b) => a.bounds.x - b.bounds.x || a.bounds.y - b.bounds.y);
  return [
    { role: 'dispatch', displayId: primary.id, bounds: { ...primary.workArea }, fullscreen: false, kiosk: false, wall: wallOfDisplay(primary.id) },
    ...others.map((d, i) => ({ role: WALL_ORDER[i] ?? 'map', displayId: d.id, bounds: { ...d.bounds }, fullscreen: true, kiosk: false, wall: wallOfDisplay(d.id) })),
  ];
}

/** The plan for a display that appeared while the console runs: the first wall role not yet on screen. */
export function planForNewDisplay(display: DisplayInfo, open: readonly DisplayRole[]): WindowPlan {
  const role = WALL_ORDER.find((r) => !open.includes(r)) ?? 'map';
  return { role, displayId: display.id, bounds: { ...display.bounds }, fullscreen: true, kiosk: false, wall: wallOfDisplay(display.id) };
}

function findDisplay(saved: SavedWindow, displays: readonly DisplayInfo[], taken: ReadonlySet<number>): DisplayInfo | undefined {
  const free = displays.filter((d) => !taken.has(d.id));
  return (
    free.find((d) => d.id === saved.displayId) ??
    // Same monitor under a new id: same name and resolution.
    free.find((d) => saved.displayLabel !== '' && d.label === saved.displayLabel && d.bounds.width === saved.displaySize[0] && d.bounds.height === saved.displaySize[1])
  );
}

export interface RestoreResult {
  plans: WindowPlan[];
  /** What changed against the saved layout, for the log (a wall that moved or was left out). */
  notes: string[];
}

/**
 * The saved layout fitted to the displays connected now. Windows find their display by id, then by name and
 * size; those whose display is gone move to a display without a window (walls fullscreen there) or are left
 * out. Bounds are clamped to the display's work area. Never returns zero windows when a display exists.
 */
export function restorePlans(saved: WallLayout | null, displays: readonly DisplayInfo[]): RestoreResult {
  if (!saved || saved.windows.length === 0 || displays.length === 0) return { plans: defaultPlans(displays), notes: saved ? ['saved layout empty: default layout'] : [] };
  const taken = new Set<number>();
  const plans: WindowPlan[] = [];
  const homeless: SavedWindow[] = [];
  const notes: string[] = [];
  for (const window of saved.windows) {
    const display = findDisplay(window, displays, taken);
    if (!display) {
      homeless.push(window);
      continue;
    }
    taken.add(display.id);
    plans.push({ role: window.role, displayId: display.id, bounds: clampBounds(window.bounds, display.workArea), fullscreen: window.fullscreen, kiosk: window.kiosk, wall: window.wall ?? wallOfDisplay(window.displayId) });
  }
  for (const window of homeless) {
    const free = displays.find((d) => !taken.has(d.id));
    if (!free) {
      notes.push(`${window.role} window left out: its display "${window.displayLabel || window.displayId}" is not connected and no display is free`);
      continue;
    }
    taken.add(free.id);
    // On a display it was not made for, a wall goes fullscreen (its old size means nothing here).
    const bounds = window.fullscreen ? { ...free.bounds } : clampBounds({ ...window.bounds, x: free.workArea.x, y: free.workArea.y }, free.workArea);
    plans.push({ role: window.role, displayId: free.id, bounds, fullscreen: window.fullscreen, kiosk: window.kiosk, wall: window.wall ?? wallOfDisplay(window.displayId) });
    notes.push(`${window.role} window moved to display "${free.label || free.id}": its display "${window.displayLabel || window.displayId}" is not connected`);
  }
  return { plans, notes };
}

/** The role a window plays now: the workspace it shows (from its URL's #/route), else the role it opened with. */
export function roleFromUrl(url: string, fallback: DisplayRole): DisplayRole {
  const match = /#\/(map|kpi|video|dispatch)\b/.exec(url);
  return match ? (match[1] as DisplayRole) : fallback;
}

export const LAYOUT_FILE_NAME = 'wall-layout.json';

/** Reads the saved layout; a missing file is a first start, an unusable one is kept aside and ignored. */
export function loadLayout(dataDir: string, log: Logger): WallLayout | null {
  const file = join(dataDir, LAYOUT_FILE_NAME);
  if (!existsSync(file)) return null;
  let problem: string;
  try {
    const checked = validate(WallLayout, JSON.parse(readFileSync(file, 'utf8')));
    if (checked.ok) return checked.value;
    problem = describeIssues(checked.issues);
  } catch (e) {
    problem = (e as Error).message;
  }
  const aside = `${file}.corrupt-${Date.now()}`;
  try {
    copyFileSync(file, aside);
  } catch {
    /* best effort: the default layout applies either way */
  }
  log.warn('wall layout unusable, using the default layout', { file, problem, keptAs: aside });
  return null;
}

/** Writes the layout atomically (temp file + rename): a crash mid-write never leaves half a file. */
export function saveLayout(dataDir: string, layout: WallLayout): void {
  const file = join(dataDir, LAYOUT_FILE_NAME);
  mkdirSync(dirname(file), { recursive: true });
  const temp = `${file}.${process.pid}.tmp`;
  writeFileSync(temp, JSON.stringify(WallLayout.parse(layout), null, 2) + '\n');
  renameSync(temp, file);
}
