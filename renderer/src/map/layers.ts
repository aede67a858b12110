/**
 * Map layers as models: each layer holds its data, visibility and style, and derives its Cesium objects from
 * them (TerriaJS style). Static geometry is batched into one Primitive per layer; moving things live in
 * Point/Billboard collections updated in place. Every layer can be shown, hidden and destroyed any number of
 * times without leaking GPU objects.
 */
import {
  BillboardCollection,
  BoxGeometry,
  Cartesian2,
  Cartesian3,
  Color,
  ColorGeometryInstanceAttribute,
  GeometryInstance,
  HorizontalOrigin,
  LabelCollection,
  LabelStyle,
  Material,
  Math as CesiumMath,
  Matrix3,
  Matrix4,
  NearFarScalar,
  PerInstanceColorAppearance,
  PointPrimitiveCollection,
  PolygonGeometry,
  PolygonHierarchy,
  PolylineCollection,
  PolylineColorAppearance,
  PolylineGeometry,
  Primitive,
  RectangleGeometry,
  Rectangle,
  EllipsoidSurfaceAppearance,
  Transforms,
  VerticalOrigin,
  type PointPrimitive,
  type Billboard,
  type Polyline,
  type Scene,
} from 'cesium';
import type { BuildingsLayer, Camera, GovEvent, Grid, LonLat, PositionRow, Resource } from '../../../protocol';
import { STAFF_STATUS_CODES } from '../../../protocol';
import { classify, type Box, type Cluster, type LegendClass } from './model';

export type LayerId = 'buildings' | 'grids' | 'staff' | 'cameras' | 'events' | 'heat' | 'resources';

/** What a pick found: the layer and the id of the thing. */
export interface Picked {
  layer: LayerId | 'cluster';
  id: string;
}

interface Layer {
  readonly id: LayerId;
  readonly visible: boolean;
  /** Geometry still being built in a worker (the scene must keep drawing to finish it). */
  readonly loading: boolean;
  setVisible(visible: boolean): void;
  destroy(): void;
}

const degrees = (p: LonLat, height = 0, result?: Cartesian3): Cartesian3 => Cartesian3.fromDegrees(p[0], p[1], height, undefined, result);

/** A layer drawn as one primitive, replaced whole when its data changes (buildings, heat). */
abstract class SinglePrimitiveLayer {
  visible = true;
  protected primitive: Primitive | null = null;
  constructor(protected readonly scene: Scene) {}

  /** Puts the new primitive in place of the old one (destroyed), showing it as the layer is shown. */
  protected replace(primitive: Primitive): void {
    this.destroy();
    this.primitive = this.scene.primitives.add(primitive) as Primitive;
    this.setVisible(this.visible);
  }

  get loading(): boolean {
    return this.primitive !== null && !this.primitive.ready;
  }

  setVisible(visible: boolean): void {
    this.visible = visible;
    if (this.primitive) this.primitive.show = visible;
    this.scene.requestRender();
  }

  destroy(): void {
    if (this.primitive) this.scene.primitives.remove(this.primitive); // remove() destroys it
    this.primitive = null;
  }
}

// ── buildings: one batched primitive of unit boxes scaled per instance ─────────────────────────────────

export class BuildingLayer extends SinglePrimitiveLayer implements Layer {
  readonly id = 'buildings';

  setData(b: BuildingsLayer): void {
    // Normals for shading: lit tops and darker sides read as a city; flat colour reads as a floor plan.
    const unit = BoxGeometry.fromDimensions({ dimensions: new Cartesian3(1, 1, 1), vertexFormat: PerInstanceColorAppearance.VERTEX_FORMAT });
    const instances: GeometryInstance[] = new Array(b.count);
    const rotation = new Matrix3();
    const scratch = new Matrix4();
    for (let i = 0; i < b.count; i++) {
      const enu = Transforms.eastNorthUpToFixedFrame(Cartesian3.fromDegrees(b.lon[i]!, b.lat[i]!, 0));
      Matrix3.fromRotationZ(CesiumMath.toRadians(b.rotation[i]!), rotation);
      const local = Matrix4.fromRotationTranslation(rotation, new Cartesian3(0, 0, b.height[i]! / 2), scratch);
      Matrix4.multiplyByScale(local, new Cartesian3(b.width[i]!, b.depth[i]!, b.height[i]!), local);
      // Taller is lighter: reads as a skyline on the dark wall.
      const shade = 0.3 + Math.min(1, b.height[i]! / 120) * 0.45;
      instances[i] = new GeometryInstance({
        geometry: unit,
        modelMatrix: Matrix4.multiply(enu, local, new Matrix4()),
        attributes: { color: ColorGeometryInstanceAttribute.fromColor(new Color(shade * 0.75, shade * 0.9, shade * 1.2, 1)) },
      });
    }
    this.replace(new Primitive({ geometryInstances: instances, appearance: new PerInstanceColorAppearance({ flat: false, translucent: false }), asynchronous: true, releaseGeometryInstances: true, allowPicking: false }));
  }
}

