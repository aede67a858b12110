/**
 * One Cesium viewer per window with everything off that would reach the internet (no Ion, no geocoder, no
 * base-layer picker): the bundled NaturalEarthII base, or the city's own imagery/terrain/3D Tiles when the
 * settings name them. Render on request only; WebGL context loss is caught and reported so the view can
 * rebuild the map; layers are created here, follow the map's model (bind), and are destroyed with it.
 */
import {
  Cartesian2,
  Cartesian3,
  Cartographic,
  Cesium3DTileset,
  DirectionalLight,
  CesiumTerrainProvider,
  Color,
  EllipsoidTerrainProvider,
  CesiumWidget,
  BoundingSphere,
  HeadingPitchRange,
  ColorGeometryInstanceAttribute,
  GeometryInstance,
  PolylineColorAppearance,
  PolylineGeometry,
  Primitive,
  Ion,
  Math as CesiumMath,
  Matrix4,
  Transforms,
  ScreenSpaceEventHandler,
  ScreenSpaceEventType,
} from 'cesium';
import 'cesium/Build/Cesium/Widgets/widgets.css';
import type { LonLat, MapHome, MapSources, TilesetOffset } from '../../../protocol';
import type { Box } from './model';
import { SourceError, diagnose, fetchJsonChecked, type SourceProblem } from './source-check';
import { addAnnotationLayer, baseLayerFor, superviseImagery } from './imagery';
import { TrackLayer } from './layers/tracks';
import { BuildingLayer, CameraLayer, EventLayer, GridLayer, HeatLayer, PlaceLayer, ResourceLayer, StaffLayer, type LayerId, type MapSource, type Picked } from './layers';

// Cesium's workers and assets are served beside the renderer (copied at build time): no CDN, no Ion. Cesium
// reads the base URL lazily, on first use, so setting it here (before any viewer exists) is in time.
(globalThis as { CESIUM_BASE_URL?: string }).CESIUM_BASE_URL = './cesium/';
Ion.defaultAccessToken = '';

const lightScratch = new Cartesian3();

export interface MapEvents {
  click(picked: Picked | null, at: LonLat | null): void;
  rightClick(picked: Picked | null, at: LonLat | null, screen: { x: number; y: number }): void;
  hover(picked: Picked | null, screen: { x: number; y: number }): void;
  /** Camera height in metres after a move (layers switch detail with it). */
  cameraMoved(height: number): void;
  contextLost(): void;
  /** Rendering stopped on an error that is not a lost context. */
  renderFailed(detail: string): void;
  /** A configured source failed (bad URL, server down, CORS): the map stays up on what it has. */
  sourceFailed(problem: SourceProblem): void;
  /** The configured 3D tileset is in the scene. */
  tilesetLoaded(): void;
  /** The configured terrain is in use. */
  terrainLoaded(): void;
}

/** The city's own grid boundaries (GeoJSON Polygon/MultiPolygon features) as one batched outline primitive. */
async function loadGridOutlines(url: string): Promise<Primitive> {
  const json = (await fetchJsonChecked(url)) as { features?: Array<{ geometry?: { type?: string; coordinates?: unknown } }> } | null;
  if (!json || typeof json !== 'object' || !Array.isArray(json.features)) throw new SourceError({ cause: 'not-geojson', detail: 'no "features" array (not a GeoJSON FeatureCollection)' });
  const rings: number[][][] = [];
  for (const f of json.features ?? []) {
    const g = f.geometry;
    if (g?.type === 'Polygon') rings.push(...(g.coordinates as number[][][]));
    else if (g?.type === 'MultiPolygon') for (const polygon of g.coordinates as number[][][][]) rings.push(...polygon);
  }
  if (rings.length === 0) throw new SourceError({ cause: 'not-geojson', detail: 'no Polygon or MultiPolygon features' });
  return new Primitive({
    geometryInstances: rings.map(
      (ring) =>
        new GeometryInstance({
          geometry: new PolylineGeometry({ positions: ring.map(([lon, lat]) => Cartesian3.fromDegrees(lon!, lat!, 2)), width: 2, vertexFormat: PolylineColorAppearance.VERTEX_FORMAT }),
          attributes: { color: ColorGeometryInstanceAttribute.fromColor(Color.fromCssColorString('#ffd166')) },
        }),
    ),
    appearance: new PolylineColorAppearance(),
    asynchronous: true,
    allowPicking: false,
  });
}

