/**
 * Grids: batched fills (per-instance colour for the choropleth and the selection) and batched outlines; the
 * grids come from the map's data, the colours from its style.
 */
import { Color, ColorGeometryInstanceAttribute, GeometryInstance, PerInstanceColorAppearance, PolygonGeometry, PolygonHierarchy, PolylineColorAppearance, PolylineGeometry, Primitive, type Scene } from 'cesium';
import type { Grid } from '../../../../protocol';
import { classify, type LegendClass } from '../model';
import { degrees, type Layer, type Picked } from './shared';
import type { MapSource } from './source';

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

  /** Draws the model's grids (again when they change) and colours them by its style (again on each restyle). */
  bind(source: MapSource): () => void {
    const draw = (): void => {
      if (source.grids.size > 0) this.setData([...source.grids.values()]);
    };
    const restyle = (): void => {
      const s = source.gridStyle();
      this.style(s.values, s.legend, s.focus, s.selected);
    };
    draw();
    restyle();
    const stops = [source.on('grids', draw), source.on('style', restyle)];
    return () => stops.forEach((stop) => stop());
  }

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

  /** The fill a grid has now, as CSS (the map's test probe reads the choropleth through it), or null. */
  colorOf(id: string): string | null {
    return this.colors.get(id)?.toCssColorString() ?? null;
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