// ── grids: batched fills (per-instance colour for choropleth/selection) and batched outlines ───────────

export class GridLayer implements Layer {
  readonly id = 'grids';
  private fill: Primitive | null = null;
  private outline: Primitive | null = null;
  private grids: Grid[] = [];
  /** Cesium finds per-instance attributes by the id object's identity: keep the objects given to it. */
  private readonly pickIds = new Map<string, Picked>();
  private colors = new Map<string, Color>();
  visible = true;
  constructor(private readonly scene: Scene) {}

  setData(grids: Grid[]): void {
    this.destroy();
    this.grids = grids;
    this.pickIds.clear();
    const fills = grids.map(
      (g) =>
        new GeometryInstance({
          id: this.pickIdOf(g.id),
          geometry: new PolygonGeometry({ polygonHierarchy: new PolygonHierarchy(g.polygon.map((p) => degrees(p))), height: 0, vertexFormat: PerInstanceColorAppearance.FLAT_VERTEX_FORMAT }),
          attributes: { color: ColorGeometryInstanceAttribute.fromColor(BASE_FILL) },
        }),
    );
    const lines = grids.map(
      (g) =>
        new GeometryInstance({
          geometry: new PolylineGeometry({ positions: [...g.polygon, g.polygon[0]!].map((p) => degrees(p, 1.5)), width: 1.2, vertexFormat: PolylineColorAppearance.VERTEX_FORMAT }),
          attributes: { color: ColorGeometryInstanceAttribute.fromColor(Color.fromCssColorString('#3fb4ff').withAlpha(0.55)) },
        }),
    );
    this.fill = this.scene.primitives.add(new Primitive({ geometryInstances: fills, appearance: new PerInstanceColorAppearance({ flat: true, translucent: true }), asynchronous: true })) as Primitive;
    this.outline = this.scene.primitives.add(new Primitive({ geometryInstances: lines, appearance: new PolylineColorAppearance({ translucent: true }), asynchronous: true, allowPicking: false })) as Primitive;
    this.setVisible(this.visible);
    // Colours set before the primitive is ready are applied once it is (it builds in a worker).
    const stop = this.scene.postRender.addEventListener(() => {
      if (!this.fill || this.fill.ready) {
        stop();
        this.applyColors();
      }
    });
  }

  private pickIdOf(id: string): Picked {
    let pick = this.pickIds.get(id);
    if (!pick) this.pickIds.set(id, (pick = { layer: 'grids', id }));
    return pick;
  }

  get ready(): boolean {
    return this.fill?.ready ?? false;
  }

  /**
   * Choropleth + focus: each grid's colour from its metric class; grids outside the drilled-down unit fade,
   * the selected grid is outlined bright. Applied in place to per-instance attributes (no rebuild).
   */
  style(values: ReadonlyMap<string, number> | null, legend: readonly LegendClass[], focus: ReadonlySet<string> | null, selected: string | null): void {
    this.colors = new Map();
    for (const g of this.grids) {
      const cls = values && legend.length > 0 ? classify(values.get(g.id) ?? 0, legend) : null;
      let color = cls ? Color.fromCssColorString(cls.color).withAlpha(0.5) : BASE_FILL;
      if (focus && !focus.has(g.id)) color = color.withAlpha(color.alpha * 0.25);
      if (g.id === selected) color = SELECTED_FILL;
      this.colors.set(g.id, color);
    }
    this.applyColors();
  }