/**
 * The console's Cesium widget and scene look (dark, no sky, a light that follows the camera, dimmed base
 * imagery). Also what the map bench measures, so its figures are the console's.
 */
export function createCityWidget(container: HTMLElement, sources: MapSources): CesiumWidget {
  const widget = new CesiumWidget(container, {
    baseLayer: baseLayerFor(sources.imagery),
    terrainProvider: new EllipsoidTerrainProvider(),
    requestRenderMode: true,
    maximumRenderTimeChange: Infinity,
    msaaSamples: 1,
    // Render errors come to CityMap (scene.renderError): a Chinese notice and a rebuild, not Cesium's English panel.
    showRenderLoopErrors: false,
  });
  const scene = widget.scene;
  scene.globe.baseColor = Color.fromCssColorString('#0a1324');
  scene.backgroundColor = Color.fromCssColorString('#050a14');
  if (scene.skyAtmosphere) scene.skyAtmosphere.show = false;
  // A light that follows the camera (from over the viewer's right shoulder), not the sun: the simulated
  // clock runs through the night, and buildings must stay readable at any hour.
  const light = new DirectionalLight({ direction: Cartesian3.clone(widget.camera.directionWC) });
  scene.light = light;
  scene.preRender.addEventListener(() => {
    const camera = widget.camera;
    Cartesian3.add(camera.directionWC, Cartesian3.multiplyByScalar(camera.rightWC, 0.35, lightScratch), light.direction);
    Cartesian3.normalize(light.direction, light.direction);
  });
  scene.fog.enabled = false;
  scene.globe.showGroundAtmosphere = false;
  if (scene.skyBox) scene.skyBox.show = false;
  if (scene.sun) scene.sun.show = false;
  if (scene.moon) scene.moon.show = false;
  scene.globe.depthTestAgainstTerrain = false;
  addAnnotationLayer(widget, sources.imagery);
  return widget;
}

export class CityMap {
  /** CesiumWidget, not Viewer: the Viewer's knockout bindings evaluate strings, which our CSP forbids. */
  readonly viewer: CesiumWidget;
  readonly layers: {
    buildings: BuildingLayer;
    grids: GridLayer;
    staff: StaffLayer;
    cameras: CameraLayer;
    events: EventLayer;
    heat: HeatLayer;
    resources: ResourceLayer;
    places: PlaceLayer;
  };
  /** 复盘回放's staff tracks (drawn only while the console replays; not a layer of the panel). */
  readonly tracks: TrackLayer;
  private readonly handler: ScreenSpaceEventHandler;
  private readonly onContextLost: (e: Event) => void;
  private tileset: Cesium3DTileset | null = null;
  /** 建筑 as the user set it: the tileset when one is configured, else the generated boxes. */
  private buildingsWanted = true;
  /** Whether the configured imagery was replaced by the bundled one. */
  private imageryFellBack: () => boolean = () => false;
  /** The tileset's centre as it came (before any offset), and the offset applied to it. */
  private tilesetCentre: Cartesian3 | null = null;
  private tilesetOffset: TilesetOffset;
  private readonly pump: ReturnType<typeof setInterval>;
  private lastHover = 0;
  /** Set once the WebGL context is gone: nothing may draw or pick (picking draws) until the rebuild. */
  private lost = false;
  private unfollow: () => void = () => {};

  private readonly configuredImagery: boolean;

