/**
 * What the map wall shows and where it should look, shared with the other workspaces: layer visibility, the
 * choropleth metric, the drill-down path, and focus requests ("show this event on the map" from the desk or
 * the KPI wall). Layer choices are remembered per window (localStorage), like a wall operator expects.
 */
import { defineStore } from 'pinia';
import { ref, watch } from 'vue';
import type { LayerId } from '../map/layers';
import type { ChoroplethMetric, DrillPath } from '../map/model';
import type { MapKpiLayer } from '../../../protocol';
import { useHubStore } from './hub';

/** What to look at: a thing on the map, a district (by id) or the whole city (id 'city'). */
export type FocusRequest = { kind: 'event' | 'grid' | 'staff' | 'camera' | 'district' | 'city'; id: string };

const STORAGE_KEY = 'zongzhi.map.layers';
const DEFAULT_LAYERS: Record<LayerId, boolean> = { buildings: true, grids: true, staff: true, cameras: true, events: true, heat: false, resources: true, places: true };

function loadLayers(): Record<LayerId, boolean> {
  try {
    const raw: unknown = JSON.parse(localStorage.getItem(STORAGE_KEY) ?? 'null');
    if (raw && typeof raw === 'object') {
      const out = { ...DEFAULT_LAYERS };
      for (const key of Object.keys(DEFAULT_LAYERS) as LayerId[]) {
        const v = (raw as Record<string, unknown>)[key];
        if (typeof v === 'boolean') out[key] = v;
      }
      return out;
    }
  } catch {
    /* unreadable: defaults */
  }
  return { ...DEFAULT_LAYERS };
}

export const useMapStore = defineStore('map', () => {
  const layers = ref<Record<LayerId, boolean>>(loadLayers());
  const metric = ref<ChoroplethMetric>('openEvents');
  const path = ref<DrillPath>({ units: [], gridId: null });
  const focus = ref<FocusRequest | null>(null);
  /** 考核指标上图: the districts coloured by a KPI of the KPI wall (instead of the metric), or null. */
  const kpiLayer = ref<MapKpiLayer | null>(null);
  watch(layers, (value) => localStorage.setItem(STORAGE_KEY, JSON.stringify(value)), { deep: true });

  function show(request: FocusRequest): void {
    focus.value = request;
  }

  /**
   * "Show on the map" from any window: the map walls of the room fly there. Answers 'wall' when another
   * window shows the map, 'here' when none does (the caller then opens its own map), so nothing is lost.
   */
  async function showOnWall(request: FocusRequest, kpi?: MapKpiLayer): Promise<'wall' | 'here'> {
    show(request);
    if (kpi) kpiLayer.value = kpi;
    const api = useHubStore().api;
    if (!api) return 'here';
    try {
      const { walls } = await api.showOnWall({ wall: 'map', kind: request.kind, id: request.id, ...(kpi ? { kpi } : {}) });
      return walls > 0 ? 'wall' : 'here';
    } catch {
      return 'here';
    }
  }

  return { layers, metric, path, focus, kpiLayer, show, showOnWall };
});