  private applyColors(): void {
    const fill = this.fill;
    if (!fill || !fill.ready) return;
    for (const [id, color] of this.colors) {
      const attributes = fill.getGeometryInstanceAttributes(this.pickIdOf(id));
      if (attributes) attributes.color = ColorGeometryInstanceAttribute.toValue(color, attributes.color as Uint8Array);
    }
    this.scene.requestRender();
  }

  get loading(): boolean {
    return this.fill !== null && !(this.fill.ready && (this.outline?.ready ?? true));
  }

  setVisible(visible: boolean): void {
    this.visible = visible;
    if (this.fill) this.fill.show = visible;
    if (this.outline) this.outline.show = visible;
  }

  destroy(): void {
    for (const p of [this.fill, this.outline]) if (p) this.scene.primitives.remove(p);
    this.fill = null;
    this.outline = null;
  }
}
const BASE_FILL = Color.fromCssColorString('#1e4f86').withAlpha(0.18);
const SELECTED_FILL = Color.fromCssColorString('#3fb4ff').withAlpha(0.55);

// ── staff: 10,000 points updated in place, a trail for the selected one ────────────────────────────────

export const STAFF_COLORS: Record<string, string> = { patrolling: '#2fd37a', handling: '#ffb020', idle: '#3fb4ff', offline: '#5d6f8a' };

export class StaffLayer implements Layer {
  readonly id = 'staff';
  private readonly points: PointPrimitiveCollection;
  private readonly trails: PolylineCollection;
  private readonly byId = new Map<string, PointPrimitive>();
  private readonly colors = STAFF_STATUS_CODES.map((s) => Color.fromCssColorString(STAFF_COLORS[s] ?? '#ffffff'));
  private trail: { id: string; positions: Cartesian3[]; line: Polyline } | null = null;
  /** Rows waiting for the next frame: the hub sends patches every 100 ms, the scene draws when asked. */
  private pending = new Map<string, PositionRow>();
  private frame = 0;
  visible = true;

  constructor(private readonly scene: Scene) {
    this.points = scene.primitives.add(new PointPrimitiveCollection()) as PointPrimitiveCollection;
    this.trails = scene.primitives.add(new PolylineCollection()) as PolylineCollection;
  }

  /** Queue rows; they are applied together on the next animation frame. */
  update(rows: Iterable<PositionRow>, removes: Iterable<string> = []): void {
    for (const row of rows) this.pending.set(row.id, row);
    for (const id of removes) {
      const point = this.byId.get(id);
      if (point) this.points.remove(point);
      this.byId.delete(id);
    }
    if (this.frame === 0) this.frame = requestAnimationFrame(() => this.flush());
  }

  /** Applies the queued rows now (the benchmark measures exactly this). */
  flush(): void {
    this.frame = 0;
    for (const row of this.pending.values()) {
      const point = this.byId.get(row.id);
      if (point) {
        point.position = degrees(row.p, 3, scratch);
        point.color = this.colors[row.s]!;
      } else {
        this.byId.set(
          row.id,
          this.points.add({ id: { layer: 'staff', id: row.id } satisfies Picked, position: degrees(row.p, 3), color: this.colors[row.s], pixelSize: 7, outlineColor: Color.BLACK.withAlpha(0.6), outlineWidth: 1, scaleByDistance: STAFF_SCALE }),
        );
      }
      if (this.trail?.id === row.id) {
        this.trail.positions.push(degrees(row.p, 4));
        if (this.trail.positions.length > 120) this.trail.positions.shift();
        if (this.trail.positions.length >= 2) this.trail.line.positions = this.trail.positions;
      }
    }
    this.pending.clear();
    this.scene.requestRender();
  }

  positionOf(id: string): Cartesian3 | null {
    return this.byId.get(id)?.position ?? null;
  }

  /** A trail follows the selected staff member from now on (null: none). */
  follow(id: string | null): void {
    if (this.trail) this.trails.remove(this.trail.line);
    this.trail = null;
    const start = id ? this.byId.get(id)?.position : undefined;
    if (!id || !start) return;
    const positions = [Cartesian3.clone(start)];
    const line = this.trails.add({ positions: [start, start], width: 3, material: Material.fromType('Color', { color: Color.fromCssColorString('#ffe066') }) });
    this.trail = { id, positions, line };
    this.scene.requestRender();
  }

