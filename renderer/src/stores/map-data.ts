/**
 * The map's model: the rows the map wall draws (grids, units, staff, cameras, resources, places, rules, open
 * events, live positions, buildings), read from the window's data layer, and the style derived from them and from
 * the map's view state (choropleth metric, drill-down path). Layers follow it (map/layers/source.ts); the
 * view reads names and places from it. Events and staff change often: the restyle runs at most once a second.
 */
import { defineStore } from 'pinia';
import { markRaw, ref, watch } from 'vue';
import type { AdminUnit, BuildingsLayer, Camera, Grid, KpiSnapshot, Place, PositionRow, Resource, ResponsibilityRule, RowsChange, Staff, ViewRow } from '../../../protocol';
import { GridLocator, boxOf, clusterByStreet, gridMetric, gridsInPath, legendFor, type Box } from '../map/model';
import { districtKpi, gridValuesOfDistricts, kpiLegend } from '../map/kpi-choropleth';
import type { GridStyle, MapPart, MapSource } from '../map/layers';
import { useRowsStore, type Stop } from '../data';
import { toUserFacingError, useHubStore } from './hub';
import { useMapStore } from './map';

const RESTYLE_MS = 1000;

export const useMapDataStore = defineStore('mapData', () => {
  const hub = useHubStore();
  const data = useRowsStore();
  const view = useMapStore();
  /** Bumped when rows the view shows change (names, search, cards); raw maps never become deep-reactive. */
  const version = ref(0);
  /** Why the buildings could not be loaded (while the link is up), null when they were or nothing is known. */
  const buildingsProblem = ref<string | null>(null);

  let grids: ReadonlyMap<string, Grid> = markRaw(new Map());
  let units: ReadonlyMap<string, AdminUnit> = markRaw(new Map());
  let staff: ReadonlyMap<string, Staff> = markRaw(new Map());
  let cameras: ReadonlyMap<string, Camera> = markRaw(new Map());
  let resources: ReadonlyMap<string, Resource> = markRaw(new Map());
  let places: ReadonlyMap<string, Place> = markRaw(new Map());
  let rules: ReadonlyMap<string, ResponsibilityRule> = markRaw(new Map());
  let events: ReadonlyMap<string, ViewRow<'events'>> = markRaw(new Map());
  let positions: ReadonlyMap<string, PositionRow> = markRaw(new Map());
  let buildings: BuildingsLayer | null = null;
  /** The KPI snapshots by period (考核指标上图 colours the districts by one of them). */
  let kpis: ReadonlyMap<string, KpiSnapshot> = markRaw(new Map());
  let locator: GridLocator | null = null;
  let cityBox: Box | null = null;

  const listeners = new Map<MapPart, Set<() => void>>();
  const positionListeners = new Set<(change: RowsChange<PositionRow>) => void>();
  function emit(part: MapPart): void {
    for (const listener of [...(listeners.get(part) ?? [])]) listener();
  }
  function on(part: MapPart, listener: () => void): () => void {
    let set = listeners.get(part);
    if (!set) listeners.set(part, (set = new Set()));
    set.add(listener);
    return () => void set.delete(listener);
  }

  let styleTimer: ReturnType<typeof setTimeout> | null = null;
  function restyle(): void {
    emit('style');
  }
  function scheduleRestyle(): void {
    if (styleTimer) return;
    styleTimer = setTimeout(() => {
      styleTimer = null;
      restyle();
    }, RESTYLE_MS);
  }

  function gridStyle(): GridStyle {
    const metric = view.metric;
    const path = view.path;
    const kpi = view.kpiLayer;
    const snapshot = kpi ? kpis.get(kpi.period) : undefined;
    // The KPI wall's drill-down replaces the live metric while it is on (its legend says which).
    if (kpi) {
      return {
        values: snapshot ? gridValuesOfDistricts(grids.values(), districtKpi(snapshot, kpi.key)) : null,
        legend: kpiLegend(kpi.key),
        focus: path.units.length > 0 ? new Set(gridsInPath(grids.values(), path).map((g) => g.id)) : null,
        selected: path.gridId,
      };
    }
    return {
      values: metric === 'none' ? null : gridMetric(metric, { events: events.values(), staff: staff.values(), nowMs: Date.now() }),
      legend: legendFor(metric),
      focus: path.units.length > 0 ? new Set(gridsInPath(grids.values(), path).map((g) => g.id)) : null,
      selected: path.gridId,
    };
  }

  const source: MapSource & { readonly units: ReadonlyMap<string, AdminUnit>; readonly staff: ReadonlyMap<string, Staff>; readonly locator: GridLocator | null } = markRaw({
    get grids() {
      return grids;
    },
    get units() {
      return units;
    },
    get staff() {
      return staff;
    },
    get cameras() {
      return cameras;
    },
    get resources() {
      return resources;
    },
    get places() {
      return places;
    },
    get events() {
      return events;
    },
    get positions() {
      return positions;
    },
    get buildings() {
      return buildings;
    },
    get cityBox() {
      return cityBox;
    },
    get locator() {
      return locator;
    },
    gridStyle,
    glyphOf: (category: string) => (rules.get(category)?.categoryName ?? category).slice(0, 1),
    clusters: () => clusterByStreet([...events.values()], grids),
    on,
    onPositions(listener: (change: RowsChange<PositionRow>) => void) {
      positionListeners.add(listener);
      return () => void positionListeners.delete(listener);
    },
  });

  /** Buildings come once; when the hub has no backend yet (console starting) they are tried again online. */
  let lastProblem = '';
  function loadBuildings(): void {
    if (!hub.api || buildings || users === 0) return;
    hub.api.getCityLayer('buildings').then(
      (b) => {
        buildings = b;
        lastProblem = '';
        buildingsProblem.value = null;
        emit('buildings');
      },
      (e: unknown) => {
        const problem = toUserFacingError(e).detail;
        if (problem !== lastProblem && hub.connection?.status === 'online') buildingsProblem.value = problem;
        lastProblem = problem;
      },
    );
  }
  watch(
    () => hub.connection?.status,
    (status) => {
      if (status === 'online') loadBuildings();
    },
  );
  watch([() => view.metric, () => view.path, () => view.kpiLayer], restyle);

  const stops: Stop[] = [];
  let users = 0;
  /** The first user's subscribing, which later users share (its rows, or its failure). */
  let starting: Promise<void> | null = null;

  /** Reads the map's rows while a map is on screen (refcounted); resolves once the first results are in. */
  async function start(): Promise<void> {
    users++;
    if (!hub.api) return;
    starting ??= open();
    try {
      await starting;
    } catch (e) {
      users = Math.max(0, users - 1);
      throw e;
    }
  }

  async function open(): Promise<void> {
    try {
      await subscribe();
    } catch (e) {
      // A start that failed holds nothing: the view's retry starts again from scratch.
      starting = null;
      await Promise.allSettled(stops.splice(0).map((s) => s()));
      throw e;
    }
    restyle();
    loadBuildings();
  }

  async function subscribe(): Promise<void> {
    const bump = (): void => void version.value++;
    stops.push(await data.read({ topic: 'collection', collection: 'rules' }, (rows) => ((rules = rows as ReadonlyMap<string, ResponsibilityRule>), bump())));
    stops.push(await data.read({ topic: 'collection', collection: 'adminUnits' }, (rows) => ((units = rows), bump())));
    stops.push(
      await data.read({ topic: 'collection', collection: 'grids' }, (rows) => {
        grids = rows;
        locator = new GridLocator(rows.values());
        cityBox = boxOf([...rows.values()].flatMap((g) => g.polygon));
        bump();
        emit('grids');
        restyle();
      }),
    );
    stops.push(await data.read({ topic: 'collection', collection: 'staff' }, (rows) => ((staff = rows), emit('staff'), bump(), scheduleRestyle())));
    stops.push(await data.read({ topic: 'collection', collection: 'cameras' }, (rows) => ((cameras = rows), emit('cameras'), bump())));
    stops.push(await data.read({ topic: 'collection', collection: 'resources' }, (rows) => ((resources = rows), emit('resources'), bump())));
    stops.push(await data.read({ topic: 'collection', collection: 'places' }, (rows) => ((places = rows), emit('places'), bump())));
    stops.push(
      await data.read({ topic: 'collection', collection: 'kpis' }, (rows) => {
        kpis = rows;
        bump();
        if (view.kpiLayer) scheduleRestyle();
      }),
    );
    stops.push(await data.read({ topic: 'collection', collection: 'events', filter: { openOnly: true } }, (rows) => ((events = rows), bump(), scheduleRestyle())));
    stops.push(
      await data.read({ topic: 'positions' }, (rows, change) => {
        positions = rows;
        for (const listener of [...positionListeners]) listener(change);
      }),
    );
  }

  async function stop(): Promise<void> {
    users = Math.max(0, users - 1);
    if (users > 0) return;
    // Still subscribing: release what it ends up holding, unless a map came back meanwhile.
    await starting?.catch(() => {});
    if (users > 0) return;
    starting = null;
    if (styleTimer) clearTimeout(styleTimer);
    styleTimer = null;
    await Promise.allSettled(stops.splice(0).map((s) => s()));
  }

  /** The snapshot the KPI layer shows (for its legend's time), or null. */
  function kpiSnapshot(): KpiSnapshot | null {
    void version.value;
    return view.kpiLayer ? (kpis.get(view.kpiLayer.period) ?? null) : null;
  }

  return { version, buildingsProblem, source, restyle, start, stop, kpiSnapshot };
});
