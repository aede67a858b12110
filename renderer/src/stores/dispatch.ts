/**
 * The dispatch desk's data: open events (the queue), the selected event (even after it closes), and what
 * suggestions need (rules, departments, staff, grids). Rows come from the hub as a whole result then patches;
 * maps are kept raw and a version counter drives Vue, so 10,000 staff never become deep reactive objects.
 */
import { defineStore } from 'pinia';
import { computed, markRaw, ref, watch } from 'vue';
import { type AdminUnit, type Department, type EventSource, type EventStep, type Grid, type ResponsibilityRule, type Staff, type ViewRow } from '../../../protocol';
import { nearest, suggestDepartment, suggestStaff } from '../../../domain';
import { toUserFacingError, useHubStore } from './hub';
import { useLevelsStore } from './levels';
import { send, useRowsStore } from '../data';
import { GROUP_CALL_LIMIT } from '../sip/conference';
import { followKey } from './follow-key';
import { useCityNow } from './city-now';

export type EventRow = ViewRow<'events'>;
export type TimelineRow = ViewRow<'timeline'>;

export type QueueSort = 'urgency' | 'newest' | 'severity';

export interface QueueFilters {
  text: string;
  category: string | null;
  sort: QueueSort;
  sources: EventSource[];
  minSeverity: number;
  step: EventStep | null;
  districtId: string | null;
  /** Only events I touched (my user id among the event's actors). */
  mine: boolean;
}

/** 周边 group calls: staff on duty within this distance of the event (at most a group call's worth). */
export const NEARBY_STAFF_RADIUS_M = 1000;