  get count(): number {
    return this.byId.size;
  }

  get loading(): boolean {
    return false;
  }

  setVisible(visible: boolean): void {
    this.visible = visible;
    this.points.show = visible;
    this.trails.show = visible;
    this.scene.requestRender();
  }

  destroy(): void {
    if (this.frame) cancelAnimationFrame(this.frame);
    this.scene.primitives.remove(this.points);
    this.scene.primitives.remove(this.trails);
    this.byId.clear();
  }
}
const scratch = new Cartesian3();
const STAFF_SCALE = new NearFarScalar(2_000, 1.3, 60_000, 0.5);

// ── icons drawn on canvases (no image files to fetch, crisp at any scale) ──────────────────────────────

const iconCache = new Map<string, HTMLCanvasElement>();
const iconKey = (glyph: string, fill: string, size: number, ring: string): string => `glyph:${glyph}|${fill}|${size}|${ring}`;

/**
 * Gives a billboard its icon under a stable id. A canvas handed over as `image` gets a fresh id on every
 * add, so the collection's texture atlas kept a copy per add and grew without end on a busy map.
 */
function setGlyph(billboard: Billboard, glyph: string, fill: string, size: number, ring = '#0a1324'): Billboard {
  const key = iconKey(glyph, fill, size, ring);
  if ((billboard as Billboard & { glyphKey?: string }).glyphKey !== key) {
    billboard.setImage(key, glyphIcon(glyph, fill, size, ring));
    (billboard as Billboard & { glyphKey?: string }).glyphKey = key;
  }
  return billboard;
}

export function glyphIcon(glyph: string, fill: string, size = 30, ring = '#0a1324'): HTMLCanvasElement {
  const key = iconKey(glyph, fill, size, ring);
  const hit = iconCache.get(key);
  if (hit) return hit;
  const c = document.createElement('canvas');
  c.width = c.height = size * 2; // drawn at 2x: sharp on 4K walls
  const g = c.getContext('2d')!;
  g.scale(2, 2);
  g.beginPath();
  g.arc(size / 2, size / 2, size / 2 - 1.5, 0, Math.PI * 2);
  g.fillStyle = fill;
  g.fill();
  g.lineWidth = 2;
  g.strokeStyle = ring;
  g.stroke();
  g.fillStyle = '#0a1324';
  g.font = `bold ${Math.round(size * 0.5)}px "Noto Sans CJK SC", "Microsoft YaHei", sans-serif`;
  g.textAlign = 'center';
  g.textBaseline = 'middle';
  g.fillText(glyph, size / 2, size / 2 + 1);
  iconCache.set(key, c);
  return c;
}

// ── cameras: icons and view cones (cones only when zoomed in) ──────────────────────────────────────────

const CAMERA_SCALE = new NearFarScalar(1_000, 1.2, 40_000, 0.35);
const CAMERA_FADE = new NearFarScalar(20_000, 1, 80_000, 0);

export class CameraLayer implements Layer {
  readonly id = 'cameras';
  private readonly icons: BillboardCollection;
  private cones: Primitive | null = null;
  visible = true;
  private conesWanted = false;
  constructor(private readonly scene: Scene) {
    this.icons = scene.primitives.add(new BillboardCollection({ scene })) as BillboardCollection;
  }

  setData(cameras: Iterable<Camera>): void {
    this.icons.removeAll();
    if (this.cones) this.scene.primitives.remove(this.cones);
    const cones: GeometryInstance[] = [];
    for (const c of cameras) {
      const icon = this.icons.add({
        id: { layer: 'cameras', id: c.id } satisfies Picked,
        position: degrees(c.position, 6),
        width: 20,
        height: 20,
        scaleByDistance: CAMERA_SCALE,
        translucencyByDistance: CAMERA_FADE,
      });
      setGlyph(icon, '摄', c.online ? '#7fd1ff' : '#5d6f8a', 22);
      cones.push(new GeometryInstance({ geometry: coneGeometry(c), attributes: { color: ColorGeometryInstanceAttribute.fromColor(Color.fromCssColorString(c.online ? '#7fd1ff' : '#5d6f8a').withAlpha(0.22)) } }));
    }
    this.cones = this.scene.primitives.add(new Primitive({ geometryInstances: cones, appearance: new PerInstanceColorAppearance({ flat: true, translucent: true }), asynchronous: true, allowPicking: false })) as Primitive;
    this.apply();
  }