  constructor(container: HTMLElement, sources: MapSources, private readonly events: MapEvents) {
    this.viewer = createCityWidget(container, sources);
    this.configuredImagery = sources.imagery !== null;
    this.tilesetOffset = sources.tilesetOffset;
    const scene = this.viewer.scene;
    // Credits only for configured sources that ask for them; the bundled base needs none on a wall.
    container.classList.toggle('no-credits', !sources.imagery?.credit);

    // The replay's tracks first, so the staff markers are drawn over them.
    this.tracks = new TrackLayer(scene);
    this.layers = {
      heat: new HeatLayer(scene),
      grids: new GridLayer(scene),
      buildings: new BuildingLayer(scene),
      resources: new ResourceLayer(scene),
      places: new PlaceLayer(scene),
      cameras: new CameraLayer(scene),
      staff: new StaffLayer(scene),
      events: new EventLayer(scene),
    };

    const failed = (problem: SourceProblem): void => {
      if (!this.viewer.isDestroyed()) this.events.sourceFailed(problem);
    };
    if (sources.imagery) {
      const annotation = sources.imagery.type === 'tianditu' && sources.imagery.annotation ? (this.viewer.imageryLayers.get(1) ?? null) : null;
      this.imageryFellBack = superviseImagery(this.viewer, sources.imagery, annotation, failed, () => container.classList.add('no-credits'));
    }
    if (sources.terrainUrl) {
      const url = sources.terrainUrl;
      CesiumTerrainProvider.fromUrl(url).then(
        (terrain) => {
          if (this.viewer.isDestroyed()) return;
          this.viewer.terrainProvider = terrain;
          this.events.terrainLoaded();
        },
        (e: unknown) => void diagnose('terrain', url, `${url.replace(/\/+$/, '')}/layer.json`, e).then(failed),
      );
    }
    if (sources.tilesetUrl) {
      const url = sources.tilesetUrl;
      Cesium3DTileset.fromUrl(url, { maximumScreenSpaceError: 8 }).then(
        (tileset) => {
          if (this.viewer.isDestroyed()) return;
          this.tileset = scene.primitives.add(tileset) as Cesium3DTileset;
          this.tilesetCentre = Cartesian3.clone(tileset.boundingSphere.center);
          this.setTilesetOffset(this.tilesetOffset);
          this.tileset.show = this.buildingsWanted;
          this.layers.buildings.setVisible(false); // the real city replaces the synthetic boxes
          this.events.tilesetLoaded();
        },
        (e: unknown) => void diagnose('tileset', url, url, e).then(failed),
      );
    }
    if (sources.gridsGeoJsonUrl) {
      const url = sources.gridsGeoJsonUrl;
      loadGridOutlines(url).then(
        (primitive) => void scene.primitives.add(primitive),
        (e: unknown) => failed(e instanceof SourceError ? { source: 'grids', url, ...e.problem } : { source: 'grids', url, cause: 'other', detail: String(e) }),
      );
    }

    this.handler = new ScreenSpaceEventHandler(scene.canvas);
    this.handler.setInputAction((e: { position: Cartesian2 }) => this.events.click(this.pick(e.position), this.lonLatAt(e.position)), ScreenSpaceEventType.LEFT_CLICK);
    this.handler.setInputAction((e: { position: Cartesian2 }) => this.events.rightClick(this.pick(e.position), this.lonLatAt(e.position), { x: e.position.x, y: e.position.y }), ScreenSpaceEventType.RIGHT_CLICK);
    this.handler.setInputAction((e: { endPosition: Cartesian2 }) => {
      // Picking renders a frame: at most 10 hover picks a second.
      const now = performance.now();
      if (now - this.lastHover < 100) return;
      this.lastHover = now;
      this.events.hover(this.pick(e.endPosition), { x: e.endPosition.x, y: e.endPosition.y });
    }, ScreenSpaceEventType.MOUSE_MOVE);
    this.viewer.camera.moveEnd.addEventListener(() => this.cameraMoved());
    this.viewer.camera.percentageChanged = 0.05;
    this.viewer.camera.changed.addEventListener(() => this.cameraMoved());

    // In request-render mode nothing draws unless asked, and a primitive built in a worker only becomes ready
    // during a draw: keep asking (4 times a second) while any layer is still building.
    this.pump = setInterval(() => {
      if (Object.values(this.layers).some((layer) => layer.loading)) scene.requestRender();
    }, 250);

    this.onContextLost = (e: Event) => {
      e.preventDefault(); // allows the browser to restore it
      this.markLost();
    };
    // The context can be gone a frame before the browser's event says so: that frame's error is the loss too.
    scene.renderError.addEventListener((_scene: unknown, error: unknown) => {
      if (this.lost || scene.drawingBufferWidth === 0) this.markLost();
      else this.events.renderFailed(error instanceof Error ? `${error.name}: ${error.message}` : String(error));
    });
    scene.canvas.addEventListener('webglcontextlost', this.onContextLost);
  }

