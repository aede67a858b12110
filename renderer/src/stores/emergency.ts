/**
 * 应急: what every wall shows first while the command level is emergency — the incident, the staff, resources
 * and cameras around it, the plan (预案) with owners and ticks, and one timeline of what happened. Subscribed
 * only while the board is on screen; large collections are kept raw (10,000 staff never become reactive).
 */
import { defineStore } from 'pinia';
import { computed, markRaw, ref, watch } from 'vue';
import type { Camera, CommandLevelState, Department, Resource, ResponsibilityRule, Staff, TimelineEntry, ViewRow } from '../../../protocol';
import { nearest } from '../../../domain';
import { toUserFacingError, useHubStore } from './hub';
import { send, useRowsStore } from '../data';
import { followKey } from './follow-key';

/** How far around the incident the board looks, in metres. */
export const STAFF_RADIUS = 3_000;
export const CAMERA_RADIUS = 1_500;
export const RESOURCE_RADIUS = 3_000;

export interface TimelineItem {
  at: string;
  kind: 'level' | 'event' | 'plan';
  who: string;
  /** An i18n action key or free text, decided by the view. */
  action: string;
  note: string;
}

/**
 * One timeline, newest first: the level change, the incident's own steps (since the level was raised, plus
 * its report), and the plan's ticks. The incident's "level raised" entry is the level item itself.
 */
export function emergencyTimeline(level: CommandLevelState | null, history: Iterable<TimelineEntry>, limit = 40): TimelineItem[] {
  const items: TimelineItem[] = [];
  if (level) items.push({ at: level.since, kind: 'level', who: level.by, action: `level-${level.level}`, note: level.reason });
  for (const entry of history) {
    if (entry.action.startsWith('level-')) continue;
    if (!level || entry.at >= level.since || entry.action === 'report') items.push({ at: entry.at, kind: 'event', who: entry.actorName, action: entry.action, note: entry.note ?? '' });
  }
  for (const step of level?.plan ?? []) {
    if (step.doneAt) items.push({ at: step.doneAt, kind: 'plan', who: step.doneBy ?? '', action: 'plan-done', note: step.text });
  }
  // Stable order: the level change and the event entry it wrote share a time.
  return items.sort((a, b) => b.at.localeCompare(a.at) || a.kind.localeCompare(b.kind)).slice(0, limit);
}

/** Where a window keeps the raise its walls were last shown for (sessionStorage: this window's, kept over a reload). */
export const WALLS_SHOWN_KEY = 'zongzhi.emergency.wallsShownFor';
type KeyStore = Pick<Storage, 'getItem' | 'setItem'>;

/**
 * Whether this window's walls were already shown the incident for this raise of the level (`since|incidentId`):
 * kept outside the board, so a reconnect or reload that mounts it again does not fly the map and resend cameras.
 * A storage that cannot be read or written counts as not shown (at worst the walls are shown once more).
 */
export function wallsShownFor(storage: KeyStore | undefined, key: string): boolean {
  try {
    return storage?.getItem(WALLS_SHOWN_KEY) === key;
  } catch {
    return false;
  }
}

export function markWallsShown(storage: KeyStore | undefined, key: string): void {
  try {
    storage?.setItem(WALLS_SHOWN_KEY, key);
  } catch {
    // Private mode or full: shown again after a reload at worst.
  }
}