  /** View cones are noise at city scale: shown below a camera height. */
  setConesWanted(wanted: boolean): void {
    if (wanted === this.conesWanted) return;
    this.conesWanted = wanted;
    this.apply();
  }

  private apply(): void {
    this.icons.show = this.visible;
    if (this.cones) this.cones.show = this.visible && this.conesWanted;
    this.scene.requestRender();
  }

  get loading(): boolean {
    return this.cones !== null && !this.cones.ready;
  }

  setVisible(visible: boolean): void {
    this.visible = visible;
    this.apply();
  }

  destroy(): void {
    this.scene.primitives.remove(this.icons);
    if (this.cones) this.scene.primitives.remove(this.cones);
    this.cones = null;
  }
}

/** A camera's field of view as a fan polygon, 60 m deep. */
function coneGeometry(c: Camera): PolygonGeometry {
  const [lon, lat] = c.position;
  const metresPerDegLat = 111_320;
  const metresPerDegLon = 111_320 * Math.cos((lat * Math.PI) / 180);
  const ring: Cartesian3[] = [degrees(c.position, 1)];
  const depth = 60;
  const steps = 6;
  for (let i = 0; i <= steps; i++) {
    const bearing = ((c.heading - c.fov / 2 + (c.fov * i) / steps) * Math.PI) / 180;
    ring.push(Cartesian3.fromDegrees(lon + (Math.sin(bearing) * depth) / metresPerDegLon, lat + (Math.cos(bearing) * depth) / metresPerDegLat, 1));
  }
  return new PolygonGeometry({ polygonHierarchy: new PolygonHierarchy(ring), height: 1, vertexFormat: PerInstanceColorAppearance.FLAT_VERTEX_FORMAT });
}

// ── events: icons by category and severity, clusters when zoomed out, a pulse for new severe ones ──────

export const SEVERITY_COLORS = ['#3fb4ff', '#3fb4ff', '#7fd1ff', '#ffb020', '#ff4d4f'];
const EVENT_SCALE = new NearFarScalar(1_000, 1.3, 50_000, 0.6);

export class EventLayer implements Layer {
  readonly id = 'events';
  private readonly icons: BillboardCollection;
  private readonly clusters: BillboardCollection;
  private readonly counts: LabelCollection;
  private readonly pulses: PointPrimitiveCollection;
  private readonly pulseStarted = new Map<string, { point: PointPrimitive; at: number }>();
  private readonly byId = new Map<string, Billboard>();
  private clusterData: readonly Cluster[] = [];
  private clusterSignature = '';
  visible = true;
  private clustered = false;
  private pulseTimer: ReturnType<typeof setInterval> | null = null;
  private readonly known = new Set<string>();
  private first = true;

  constructor(private readonly scene: Scene) {
    this.icons = scene.primitives.add(new BillboardCollection({ scene })) as BillboardCollection;
    this.clusters = scene.primitives.add(new BillboardCollection({ scene })) as BillboardCollection;
    this.counts = scene.primitives.add(new LabelCollection({ scene })) as LabelCollection;
    this.pulses = scene.primitives.add(new PointPrimitiveCollection()) as PointPrimitiveCollection;
  }