export const useDispatchStore = defineStore('dispatch', () => {
  const hub = useHubStore();
  const cityNow = useCityNow();
  const levels = useLevelsStore();
  const data = useRowsStore();
  const version = ref(0);
  const loading = ref(true);
  const maps = {
    events: markRaw(new Map<string, EventRow>()) as ReadonlyMap<string, EventRow>,
    selected: markRaw(new Map<string, EventRow>()) as ReadonlyMap<string, EventRow>,
    selectedTimeline: markRaw(new Map<string, TimelineRow>()) as ReadonlyMap<string, TimelineRow>,
    departments: markRaw(new Map<string, Department>()) as ReadonlyMap<string, Department>,
    rules: markRaw(new Map<string, ResponsibilityRule>()) as ReadonlyMap<string, ResponsibilityRule>,
    staff: markRaw(new Map<string, Staff>()) as ReadonlyMap<string, Staff>,
    grids: markRaw(new Map<string, Grid>()) as ReadonlyMap<string, Grid>,
    units: markRaw(new Map<string, AdminUnit>()) as ReadonlyMap<string, AdminUnit>,
  };
  const selectedId = ref<string | null>(null);
  const filters = ref<QueueFilters>({ text: '', category: null, sort: 'urgency', sources: [], minSeverity: 1, step: null, districtId: null, mine: false });
  const stops: Array<() => Promise<void>> = [];
  const tick = ref(Date.now());
  let timer: ReturnType<typeof setInterval> | null = null;

  async function start(): Promise<void> {
    if (!hub.api || stops.length > 0) return;
    loading.value = true;
    const bump = (): void => void version.value++;
    try {
      stops.push(await data.read({ topic: 'collection', collection: 'events', filter: { openOnly: true } }, (rows) => ((maps.events = rows), bump())));
      stops.push(await data.read({ topic: 'collection', collection: 'departments' }, (rows) => ((maps.departments = rows), bump())));
      stops.push(await data.read({ topic: 'collection', collection: 'rules' }, (rows) => ((maps.rules = rows as ReadonlyMap<string, ResponsibilityRule>), bump())));
      stops.push(await data.read({ topic: 'collection', collection: 'staff' }, (rows) => ((maps.staff = rows), bump())));
      stops.push(await data.read({ topic: 'collection', collection: 'grids' }, (rows) => ((maps.grids = rows), bump())));
      stops.push(await data.read({ topic: 'collection', collection: 'adminUnits' }, (rows) => ((maps.units = rows), bump())));
    } catch (e) {
      hub.error = toUserFacingError(e);
    }
    loading.value = false;
    timer = setInterval(() => (tick.value = Date.now()), 1000);
  }

  async function stop(): Promise<void> {
    if (timer) clearInterval(timer);
    timer = null;
    await Promise.allSettled([...stops.splice(0).map((s) => s()), followSelected(null)]);
  }

  // The selected event has its own subscriptions (it and its history), so it stays on screen after it leaves
  // the open queue.
  const followSelected = followKey<string>(async (id, isCurrent, keep) => {
    if (!hub.api) return;
    keep(
      await data.read({ topic: 'collection', collection: 'events', filter: { ids: [id] } }, (rows) => {
        if (!isCurrent()) return;
        maps.selected = rows;
        version.value++;
      }),
    );
    keep(
      await data.read({ topic: 'collection', collection: 'timeline', filter: { eventIds: [id] } }, (rows) => {
        if (!isCurrent()) return;
        maps.selectedTimeline = rows;
        version.value++;
      }),
    );
  });
  watch(selectedId, (id) => {
    maps.selected = markRaw(new Map());
    maps.selectedTimeline = markRaw(new Map());
    version.value++;
    followSelected(id).catch((e: unknown) => (hub.error = toUserFacingError(e)));
  });

  /** Server time now (the backend's clock may run faster than real time in a demo). */
  const serverNow = computed(() => {
    void tick.value;
    return cityNow();
  });

  const queue = computed<EventRow[]>(() => {
    void version.value;
    const f = filters.value;
    const text = f.text.trim().toLowerCase();
    const me = hub.connection?.user?.id;
    const rows = [...maps.events.values()].filter(
      (e) =>
        e.severity >= f.minSeverity &&
        (f.sources.length === 0 || f.sources.includes(e.source)) &&
        (f.step === null || e.step === f.step) &&
        (f.category === null || e.category === f.category) &&
        (f.districtId === null || e.districtId === f.districtId) &&
        (!f.mine || (me !== undefined && e.actors.includes(me))) &&
        (text === '' ||
          e.id.toLowerCase().includes(text) ||
          e.title.toLowerCase().includes(text) ||
          e.address.toLowerCase().includes(text) ||
          (maps.grids.get(e.gridId)?.name.toLowerCase().includes(text) ?? false)),
    );
    const now = serverNow.value;
    const overdue = (e: EventRow): boolean => e.stepDeadline !== null && Date.parse(e.stepDeadline) < now;
    if (f.sort === 'newest') return rows.sort((a, b) => b.reportedAt.localeCompare(a.reportedAt));
    if (f.sort === 'severity') return rows.sort((a, b) => b.severity - a.severity || Number(overdue(b)) - Number(overdue(a)) || b.reportedAt.localeCompare(a.reportedAt));
    // Urgency: overdue first, then the nearest deadline, then the most severe.
    return rows.sort((a, b) => Number(overdue(b)) - Number(overdue(a)) || (a.stepDeadline ?? '').localeCompare(b.stepDeadline ?? '') || b.severity - a.severity);
  });

  const selected = computed<EventRow | null>(() => {
    void version.value;
    return selectedId.value ? (maps.selected.get(selectedId.value) ?? maps.events.get(selectedId.value) ?? null) : null;
  });

  /** The selected event's history (处置记录), oldest first. */
  const selectedTimeline = computed<TimelineRow[]>(() => {
    void version.value;
    const id = selectedId.value;
    return [...maps.selectedTimeline.values()].filter((r) => r.eventId === id).sort((a, b) => a.index - b.index);
  });

  const departmentSuggestion = computed(() => {
    void version.value;
    return selected.value ? suggestDepartment(selected.value, maps.rules, maps.departments) : null;
  });

  const staffSuggestions = computed(() => {
    void version.value;
    return selected.value ? suggestStaff(selected.value, maps.staff.values(), hub.connection?.districtScope ?? null, 3, { get: (_c, id) => maps.grids.get(id) }, levels.cadresCalled) : [];
  });

  /** Possible duplicates: open, same category, within 500 m and 24 h of the selected event. */
  const duplicates = computed<EventRow[]>(() => {
    void version.value;
    const e = selected.value;
    if (!e || e.status === 'closed' || e.status === 'merged') return [];
    const t = Date.parse(e.reportedAt);
    return [...maps.events.values()].filter((o) => {
      if (o.id === e.id || o.category !== e.category) return false;
      if (Math.abs(Date.parse(o.reportedAt) - t) > 86_400_000) return false;
      const dx = (o.location[0] - e.location[0]) * 89_000;
      const dy = (o.location[1] - e.location[1]) * 111_000;
      return Math.hypot(dx, dy) < 500;
    });
  });

  const names = {
    department: (id: string | null | undefined) => (id ? (maps.departments.get(id)?.name ?? id) : ''),
    staff: (id: string | null | undefined) => (id ? (maps.staff.get(id)?.name ?? id) : ''),
    grid: (id: string) => maps.grids.get(id)?.name ?? id,
    district: (id: string) => maps.units.get(id)?.name ?? id,
    category: (id: string) => maps.rules.get(id)?.categoryName ?? id,
  };

  const departmentList = computed(() => {
    void version.value;
    return [...maps.departments.values()].sort((a, b) => a.code.localeCompare(b.code));
  });

  const ruleList = computed(() => {
    void version.value;
    return [...maps.rules.values()].sort((a, b) => a.categoryName.localeCompare(b.categoryName, 'zh-CN'));
  });

  const gridList = computed(() => {
    void version.value;
    return [...maps.grids.values()].sort((a, b) => a.code.localeCompare(b.code));
  });

  /** The grid staff of the selected event's grid, on duty first. */
  const gridStaff = computed<Staff[]>(() => {
    void version.value;
    const e = selected.value;
    if (!e) return [];
    return [...maps.staff.values()].filter((s) => s.gridId === e.gridId).sort((a, b) => Number(a.status === 'offline') - Number(b.status === 'offline') || a.name.localeCompare(b.name, 'zh-CN'));
  });

  /** Staff on duty around the selected event (any grid), nearest first: whom a 周边 group call reaches. */
  const staffAround = computed<Staff[]>(() => {
    void version.value;
    const e = selected.value;
    if (!e) return [];
    const onDuty = [...maps.staff.values()].filter((s) => s.status !== 'offline');
    return nearest(onDuty, e.location, NEARBY_STAFF_RADIUS_M, GROUP_CALL_LIMIT, (s) => s.position).map((n) => n.item);
  });

  const districts = computed(() => {
    void version.value;
    return [...maps.units.values()].filter((u) => u.level === 'district').sort((a, b) => a.code.localeCompare(b.code));
  });

  /** Rows ticked for a bulk action (storms: merge 20 hotline calls about one flood in one step). */
  const checked = ref<Set<string>>(new Set());

  function toggleChecked(id: string): void {
    const next = new Set(checked.value);
    if (next.has(id)) next.delete(id);
    else next.add(id);
    checked.value = next;
  }

  function checkAllVisible(): void {
    checked.value = new Set(queue.value.map((e) => e.id));
  }

  /** Merges every ticked event into the earliest reported of them. Returns the target's id. */
  async function mergeChecked(): Promise<string | null> {
    const rows = [...checked.value].map((id) => maps.events.get(id)).filter((e): e is EventRow => !!e);
    if (rows.length < 2) return null;
    rows.sort((a, b) => a.reportedAt.localeCompare(b.reportedAt));
    const [target, ...rest] = rows;
    for (const row of rest) await send('event.merge', { eventId: row.id, intoEventId: target!.id });
    checked.value = new Set();
    selectedId.value = target!.id;
    return target!.id;
  }

  async function superviseChecked(note: string): Promise<void> {
    for (const id of checked.value) await send('event.supervise', { eventId: id, note });
    checked.value = new Set();
  }

  function move(delta: number): void {
    const list = queue.value;
    if (list.length === 0) return;
    const index = list.findIndex((e) => e.id === selectedId.value);
    const next = index < 0 ? 0 : Math.min(list.length - 1, Math.max(0, index + delta));
    selectedId.value = list[next]!.id;
  }

  return { loading, version, selectedId, filters, queue, selected, selectedTimeline, serverNow, departmentSuggestion, staffSuggestions, duplicates, names, districts, departmentList, ruleList, gridList, gridStaff, staffAround, checked, toggleChecked, checkAllVisible, mergeChecked, superviseChecked, start, stop, move };
});