export const useEmergencyStore = defineStore('emergency', () => {
  const hub = useHubStore();
  const data = useRowsStore();
  const version = ref(0);
  const loading = ref(true);
  let level: CommandLevelState | null = null;
  let incident: ViewRow<'events'> | null = null;
  let incidentHistory: ReadonlyMap<string, ViewRow<'timeline'>> = markRaw(new Map());
  let staff: ReadonlyMap<string, Staff> = markRaw(new Map());
  let cameras: ReadonlyMap<string, Camera> = markRaw(new Map());
  let resources: ReadonlyMap<string, Resource> = markRaw(new Map());
  let departments: ReadonlyMap<string, Department> = markRaw(new Map());
  let rules: ReadonlyMap<string, ResponsibilityRule> = markRaw(new Map());
  const incidentId = ref<string | null>(null);
  const stops: Array<() => Promise<void>> = [];
  let users = 0;

  const bump = (): void => void version.value++;

  /** Several walls can show the board at once in one window (combined layout): one subscription set for all. */
  async function start(): Promise<void> {
    users++;
    if (!hub.api || stops.length > 0) return;
    loading.value = true;
    try {
      stops.push(
        await data.read({ topic: 'collection', collection: 'commandLevel' }, (rows) => {
          level = rows.get('current') ?? null;
          incidentId.value = level?.incidentId ?? null;
          bump();
        }),
      );
      stops.push(await data.read({ topic: 'collection', collection: 'departments' }, (rows) => ((departments = rows), bump())));
      stops.push(await data.read({ topic: 'collection', collection: 'rules' }, (rows) => ((rules = rows as ReadonlyMap<string, ResponsibilityRule>), bump())));
      stops.push(await data.read({ topic: 'collection', collection: 'staff' }, (rows) => ((staff = rows), bump())));
      stops.push(await data.read({ topic: 'collection', collection: 'cameras' }, (rows) => ((cameras = rows), bump())));
      stops.push(await data.read({ topic: 'collection', collection: 'resources' }, (rows) => ((resources = rows), bump())));
    } catch (e) {
      hub.error = toUserFacingError(e);
    }
    loading.value = false;
  }

  async function stop(): Promise<void> {
    users = Math.max(0, users - 1);
    if (users > 0) return;
    await Promise.allSettled([...stops.splice(0).map((s) => s()), followIncident(null)]);
    incidentId.value = null;
  }

  // The incident has its own subscriptions (it and its history): they change when the level is raised for
  // another event.
  const followIncident = followKey<string>(async (id, isCurrent, keep) => {
    if (!hub.api) return;
    keep(
      await data.read({ topic: 'collection', collection: 'events', filter: { ids: [id] } }, (rows) => {
        if (!isCurrent()) return;
        incident = rows.get(id) ?? null;
        bump();
      }),
    );
    keep(
      await data.read({ topic: 'collection', collection: 'timeline', filter: { eventIds: [id] } }, (rows) => {
        if (!isCurrent()) return;
        incidentHistory = rows;
        bump();
      }),
    );
  });
  watch(incidentId, (id) => {
    incident = null;
    incidentHistory = markRaw(new Map());
    bump();
    followIncident(id).catch((e: unknown) => (hub.error = toUserFacingError(e)));
  });

  const state = computed(() => {
    void version.value;
    return level;
  });
  const event = computed(() => {
    void version.value;
    return incident;
  });

  const categoryName = computed(() => {
    void version.value;
    return incident ? (rules.get(incident.category)?.categoryName ?? incident.category) : '';
  });

  const nearbyStaff = computed(() => {
    void version.value;
    if (!incident) return [];
    return nearest(staff.values(), incident.location, STAFF_RADIUS, 6, (s) => (s.status === 'offline' ? null : s.position));
  });
  const nearbyCameras = computed(() => {
    void version.value;
    if (!incident) return [];
    return nearest(cameras.values(), incident.location, CAMERA_RADIUS, 6, (c) => c.position);
  });
  const nearbyResources = computed(() => {
    void version.value;
    if (!incident) return [];
    return nearest(resources.values(), incident.location, RESOURCE_RADIUS, 4, (r) => r.position);
  });

  const plan = computed(() => {
    void version.value;
    return (level?.plan ?? []).map((step) => ({ ...step, owner: departments.get(step.ownerDepartmentId)?.name ?? step.ownerDepartmentId }));
  });
  const progress = computed(() => ({ done: plan.value.filter((s) => s.doneAt !== null).length, total: plan.value.length }));

  const timeline = computed<TimelineItem[]>(() => {
    void version.value;
    return emergencyTimeline(level, incidentHistory.values());
  });

  async function tick(itemId: string, done: boolean): Promise<void> {
    await send('plan.tick', { itemId, done });
  }

  return { loading, state, event, categoryName, nearbyStaff, nearbyCameras, nearbyResources, plan, progress, timeline, start, stop, tick };
});