  /** Detail follows the height: street clusters above 14 km, camera view cones below 4 km. */
  private cameraMoved(): void {
    const height = this.viewer.camera.positionCartographic.height;
    this.layers.events.setClustered(height > 14_000);
    this.layers.cameras.setConesWanted(height < 4_000);
    this.events.cameraMoved(height);
  }

  /** Every layer draws its part of the model from now on (until the stop, or the map's destruction). */
  bind(source: MapSource): () => void {
    if (this.viewer.isDestroyed()) return () => {};
    const stops = Object.values(this.layers).map((layer) => layer.bind(source));
    this.unfollow = () => stops.forEach((stop) => stop());
    return this.unfollow;
  }

  private markLost(): void {
    if (this.lost) return;
    // A lost context has a zero-sized drawing buffer: stop drawing (and picking) before Cesium trips over it.
    this.lost = true;
    this.viewer.useDefaultRenderLoop = false;
    clearInterval(this.pump);
    this.events.contextLost();
  }

  private pick(position: Cartesian2): Picked | null {
    if (this.lost) return null;
    const hit: unknown = this.viewer.scene.pick(position);
    const id = (hit as { id?: unknown } | undefined)?.id;
    if (id && typeof id === 'object' && 'layer' in id && 'id' in id) return id as Picked;
    return null;
  }

  lonLatAt(position: Cartesian2): LonLat | null {
    const cartesian = this.viewer.camera.pickEllipsoid(position, this.viewer.scene.globe.ellipsoid);
    if (!cartesian) return null;
    const c = Cartographic.fromCartesian(cartesian);
    return [CesiumMath.toDegrees(c.longitude), CesiumMath.toDegrees(c.latitude)];
  }

  /** Canvas pixel of a place (for tests and for anchoring cards), null when behind the globe. */
  toScreen(p: LonLat, height = 0): { x: number; y: number } | null {
    const s = this.viewer.scene.cartesianToCanvasCoordinates(Cartesian3.fromDegrees(p[0], p[1], height));
    return s ? { x: s.x, y: s.y } : null;
  }

  flyToBox(box: Box, seconds = 1.2): void {
    // Look at the box's centre from the south, tilted: a box seen straight down hides the buildings' height.
    const centre = Cartesian3.fromDegrees((box.west + box.east) / 2, (box.south + box.north) / 2, 0);
    const metresEW = (box.east - box.west) * 111_320 * Math.cos((((box.south + box.north) / 2) * Math.PI) / 180);
    const metresNS = (box.north - box.south) * 111_320;
    const range = Math.max(600, Math.max(metresEW / 1.6, metresNS) * 1.25);
    this.viewer.camera.flyToBoundingSphere(new BoundingSphere(centre, 1), { offset: new HeadingPitchRange(0, CesiumMath.toRadians(-55), range), duration: seconds });
  }

  /** The configured home view: looking at (lon, lat) from the given height, tilted like flyToBox. */
  flyToHome(home: MapHome, seconds = 1.2): void {
    const pitch = CesiumMath.toRadians(-55);
    const range = home.height / Math.sin(-pitch);
    this.viewer.camera.flyToBoundingSphere(new BoundingSphere(Cartesian3.fromDegrees(home.lon, home.lat, 0), 1), { offset: new HeadingPitchRange(CesiumMath.toRadians(home.heading), pitch, range), duration: seconds });
  }

