/** The KPI wall's data: KPI snapshots from the backend (as the hub has them) and the names they refer to. */
import { defineStore } from 'pinia';
import { computed, markRaw, ref } from 'vue';
import type { AdminUnit, KpiPeriod, KpiSnapshot, ResponsibilityRule } from '../../../protocol';
import { toUserFacingError, useHubStore } from './hub';
import { useRowsStore } from '../data';

export const useKpiStore = defineStore('kpi', () => {
  const hub = useHubStore();
  const data = useRowsStore();
  const version = ref(0);
  const loading = ref(true);
  const period = ref<KpiPeriod>('7d');
  let kpis: ReadonlyMap<string, KpiSnapshot> = markRaw(new Map());
  let units: ReadonlyMap<string, AdminUnit> = markRaw(new Map());
  let rules: ReadonlyMap<string, ResponsibilityRule> = markRaw(new Map());
  const stops: Array<() => Promise<void>> = [];

  async function start(): Promise<void> {
    if (!hub.api || stops.length > 0) return;
    const bump = (): void => void version.value++;
    try {
      stops.push(await data.read({ topic: 'collection', collection: 'kpis' }, (rows) => ((kpis = rows), bump())));
      stops.push(await data.read({ topic: 'collection', collection: 'adminUnits', filter: {} }, (rows) => ((units = rows), bump())));
      stops.push(await data.read({ topic: 'collection', collection: 'rules' }, (rows) => ((rules = rows as ReadonlyMap<string, ResponsibilityRule>), bump())));
    } catch (e) {
      hub.error = toUserFacingError(e);
    }
    loading.value = false;
  }

  async function stop(): Promise<void> {
    await Promise.allSettled(stops.splice(0).map((s) => s()));
  }

  const current = computed<KpiSnapshot | null>(() => {
    void version.value;
    return kpis.get(period.value) ?? null;
  });

  const names = {
    district: (id: string) => {
      void version.value;
      return units.get(id)?.name ?? id;
    },
    category: (id: string) => {
      void version.value; // names can arrive after the KPIs: charts must redraw with them
      return rules.get(id)?.categoryName ?? id;
    },
  };

  /** Data shown while the link is down is the last known, and must look it. */
  const stale = computed(() => hub.connection?.status !== 'online');

  return { loading, period, current, names, stale, start, stop };
});
