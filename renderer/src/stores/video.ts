/**
 * The video wall (视频墙) of this window: layout, which camera is in which tile, the tour (轮巡), and video
 * alarms waiting for a tile. Layout, tiles and tour are remembered per wall by the hub (its cache: a wall per
 * Electron display, per `?wall=` name in the browser host), restored at start; a first-time wall (or one whose
 * saved state could not be used, said in a notice) tours the online cameras nearest the console's area.
 * Cameras come from the hub; an alarm of the center's whose event has a camera opens it, rate-limited so a burst
 * never takes over the wall.
 */
import { defineStore } from 'pinia';
import { computed, markRaw, ref, shallowRef, watch } from 'vue';
import { VIDEO_LAYOUTS, VIDEO_WALL_MAX_TILES, WALL_STATE_VERSION, type Camera, type LonLat, type WallMemory, type WallPreset, type WallState } from '../../../protocol';
import { nearest } from '../../../domain';
import { useHubStore } from './hub';
import { useLevelsStore } from './levels';
import { useRowsStore } from '../data';
import { FIRST_TOUR_INTERVAL_S, areaCentre, tourGroupCameras, wallNameOf } from '../video/wall-memory';
import { FRESH_INCIDENT_MS } from '../show-tour';
import { useCityNow } from './city-now';

export const LAYOUTS = VIDEO_LAYOUTS;
export type WallLayout = (typeof LAYOUTS)[number];
export const LAYOUT_SLOTS: Record<WallLayout, number> = { '1': 1, '4': 4, '9': 9, '16': 16, '1+5': 6, '1+7': 8 };
export const MAX_TILES = VIDEO_WALL_MAX_TILES;
/** A wall whose saved state could not be read (the hub busy, a reconnect) asks again after these delays (ms), the last repeated. */
export const RESTORE_RETRY_MS = [1_000, 2_000, 5_000, 10_000, 30_000] as const;
/** At most one alarm takes a tile per this many ms; the rest wait in line. */
export const ALARM_MIN_INTERVAL_MS = 10_000;
/** At most this many alarm cameras wait for a tile. */
const ALARM_QUEUE_MAX = 16;
export const TOUR_INTERVALS = [10, 30, 60, 120] as const;

/** This window's wall (read once: switching workspace rewrites the address). */
export const WALL_NAME = wallNameOf(typeof window === 'undefined' ? { search: '', hash: '' } : window.location);

const emptyTiles = (): Array<string | null> => Array.from({ length: MAX_TILES }, () => null);

/** The smallest layout with room for n tiles. */
export function layoutFor(n: number): WallLayout {
  return n <= 1 ? '1' : n <= 4 ? '4' : n <= 9 ? '9' : '16';
}

/** The next page of a tour: `size` cameras from `page`, wrapping around the group. */
export function tourPage(cameraIds: readonly string[], page: number, size: number): string[] {
  if (cameraIds.length === 0) return [];
  const start = (page * size) % cameraIds.length;
  return Array.from({ length: Math.min(size, cameraIds.length) }, (_, i) => cameraIds[(start + i) % cameraIds.length]!);
}

/**
 * How many pages a tour has before its pages repeat: tourPage starts page p at p × size modulo the cameras, so
 * the pages come round again after cameras / gcd(cameras, size) (a multiple of size that is one of the cameras).
 */
export function tourPageCount(cameraCount: number, size: number): number {
  if (cameraCount <= 0 || size <= 0) return 1;
  const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));
  return cameraCount / gcd(cameraCount, size);
}

/**
 * The page after `page`, modulo the tour's page count: a tour running for months keeps a small number (the saved
 * state's page has a maximum, and a wall that could not save its tour would come back on its first page) and
 * shows the same cameras in the same turn as counting on would.
 */
export function nextTourPage(page: number, cameraCount: number, size: number): number {
  return (page + 1) % tourPageCount(cameraCount, size);
}

export interface Tour {
  /** 'online', 'nearby' or a district id (the view words it). */
  group: string;
  cameraIds: string[];
  intervalSec: number;
  page: number;
}

