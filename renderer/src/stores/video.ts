/**
 * The video wall (视频墙) of this window: layout, which camera is in which tile, the tour (轮巡), and video
 * alarms waiting for a tile. Layout and tiles are remembered per window (localStorage). Cameras come from the
 * hub; video-AI alarms open their camera, rate-limited so a burst never takes over the wall.
 */
import { defineStore } from 'pinia';
import { computed, markRaw, ref, shallowRef, watch } from 'vue';
import type { Camera, GovEvent, LonLat } from '../../../protocol';
import { nearest } from '../../../domain';
import { useHubStore } from './hub';
import { useRowsStore } from '../data';

export const LAYOUTS = ['1', '4', '9', '16', '1+5', '1+7'] as const;
export type WallLayout = (typeof LAYOUTS)[number];
export const LAYOUT_SLOTS: Record<WallLayout, number> = { '1': 1, '4': 4, '9': 9, '16': 16, '1+5': 6, '1+7': 8 };
export const MAX_TILES = 16;
/** At most one alarm takes a tile per this many ms; the rest wait in line. */
export const ALARM_MIN_INTERVAL_MS = 10_000;
export const TOUR_INTERVALS = [10, 30, 60, 120] as const;

const STORAGE_KEY = 'zongzhi.video.wall';

interface Saved {
  layout: WallLayout;
  tiles: Array<string | null>;
}

function load(): Saved {
  const empty: Saved = { layout: '4', tiles: Array.from({ length: MAX_TILES }, () => null) };
  try {
    const raw: unknown = JSON.parse(localStorage.getItem(STORAGE_KEY) ?? 'null');
    if (!raw || typeof raw !== 'object') return empty;
    const { layout, tiles } = raw as Partial<Saved>;
    return {
      layout: LAYOUTS.includes(layout as WallLayout) ? (layout as WallLayout) : empty.layout,
      tiles: Array.from({ length: MAX_TILES }, (_, i) => (Array.isArray(tiles) && typeof tiles[i] === 'string' ? tiles[i] : null)),
    };
  } catch {
    return empty;
  }
}

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

export interface Tour {
  label: string;
  cameraIds: string[];
  intervalSec: number;
  page: number;
}

export const useVideoStore = defineStore('video', () => {
  const hub = useHubStore();
  const data = useRowsStore();
  const saved = load();
  const layout = ref<WallLayout>(saved.layout);
  const tiles = ref<Array<string | null>>(saved.tiles);
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
  let knownAlarms: Set<string> | null = null;

  watch([layout, tiles], () => localStorage.setItem(STORAGE_KEY, JSON.stringify({ layout: layout.value, tiles: tiles.value } satisfies Saved)), { deep: true });

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

  function startTour(label: string, cameraIds: string[], intervalSec: number): void {
    stopTour();
    if (cameraIds.length === 0) return;
    tour.value = { label, cameraIds, intervalSec, page: 0 };
    showTourPage();
    tourTimer = setInterval(() => {
      if (!tour.value) return;
      tour.value = { ...tour.value, page: tour.value.page + 1 };
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
    if (!tiles.value.slice(0, slotCount.value).includes(cameraId) && !alarmQueue.value.includes(cameraId)) alarmQueue.value = [...alarmQueue.value, cameraId];
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
    knownAlarms = null;
    stops.push(await data.read({ topic: 'collection', collection: 'cameras' }, (rows) => (cameras.value = markRaw(new Map(rows)))));
    stops.push(
      await data.read({ topic: 'collection', collection: 'adminUnits' }, (rows) => {
        districts.value = markRaw(new Map([...rows.values()].filter((u) => u.level === 'district').map((u) => [u.id, u.name])));
      }),
    );
    stops.push(
      await data.read({ topic: 'collection', collection: 'events', filter: { sources: ['video-ai'], openOnly: true } }, (rows) => {
        // Alarms present when the wall opened are old news; new ones open their camera.
        const fresh = [...rows.values()].filter((e: GovEvent) => knownAlarms !== null && !knownAlarms.has(e.id));
        knownAlarms = new Set(rows.keys());
        for (const e of fresh) if (e.cameraId) alarm(e.cameraId);
      }),
    );
    alarmTimer = setInterval(drainAlarms, 1000);
  }

  async function stop(): Promise<void> {
    users = Math.max(0, users - 1);
    if (users > 0) return;
    if (alarmTimer) clearInterval(alarmTimer);
    alarmTimer = null;
    const pending = stops;
    stops = [];
    await Promise.allSettled(pending.map((s) => s()));
  }

  return { layout, tiles, selected, enlarged, tour, cameras, districts, alarmQueue, slotCount, alarmSlot, setLayout, assign, open, startTour, stopTour, alarm, clearAlarmQueue, showOnWall, camerasNear, start, stop };
});