  setData(events: Iterable<GovEvent>, glyphOf: (category: string) => string, clusters: readonly Cluster[]): void {
    // Updated in place (called about once a second on a busy city): only new events add, only gone ones remove.
    const now = performance.now();
    const seen = new Set<string>();
    for (const e of events) {
      seen.add(e.id);
      let icon = this.byId.get(e.id);
      if (icon) icon.position = degrees(e.location, 12, scratch);
      else {
        icon = this.icons.add({
          id: { layer: 'events', id: e.id } satisfies Picked,
          position: degrees(e.location, 12),
          width: 26,
          height: 26,
          verticalOrigin: VerticalOrigin.BOTTOM,
          scaleByDistance: EVENT_SCALE,
          disableDepthTestDistance: Number.POSITIVE_INFINITY,
        });
        this.byId.set(e.id, icon);
      }
      setGlyph(icon, glyphOf(e.category), SEVERITY_COLORS[e.severity] ?? '#3fb4ff', 30);
      // A new high-severity event pulses for a minute (not the ones already there when the map opened).
      if (!this.first && !this.known.has(e.id) && e.severity >= 3) {
        this.pulseStarted.set(e.id, { point: this.pulses.add({ position: degrees(e.location, 12), color: Color.fromCssColorString('#ff4d4f').withAlpha(0.5), pixelSize: 10, disableDepthTestDistance: Number.POSITIVE_INFINITY }), at: now });
      }
    }
    for (const [id, icon] of this.byId) {
      if (seen.has(id)) continue;
      this.icons.remove(icon);
      this.byId.delete(id);
    }
    this.known.clear();
    for (const id of seen) this.known.add(id);
    this.first = false;
    this.clusterData = clusters;
    if (this.clustered) this.drawClusters();
    this.apply();
    this.startPulsing();
  }

  /**
   * Street clusters, drawn only while shown and only when they changed: a hidden LabelCollection never runs
   * its glyph requests, so labels rebuilt behind it every second piled up unfinished.
   */
  private drawClusters(): void {
    const signature = this.clusterData.map((c) => `${c.key}:${c.count}:${c.maxSeverity}`).join('|');
    if (signature === this.clusterSignature) return;
    this.clusterSignature = signature;
    this.clusters.removeAll();
    this.counts.removeAll();
    for (const c of this.clusterData) {
      const size = 28 + Math.min(30, Math.sqrt(c.count) * 5);
      setGlyph(this.clusters.add({ id: { layer: 'cluster', id: c.key } satisfies Picked, position: degrees(c.position, 20), width: size, height: size, disableDepthTestDistance: Number.POSITIVE_INFINITY }), '', SEVERITY_COLORS[c.maxSeverity] ?? '#3fb4ff', 40);
      this.counts.add({ position: degrees(c.position, 20), text: String(c.count), font: 'bold 15px "Noto Sans CJK SC", sans-serif', fillColor: Color.fromCssColorString('#0a1324'), style: LabelStyle.FILL, horizontalOrigin: HorizontalOrigin.CENTER, verticalOrigin: VerticalOrigin.CENTER, pixelOffset: new Cartesian2(0, 1), disableDepthTestDistance: Number.POSITIVE_INFINITY });
    }
  }

  private startPulsing(): void {
    if (this.pulseTimer || this.pulseStarted.size === 0) return;
    // requestRenderMode draws only when asked: a pulse asks ~12 times a second while it lasts.
    this.pulseTimer = setInterval(() => {
      const now = performance.now();
      for (const [id, p] of this.pulseStarted) {
        const age = (now - p.at) / 1000;
        if (age > 60) {
          this.pulses.remove(p.point);
          this.pulseStarted.delete(id);
          continue;
        }
        const phase = (age % 1.2) / 1.2;
        p.point.pixelSize = 10 + phase * 36;
        p.point.color = Color.fromCssColorString('#ff4d4f').withAlpha(0.55 * (1 - phase));
      }
      this.scene.requestRender();
      if (this.pulseStarted.size === 0 && this.pulseTimer) {
        clearInterval(this.pulseTimer);
        this.pulseTimer = null;
      }
    }, 80);
  }

  get pulsing(): number {
    return this.pulseStarted.size;
  }

  setClustered(clustered: boolean): void {
    if (clustered === this.clustered) return;
    this.clustered = clustered;
    if (clustered) this.drawClusters();
    this.apply();
  }

  private apply(): void {
    this.icons.show = this.visible && !this.clustered;
    this.clusters.show = this.counts.show = this.visible && this.clustered;
    this.pulses.show = this.visible;
    this.scene.requestRender();
  }

  get loading(): boolean {
    return false;
  }

  setVisible(visible: boolean): void {
    this.visible = visible;
    this.apply();
  }