export const useVideoStore = defineStore('video', () => {
  const levels = useLevelsStore();
  const hub = useHubStore();
  const cityNow = useCityNow();
  const data = useRowsStore();
  const layout = ref<WallLayout>('4');
  const tiles = ref<Array<string | null>>(emptyTiles());
  /** Why this wall's saved state was not used (shown once), and the console's named layouts. */
  const problem = ref<WallMemory['problem']>(null);
  const presets = ref<WallPreset[]>([]);
  /**
   * 'no': not read yet (or the read failed: asked again later); 'reading'; 'yes': read (and saving). Nothing is
   * saved before 'yes', so a wall that could not read its state never overwrites it. A request before that wins
   * over the saved state.
   */
  let restored: 'no' | 'reading' | 'yes' = 'no';
  let touched = false;
  let restoreFailures = 0;
  let restoreTimer: ReturnType<typeof setTimeout> | null = null;
  /** A saved (or first-start) tour waiting for the camera list. */
  let pendingTour: { group: string; intervalSec: number; page: number } | null = null;
  const selected = ref(0);
  const enlarged = ref<number | null>(null);
  const tour = ref<Tour | null>(null);
  const cameras = shallowRef<ReadonlyMap<string, Camera>>(markRaw(new Map()));
  /** District id → name, for the camera list and tour groups. */
  const districts = shallowRef<ReadonlyMap<string, string>>(markRaw(new Map()));
  const alarmQueue = ref<string[]>([]);
  let lastAlarmAt = 0;
  let tourTimer: ReturnType<typeof setInterval> | null = null;
  let alarmTimer: ReturnType<typeof setInterval> | null = null;
  let users = 0;
  let stops: Array<() => Promise<void>> = [];
  /** The alarms (id@raisedAt) whose camera this wall opened already, and when it opened (the backend's clock). */
  let knownAlarms = new Set<string>();
  let openedAt = 0;

  function snapshot(): WallState {
    const t = tour.value;
    return { version: WALL_STATE_VERSION, layout: layout.value, tiles: [...tiles.value], tour: t ? { group: t.group, intervalSec: t.intervalSec, page: t.page } : null };
  }
  // Saved at once (the changes of one tick together): a window closed or reloaded right after a click keeps it.
  // Changes are few (a click, a drop, a tour page every 10 s or more), each one small row in the hub's cache.
  watch([layout, tiles, tour], () => {
    touched = true;
    if (restored !== 'yes' || !hub.api) return;
    hub.api.saveWall(WALL_NAME, snapshot()).catch((e: unknown) => console.warn('video wall not saved', e));
  });

  /**
   * Reads this wall's saved state from the hub once: applied unless the wall was already told what to show. A
   * read that fails (the hub busy or reconnecting) is not "nothing saved": the wall neither saves nor starts the
   * first-start tour, and asks again with back-off while it is on screen.
   */
  async function restore(): Promise<void> {
    if (restored !== 'no' || !hub.api) return;
    restored = 'reading';
    // From the first try on: a choice made while the reads fail is kept over the saved state.
    if (restoreFailures === 0) touched = false;
    let memory: WallMemory;
    try {
      memory = await hub.api.getWall(WALL_NAME);
    } catch (e) {
      restored = 'no';
      const delay = RESTORE_RETRY_MS[Math.min(restoreFailures, RESTORE_RETRY_MS.length - 1)]!;
      restoreFailures++;
      console.warn(`video wall state not read; asking again in ${delay / 1000} s`, e);
      if (users > 0 && !restoreTimer) {
        restoreTimer = setTimeout(() => {
          restoreTimer = null;
          if (users > 0) void restore();
        }, delay);
      }
      return;
    }
    restoreFailures = 0;
    presets.value = memory.presets;
    problem.value = memory.problem;
    const saved = memory.state;
    const keepChoice = touched;
    if (!keepChoice) {
      if (saved) {
        layout.value = saved.layout;
        tiles.value = Array.from({ length: MAX_TILES }, (_, i) => saved.tiles[i] ?? null);
        pendingTour = saved.tour;
      } else {
        // A first-time wall: the cameras around the console's area, in turn, rather than empty tiles.
        pendingTour = { group: 'nearby', intervalSec: FIRST_TOUR_INTERVAL_S, page: 0 };
      }
    }
    restored = 'yes';
    // Told what to show while the state could not be read: that choice is what the wall keeps now.
    if (keepChoice) hub.api.saveWall(WALL_NAME, snapshot()).catch((e: unknown) => console.warn('video wall not saved', e));
    resumeTour();
  }

  /** Starts the waiting tour once cameras are known (its group's cameras now; the saved page). */
  function resumeTour(): void {
    if (!pendingTour || cameras.value.size === 0) return;
    const { group, intervalSec, page } = pendingTour;
    pendingTour = null;
    startTour(group, groupCameras(group), intervalSec, page);
  }

  function groupCameras(group: string): string[] {
    const home = hub.settings?.map.home ?? null;
    const list = [...cameras.value.values()];
    return tourGroupCameras(group, list, areaCentre(list, hub.connection?.districtScope ?? null, home ? [home.lon, home.lat] : null));
  }

  function dismissProblem(): void {
    problem.value = null;
  }

  /** 保存为预案布局: this wall's layout and tiles under a name, for every window of the console. */
  async function savePreset(name: string): Promise<void> {
    if (!hub.api) return;
    presets.value = (await hub.api.saveWallPreset({ name, layout: layout.value, tiles: tiles.value.slice(0, MAX_TILES) })).presets;
  }

  async function deletePreset(name: string): Promise<void> {
    if (!hub.api) return;
    presets.value = (await hub.api.deleteWallPreset(name)).presets;
  }

  /** Shows a named layout (the tour stops: the layout is what was asked for). */
  function applyPreset(preset: WallPreset): void {
    stopTour();
    setLayout(preset.layout);
    tiles.value = Array.from({ length: MAX_TILES }, (_, i) => preset.tiles[i] ?? null);
    selected.value = 0;
  }

  async function refreshPresets(): Promise<void> {
    if (!hub.api) return;
    try {
      presets.value = (await hub.api.getWall(WALL_NAME)).presets;
    } catch {
      /* the list stays as it was */
    }
  }

  const slotCount = computed(() => LAYOUT_SLOTS[layout.value]);

  function setLayout(next: WallLayout): void {
    layout.value = next;
    enlarged.value = null;
    if (selected.value >= LAYOUT_SLOTS[next]) selected.value = 0;
  }

  function assign(slot: number, cameraId: string | null): void {
    if (slot < 0 || slot >= MAX_TILES) return;
    const next = [...tiles.value];
    next[slot] = cameraId;
    tiles.value = next;
  }

  /** Opens cameras from the first tile on, growing the layout to fit (nearest cameras, a map request). */
  function open(cameraIds: readonly string[]): void {
    const ids = cameraIds.slice(0, MAX_TILES);
    if (ids.length === 0) return;
    stopTour();
    if (ids.length > slotCount.value) setLayout(layoutFor(ids.length));
    const next = [...tiles.value];
    ids.forEach((id, i) => (next[i] = id));
    tiles.value = next;
    selected.value = 0;
  }

  function startTour(group: string, cameraIds: string[], intervalSec: number, page = 0): void {
    stopTour();
    if (cameraIds.length === 0) return;
    tour.value = { group, cameraIds, intervalSec, page: page % tourPageCount(cameraIds.length, slotCount.value) };
    showTourPage();
    tourTimer = setInterval(() => {
      if (!tour.value) return;
      tour.value = { ...tour.value, page: nextTourPage(tour.value.page, tour.value.cameraIds.length, slotCount.value) };
      showTourPage();
    }, intervalSec * 1000);
  }

  function showTourPage(): void {
    const t = tour.value;
    if (!t) return;
    const page = tourPage(t.cameraIds, t.page, slotCount.value);
    tiles.value = Array.from({ length: MAX_TILES }, (_, i) => page[i] ?? null);
  }

  function stopTour(): void {
    if (tourTimer) clearInterval(tourTimer);
    tourTimer = null;
    tour.value = null;
  }

  /** The tile an alarm takes: the big one in 1+N layouts, else the last of the layout. */
  const alarmSlot = computed(() => (layout.value.startsWith('1+') || layout.value === '1' ? 0 : slotCount.value - 1));

  function alarm(cameraId: string): void {
    // The newest ALARM_QUEUE_MAX wait (a burst of alarms cannot keep the wall busy for long after it).
    if (!tiles.value.slice(0, slotCount.value).includes(cameraId) && !alarmQueue.value.includes(cameraId)) alarmQueue.value = [...alarmQueue.value, cameraId].slice(-ALARM_QUEUE_MAX);
    drainAlarms();
  }

  function drainAlarms(): void {
    const now = Date.now();
    if (alarmQueue.value.length === 0 || now - lastAlarmAt < ALARM_MIN_INTERVAL_MS) return;
    const [next, ...rest] = alarmQueue.value;
    alarmQueue.value = rest;
    lastAlarmAt = now;
    stopTour();
    assign(alarmSlot.value, next!);
  }

  /**
   * Opens cameras on the room's video walls (nearest cameras from the map, an emergency). Answers 'here' when
   * no other window shows the video wall: the caller then opens its own.
   */
  async function showOnWall(cameraIds: string[]): Promise<'wall' | 'here'> {
    const ids = cameraIds.slice(0, MAX_TILES);
    if (ids.length === 0 || !hub.api) return 'here';
    try {
      const { walls } = await hub.api.showOnWall({ wall: 'video', cameraIds: ids });
      return walls > 0 ? 'wall' : 'here';
    } catch {
      return 'here';
    }
  }

  /** The n nearest online cameras around a place (a one-off read when this window has no camera list). */
  async function camerasNear(at: LonLat, n = 4, radius = 1_500): Promise<string[]> {
    let list: Iterable<Camera> = cameras.value.values();
    if (cameras.value.size === 0 && hub.api) {
      let rows: ReadonlyMap<string, Camera> = new Map();
      await (await data.read({ topic: 'collection', collection: 'cameras' }, (r) => (rows = r)))();
      list = rows.values();
    }
    return nearest([...list].filter((c) => c.online), at, radius, n, (c) => c.position).map((c) => c.item.id);
  }

  function clearAlarmQueue(): void {
    alarmQueue.value = [];
  }

  /** Subscribes while a video wall is on screen (refcounted). */
  async function start(): Promise<void> {
    users++;
    if (users > 1 || !hub.api) return;
    knownAlarms = new Set();
    openedAt = cityNow();
    stops.push(
      await data.read({ topic: 'collection', collection: 'cameras' }, (rows) => {
        cameras.value = markRaw(new Map(rows));
        resumeTour();
      }),
    );
    await restore();
    stops.push(
      await data.read({ topic: 'collection', collection: 'adminUnits' }, (rows) => {
        districts.value = markRaw(new Map([...rows.values()].filter((u) => u.level === 'district').map((u) => [u.id, u.name])));
      }),
    );
    stops.push(
      await data.read({ topic: 'collection', collection: 'alarms' }, (rows) => {
        // The center's alarms (backend/duty/alarm-service.ts) of a fresh incident with a camera — raised within
        // minutes of its report, after this wall opened — open that camera, once per ringing; old incidents turning
        // overdue, and the alarms a first start raises over the city's history, stay on the alarm bar — unless the
        // level's profile puts the incidents' cameras first (加强): then every alarm raised after the wall opened
        // does. At 应急 the wall keeps the incident's cameras: fresh incidents only. Every console with a wall does
        // this, each wall rate-limited; a camera waiting in line goes when its alarm stops ringing.
        const anyIncident = levels.current.walls.video === 'incident-cameras' && hub.commandLevel !== 'emergency';
        const ringing = [...rows.values()].filter((a) => a.ackedAt === null && a.cameraId !== null);
        const ringingCameras = new Set(ringing.map((a) => a.cameraId!));
        if (alarmQueue.value.some((id) => !ringingCameras.has(id))) alarmQueue.value = alarmQueue.value.filter((id) => ringingCameras.has(id));
        for (const a of ringing) {
          const key = `${a.id}@${a.raisedAt}`;
          const raised = Date.parse(a.raisedAt);
          if (knownAlarms.has(key) || raised < openedAt || (!anyIncident && raised - Date.parse(a.reportedAt) > FRESH_INCIDENT_MS)) continue;
          knownAlarms.add(key);
          alarm(a.cameraId!);
        }
        if (knownAlarms.size > 4 * ringing.length + 100) {
          const now = new Set(ringing.map((a) => `${a.id}@${a.raisedAt}`));
          knownAlarms = new Set([...knownAlarms].filter((k) => now.has(k)));
        }
      }),
    );
    alarmTimer = setInterval(drainAlarms, 1000);
  }

  async function stop(): Promise<void> {
    users = Math.max(0, users - 1);
    if (users > 0) return;
    if (alarmTimer) clearInterval(alarmTimer);
    alarmTimer = null;
    if (restoreTimer) clearTimeout(restoreTimer);
    restoreTimer = null;
    const pending = stops;
    stops = [];
    await Promise.allSettled(pending.map((s) => s()));
  }

  return {
    wallName: WALL_NAME,
    layout,
    tiles,
    selected,
    enlarged,
    tour,
    cameras,
    districts,
    alarmQueue,
    slotCount,
    alarmSlot,
    problem,
    presets,
    setLayout,
    assign,
    open,
    startTour,
    stopTour,
    groupCameras,
    alarm,
    clearAlarmQueue,
    showOnWall,
    camerasNear,
    dismissProblem,
    savePreset,
    deletePreset,
    applyPreset,
    refreshPresets,
    start,
    stop,
  };
});
