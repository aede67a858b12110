/**
 * Staff: 10,000 live points updated in place from the positions feed, a trail for the selected one. 下沉干部 (role
 * cadre, on duty only while a level calls them) are larger, ringed in gold, so the reinforcement reads at a glance.
 */
import { Cartesian3, Color, Material, NearFarScalar, PointPrimitiveCollection, PolylineCollection, type PointPrimitive, type Polyline, type Scene } from 'cesium';
import { STAFF_STATUS_CODES, type PositionRow } from '../../../../protocol';
import { degrees, type Layer, type Picked } from './shared';
import type { MapSource } from './source';

export const STAFF_COLORS: Record<string, string> = { patrolling: '#2fd37a', handling: '#ffb020', idle: '#3fb4ff', offline: '#5d6f8a' };
/** The ring that marks a 下沉干部. */
export const CADRE_RING = '#ffd24a';
const CADRE = { pixelSize: 12, outlineColor: Color.fromCssColorString(CADRE_RING), outlineWidth: 3 };
const GRID_STAFF = { pixelSize: 7, outlineColor: Color.BLACK.withAlpha(0.6), outlineWidth: 1 };

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
  private source: MapSource | null = null;
  visible = true;

  constructor(private readonly scene: Scene) {
    this.points = scene.primitives.add(new PointPrimitiveCollection()) as PointPrimitiveCollection;
    this.trails = scene.primitives.add(new PolylineCollection()) as PolylineCollection;
  }

  /** Shows the model's live positions: those there now, then each patch of the feed. */
  bind(source: MapSource): () => void {
    this.source = source;
    if (source.positions.size > 0) this.update(source.positions.values());
    const stopPositions = source.onPositions((change) => this.update(change.upserts, change.removes));
    const stopStaff = source.on('staff', () => this.restyleRoles());
    return () => {
      stopPositions();
      stopStaff();
      this.source = null;
    };
  }

  /** How many 下沉干部 are drawn now (on duty). */
  get cadreCount(): number {
    let n = 0;
    for (const id of this.byId.keys()) if (this.isCadre(id)) n++;
    return n;
  }

  private isCadre(id: string): boolean {
    return this.source?.staff.get(id)?.role === 'cadre';
  }

  /** The staff records changed (a role): every point takes its role's style. */
  private restyleRoles(): void {
    for (const [id, point] of this.byId) Object.assign(point, this.isCadre(id) ? CADRE : GRID_STAFF);
    this.scene.requestRender();
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
          this.points.add({ id: { layer: 'staff', id: row.id } satisfies Picked, position: degrees(row.p, 3), color: this.colors[row.s], ...(this.isCadre(row.id) ? CADRE : GRID_STAFF), scaleByDistance: STAFF_SCALE }),
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