  flyTo(p: LonLat, height = 1_500, seconds = 1.2): void {
    // Stand south of the point, looking north and down at it.
    const back = height / Math.tan(CesiumMath.toRadians(55)) / 111_320;
    this.viewer.camera.flyTo({ destination: Cartesian3.fromDegrees(p[0], p[1] - back, height), orientation: { heading: 0, pitch: CesiumMath.toRadians(-55), roll: 0 }, duration: seconds });
  }

  /** Where the camera looks from: lon/lat/height (for tests, the status line and saving the view). */
  cameraState(): { lon: number; lat: number; height: number } {
    const c = this.viewer.camera.positionCartographic;
    return { lon: CesiumMath.toDegrees(c.longitude), lat: CesiumMath.toDegrees(c.latitude), height: c.height };
  }

  setLayerVisible(id: LayerId, visible: boolean): void {
    if (id === 'buildings') {
      this.buildingsWanted = visible;
      // Beside a configured tileset the generated boxes stay off: 建筑 switches the tileset.
      if (this.tileset) {
        this.tileset.show = visible;
        this.requestRender();
        return;
      }
    }
    this.layers[id].setVisible(visible);
  }

  isLayerVisible(id: LayerId): boolean {
    if (id === 'buildings' && this.tileset) return this.tileset.show;
    return this.layers[id].visible;
  }

  /** Whether a configured 3D tileset is loaded (the layer panel offers to fly to it). */
  get hasTileset(): boolean {
    return this.tileset !== null;
  }

  /** The base imagery in use: the configured source, or the bundled one (none configured, or fallen back). */
  get imagery(): 'configured' | 'bundled' {
    return this.configuredImagery && !this.imageryFellBack() ? 'configured' : 'bundled';
  }

  /** Moves the tileset by metres east, north and up from where it came (倾斜摄影 floating above or sunk into the terrain). */
  setTilesetOffset(offset: TilesetOffset): void {
    this.tilesetOffset = offset;
    if (!this.tileset || !this.tilesetCentre || this.viewer.isDestroyed()) return;
    const enu = Transforms.eastNorthUpToFixedFrame(this.tilesetCentre);
    const shift = Matrix4.multiplyByPointAsVector(enu, new Cartesian3(offset.east, offset.north, offset.height), new Cartesian3());
    this.tileset.modelMatrix = Matrix4.fromTranslation(shift);
    this.requestRender();
  }

  /** Where the tileset's centre is now (lon/lat/height), null without one: for tests and the layer panel. */
  tilesetPosition(): { lon: number; lat: number; height: number } | null {
    if (!this.tileset) return null;
    const c = Cartographic.fromCartesian(this.tileset.boundingSphere.center);
    return { lon: CesiumMath.toDegrees(c.longitude), lat: CesiumMath.toDegrees(c.latitude), height: c.height };
  }

  flyToTileset(seconds = 1.2): void {
    if (this.tileset) void this.viewer.camera.flyToBoundingSphere(this.tileset.boundingSphere, { offset: new HeadingPitchRange(0, CesiumMath.toRadians(-45), this.tileset.boundingSphere.radius * 2.2), duration: seconds });
  }

  requestRender(): void {
    this.viewer.scene.requestRender();
  }

  get loading(): boolean {
    return Object.values(this.layers).some((layer) => layer.loading);
  }

  destroy(): void {
    clearInterval(this.pump);
    this.viewer.scene.canvas.removeEventListener('webglcontextlost', this.onContextLost);
    this.handler.destroy();
    this.unfollow();
    for (const layer of Object.values(this.layers)) layer.destroy();
    this.tracks.destroy();
    if (!this.viewer.isDestroyed()) this.viewer.destroy();
  }
}
