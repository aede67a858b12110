/**
 * The scene `bench/map.ts` measures: the console's own map layers (renderer/src/map/layers/) on the
 * console's own CesiumWidget (createCityWidget), plus the Entity-API version of the staff layer that
 * the layer replaces. The bench drives it through `window.mapBench`.
 */
import {
  Cartesian3,
  Color,
  ConstantPositionProperty,
  ConstantProperty,
  CustomDataSource,
  DataSourceCollection,
  DataSourceDisplay,
  Math as CesiumMath,
  NearFarScalar,
  type Entity,
} from 'cesium';
import { DEFAULT_MAP_SOURCES, STAFF_STATUS_CODES, type BuildingsLayer, type Grid, type PositionRow } from '../../protocol';
import { BuildingLayer, GridLayer, STAFF_COLORS, StaffLayer } from '../../renderer/src/map/layers';
import { createCityWidget } from '../../renderer/src/map/city-map';

// The console's own widget and scene look (city-map.ts also points Cesium at ./cesium/ and turns Ion off).
const widget = createCityWidget(document.getElementById('map')!, DEFAULT_MAP_SOURCES);
const scene = widget.scene;

const CENTER: [number, number] = [117.02, 36.66];
function look(height: number, heading = 0): void {
  widget.camera.setView({ destination: Cartesian3.fromDegrees(CENTER[0], CENTER[1] - height / 160_000, height), orientation: { heading, pitch: CesiumMath.toRadians(-55), roll: 0 } });
  scene.requestRender();
}
look(30_000);

/** Deterministic walkers: 10,000 staff members each moving a few metres per second. */
function walkers(count: number): PositionRow[] {
  let seed = 42;
  const random = (): number => ((seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648) / 2_147_483_648);
  return Array.from({ length: count }, (_, i) => ({ id: `s${i}`, p: [CENTER[0] + (random() - 0.5) * 0.5, CENTER[1] + (random() - 0.5) * 0.4] as [number, number], s: Math.floor(random() * 3), t: 0 }));
}
function step(rows: PositionRow[], tick: number): void {
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i]!;
    r.p = [r.p[0] + Math.sin(i + tick) * 0.00004, r.p[1] + Math.cos(i * 1.7 + tick) * 0.00004];
    r.t = tick;
    if ((i + tick) % 97 === 0) r.s = (r.s + 1) % 3;
  }
}

let stopStaff: (() => void) | null = null;

/** The console's layer: point primitives updated in place, once per animation frame. */
function staffPoints(count: number): void {
  const layer = new StaffLayer(scene);
  const rows = walkers(count);
  layer.update(rows);
  let tick = 0;
  const timer = setInterval(() => {
    step(rows, ++tick);
    layer.update(rows);
  }, 1000);
  stopStaff = () => {
    clearInterval(timer);
    layer.destroy();
  };
}

/** The same scene the Entity way, wired as Cesium's Viewer wires it (the display updates on every clock tick). */
async function staffEntities(count: number): Promise<void> {
  const collection = new DataSourceCollection();
  const display = new DataSourceDisplay({ scene, dataSourceCollection: collection });
  const source = new CustomDataSource('staff');
  await collection.add(source);
  const onTick = widget.clock.onTick.addEventListener((clock) => {
    display.update(clock.currentTime);
  });
  const colors = STAFF_STATUS_CODES.map((s) => new ConstantProperty(Color.fromCssColorString(STAFF_COLORS[s] ?? '#ffffff')));
  const scale = new NearFarScalar(2_000, 1.3, 60_000, 0.5);
  const rows = walkers(count);
  const entities: Entity[] = rows.map((r) =>
    source.entities.add({ id: r.id, position: new ConstantPositionProperty(Cartesian3.fromDegrees(r.p[0], r.p[1], 3)), point: { pixelSize: 7, color: colors[r.s], outlineColor: Color.BLACK.withAlpha(0.6), outlineWidth: 1, scaleByDistance: scale } }),
  );
  scene.requestRender();
  let tick = 0;
  const timer = setInterval(() => {
    step(rows, ++tick);
    source.entities.suspendEvents();
    for (let i = 0; i < rows.length; i++) {
      const r = rows[i]!;
      const e = entities[i]!;
      (e.position as ConstantPositionProperty).setValue(Cartesian3.fromDegrees(r.p[0], r.p[1], 3));
      if (e.point && e.point.color !== colors[r.s]) e.point.color = colors[r.s];
    }
    source.entities.resumeEvents();
    scene.requestRender();
  }, 1000);
  stopStaff = () => {
    clearInterval(timer);
    onTick();
    display.destroy();
    collection.destroy();
  };
}

const city: { grids: GridLayer | null; buildings: BuildingLayer | null } = { grids: null, buildings: null };

async function loadCity(grids: Grid[], buildings: BuildingsLayer): Promise<number> {
  const started = performance.now();
  city.grids = new GridLayer(scene);
  city.buildings = new BuildingLayer(scene);
  city.grids.setData(grids);
  city.buildings.setData(buildings);
  while (city.grids.loading || city.buildings.loading) {
    scene.requestRender();
    await new Promise((r) => setTimeout(r, 50));
  }
  // The choropleth the console draws most: open events per grid.
  const values = new Map(grids.map((g, i) => [g.id, (i * 7) % 13]));
  const legend = [{ from: 0, to: 3, color: '#1f6f5c' }, { from: 3, to: 8, color: '#c98a1b' }, { from: 8, to: Infinity, color: '#c0392b' }];
  city.grids.style(values, legend, null, null);
  return performance.now() - started;
}

/**
 * CPU time of `frames` forced renders while the camera turns (culling and command lists change every frame),
 * measured from the start of the scene update to the end of the render call on the main thread.
 */
async function frameTimes(frames: number, height: number): Promise<number[]> {
  const times: number[] = [];
  let started = 0;
  const pre = scene.preUpdate.addEventListener(() => (started = performance.now()));
  const post = scene.postRender.addEventListener(() => times.push(performance.now() - started));
  for (let i = 0; i < frames; i++) {
    look(height, CesiumMath.toRadians((i * 360) / frames));
    await new Promise((r) => requestAnimationFrame(() => r(null)));
  }
  await new Promise((r) => requestAnimationFrame(() => r(null)));
  pre();
  post();
  return times;
}

const tilesLoaded = (): boolean => scene.globe.tilesLoaded;

Object.assign(window, {
  mapBench: {
    staffPoints,
    staffEntities,
    stopStaff: () => {
      stopStaff?.();
      stopStaff = null;
    },
    loadCity,
    frameTimes,
    tilesLoaded,
  },
});
