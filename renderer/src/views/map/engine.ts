/**
 * The map view's engine: builds the Cesium map (loaded lazily), binds it to the map's model, rebuilds it after a
 * lost context, and carries what the engine reports (phase, failed sources, the tileset and its height offset).
 */
import { computed, markRaw, ref, shallowRef, watch, type Ref } from 'vue';
import { useI18n } from 'vue-i18n';
import { DEFAULT_MAP_SOURCES, NO_TILESET_OFFSET, type LonLat } from '../../../../protocol';
import { useHubStore } from '../../stores/hub';
import { useMapStore } from '../../stores/map';
import { useMapDataStore } from '../../stores/map-data';
import type { CityMap } from '../../map/city-map';
import type { LayerId, Picked } from '../../map/layers';
import type { SourceProblem } from '../../map/source-check';

export const LAYERS: LayerId[] = ['grids', 'buildings', 'staff', 'cameras', 'events', 'heat', 'resources', 'places'];

export interface EngineHandlers {
  click: (picked: Picked | null, at: LonLat | null) => void;
  rightClick: (picked: Picked | null, at: LonLat | null, screen: { x: number; y: number }) => void;
  hover: (picked: Picked | null, screen: { x: number; y: number }) => void;
  /** The map is built and bound: look at the right place. */
  ready: () => void;
}

export function useMapEngine(container: Ref<HTMLDivElement | null>, handlers: EngineHandlers) {
  const { t } = useI18n();
  const hub = useHubStore();
  const mapState = useMapStore();
  const model = useMapDataStore();
  const src = model.source;

  const map = shallowRef<CityMap | null>(null);
  const phase = ref<'loading' | 'ready' | 'lost' | 'failed'>('loading');
  const progress = ref<string>('');
  const failure = ref<string>('');
  const mapProblems = ref<SourceProblem[]>([]);
  const tilesetLoaded = ref(false);
  const terrainInUse = ref<string | null>(null);
  const cameraHeight = ref(0);

  function sourceProblemText(p: SourceProblem): string {
    const cause = p.cause === 'http' ? (p.status === 404 ? t('map.sourceError.cause.http404') : t('map.sourceError.cause.http', { status: p.status ?? '?' })) : t(`map.sourceError.cause.${p.cause}`);
    return t('map.sourceError.line', { what: t(`map.sourceError.what.${p.source}`), url: p.url, cause }) + (p.fellBack ? t('map.sourceError.fellBack') : '') + (p.source === 'annotation' ? t('map.sourceError.annotationDropped') : '');
  }
  /** One line per failed source, in the window's language: what, the URL, the likely cause; the engine's words on hover. */
  const sourceProblems = computed(() => [
    ...mapProblems.value.map((p) => ({ text: sourceProblemText(p), detail: p.detail, cause: p.cause })),
    ...(model.buildingsProblem ? [{ text: `${t('map.layers.buildings')}: ${model.buildingsProblem}`, detail: model.buildingsProblem, cause: 'other' }] : []),
  ]);

  /** The tileset's height offset: the settings' (every window's), or the one just asked for here while it is saved. */
  const pendingHeight = ref<number | null>(null);
  const tilesetHeight = computed(() => pendingHeight.value ?? hub.settings?.map.tilesetOffset.height ?? 0);
  /** −10/−1/+1/+10 m from the layer panel: applied at once, then saved (settings.json; the other windows follow). */
  async function nudgeTileset(metres: number): Promise<void> {
    const settings = hub.settings;
    if (!settings) return;
    const height = Math.min(1000, Math.max(-1000, Math.round((tilesetHeight.value + metres) * 10) / 10));
    pendingHeight.value = height;
    const offset = { ...settings.map.tilesetOffset, height };
    map.value?.setTilesetOffset(offset);
    await hub.updateSettings({ map: { ...(hub.settings ?? settings).map, tilesetOffset: offset } });
    if (pendingHeight.value === height) pendingHeight.value = null;
  }
  watch(
    () => hub.settings?.map.tilesetOffset,
    (offset) => {
      if (pendingHeight.value === null) map.value?.setTilesetOffset(offset ?? NO_TILESET_OFFSET);
    },
    { deep: true },
  );

  /** The model's rows are read while the view is on screen (a map rebuilt after a lost context keeps them). */
  let started: Promise<void> | null = null;

  async function build(): Promise<void> {
    if (!container.value || !hub.api) return;
    phase.value = 'loading';
    progress.value = t('map.loadingEngine');
    try {
      const { CityMap } = await import('../../map/city-map');
      if (!container.value) return; // the view left while the engine loaded
      const sources = hub.settings?.map ?? DEFAULT_MAP_SOURCES;
      const m = markRaw(
        new CityMap(container.value, sources, {
          click: handlers.click,
          rightClick: handlers.rightClick,
          hover: handlers.hover,
          cameraMoved: (height) => (cameraHeight.value = height),
          contextLost: () => {
            phase.value = 'lost';
            // Cesium cannot carry on after a lost context: rebuild when the browser gives one back, or on request.
            setTimeout(() => void rebuild(), 1500);
          },
          renderFailed: (detail) => {
            failure.value = detail;
            phase.value = 'failed';
          },
          sourceFailed: (problem) => mapProblems.value.push(problem),
          tilesetLoaded: () => (tilesetLoaded.value = true),
          terrainLoaded: () => (terrainInUse.value = sources.terrainUrl),
        }),
      );
      map.value = m;
      for (const id of LAYERS) m.setLayerVisible(id, mapState.layers[id]);
      progress.value = t('map.loadingData');
      started ??= model.start();
      await started.catch((e: unknown) => {
        started = null;
        throw e;
      });
      // The view left (or the map was rebuilt) while the rows loaded: that map is gone, nothing to draw on.
      if (map.value !== m) return;
      m.bind(src);
      handlers.ready();
      phase.value = 'ready';
    } catch (e) {
      failure.value = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
      phase.value = 'failed';
    }
  }

  async function rebuild(): Promise<void> {
    teardown();
    await build();
  }

  function teardown(): void {
    map.value?.destroy();
    map.value = null;
  }

  /** The view leaves: the map goes, and the model stops reading once it has started. */
  function dispose(): void {
    teardown();
    if (started) void started.then(() => model.stop(), () => {});
  }

  watch(
    () => mapState.layers,
    (layers) => {
      for (const id of LAYERS) map.value?.setLayerVisible(id, layers[id]);
    },
    { deep: true },
  );

  return { map, phase, progress, failure, sourceProblems, tilesetLoaded, terrainInUse, cameraHeight, tilesetHeight, nudgeTileset, build, rebuild, dispose };
}