  destroy(): void {
    if (this.pulseTimer) clearInterval(this.pulseTimer);
    this.byId.clear();
    for (const c of [this.icons, this.clusters, this.counts, this.pulses]) this.scene.primitives.remove(c);
  }
}

// ── heat map: open events blurred into a texture draped over the city ──────────────────────────────────

export class HeatLayer extends SinglePrimitiveLayer implements Layer {
  readonly id = 'heat';
  override visible = false;

  setData(points: Iterable<{ position: LonLat; weight: number }>, box: Box): void {
    const size = 512;
    const canvas = document.createElement('canvas');
    canvas.width = canvas.height = size;
    const g = canvas.getContext('2d')!;
    const radius = 18;
    const sx = size / (box.east - box.west);
    const sy = size / (box.north - box.south);
    // Density in the alpha channel, then coloured through a ramp.
    for (const p of points) {
      const x = (p.position[0] - box.west) * sx;
      const y = (box.north - p.position[1]) * sy;
      const grad = g.createRadialGradient(x, y, 0, x, y, radius);
      grad.addColorStop(0, `rgba(0,0,0,${Math.min(1, 0.18 * p.weight)})`);
      grad.addColorStop(1, 'rgba(0,0,0,0)');
      g.fillStyle = grad;
      g.fillRect(x - radius, y - radius, radius * 2, radius * 2);
    }
    const image = g.getImageData(0, 0, size, size);
    const d = image.data;
    for (let i = 0; i < d.length; i += 4) {
      const a = d[i + 3]! / 255;
      if (a === 0) continue;
      const [r, gg, b] = ramp(a);
      d[i] = r;
      d[i + 1] = gg;
      d[i + 2] = b;
      d[i + 3] = Math.min(220, 60 + a * 255);
    }
    g.putImageData(image, 0, 0);
    this.replace(
      new Primitive({
        geometryInstances: new GeometryInstance({ geometry: new RectangleGeometry({ rectangle: Rectangle.fromDegrees(box.west, box.south, box.east, box.north), height: 2, vertexFormat: EllipsoidSurfaceAppearance.VERTEX_FORMAT }) }),
        appearance: new EllipsoidSurfaceAppearance({ material: Material.fromType('Image', { image: canvas.toDataURL() }), aboveGround: true }),
        asynchronous: true,
        allowPicking: false,
      }),
    );
  }
}

function ramp(a: number): [number, number, number] {
  if (a < 0.33) return [40, 120 + a * 300, 255];
  if (a < 0.66) return [255, 210, 40];
  return [255, 70, 60];
}

// ── resources: police stations, intercoms, sensors ─────────────────────────────────────────────────────

const RESOURCE_GLYPH: Record<string, [string, string]> = { 'police-station': ['警', '#4f8dff'], intercom: ['话', '#b78cff'], sensor: ['感', '#35d0c0'] };

const RESOURCE_SCALE = new NearFarScalar(1_000, 1.2, 40_000, 0.4);
const RESOURCE_FADE = new NearFarScalar(25_000, 1, 90_000, 0);

export class ResourceLayer implements Layer {
  readonly id = 'resources';
  visible = true;
  private readonly icons: BillboardCollection;
  constructor(private readonly scene: Scene) {
    this.icons = scene.primitives.add(new BillboardCollection({ scene })) as BillboardCollection;
  }

  setData(resources: Iterable<Resource>): void {
    this.icons.removeAll();
    for (const r of resources) {
      const [glyph, color] = RESOURCE_GLYPH[r.kind] ?? ['?', '#ffffff'];
      const icon = this.icons.add({
        id: { layer: 'resources', id: r.id } satisfies Picked,
        position: degrees(r.position, 5),
        width: r.kind === 'police-station' ? 24 : 18,
        height: r.kind === 'police-station' ? 24 : 18,
        scaleByDistance: RESOURCE_SCALE,
        translucencyByDistance: RESOURCE_FADE,
      });
      setGlyph(icon, glyph, r.online ? color : '#5d6f8a', 24);
    }
    this.scene.requestRender();
  }

  get loading(): boolean {
    return false;
  }

  setVisible(visible: boolean): void {
    this.visible = visible;
    this.icons.show = visible;
    this.scene.requestRender();
  }

  destroy(): void {
    this.scene.primitives.remove(this.icons);
  }
}
