/** Open events: icons by category and severity, street clusters when zoomed out, a pulse for new severe ones. */
import { BillboardCollection, Cartesian2, Cartesian3, Color, HorizontalOrigin, LabelCollection, LabelStyle, NearFarScalar, PointPrimitiveCollection, VerticalOrigin, type PointPrimitive, type Billboard, type Scene } from 'cesium';
import type { GovEvent } from '../../../../protocol';
import type { Cluster } from '../model';
import { setGlyph } from './icons';
import { degrees, type Layer, type Picked } from './shared';
import type { MapSource } from './source';

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

  /** The ids of the events drawn now (tests read the map through its probe). */
  get ids(): string[] {
    return [...this.byId.keys()];
  }

  constructor(private readonly scene: Scene) {
    this.icons = scene.primitives.add(new BillboardCollection({ scene })) as BillboardCollection;
    this.clusters = scene.primitives.add(new BillboardCollection({ scene })) as BillboardCollection;
    this.counts = scene.primitives.add(new LabelCollection({ scene })) as LabelCollection;
    this.pulses = scene.primitives.add(new PointPrimitiveCollection()) as PointPrimitiveCollection;
  }

  /**
   * Draws the model's open events on each restyle (about once a second on a busy city). The events there
   * when the layer starts following are the picture at opening: they do not pulse.
   */
  bind(source: MapSource): () => void {
    const draw = (): void => this.setData(source.events.values(), (category) => source.glyphOf(category), source.clusters());
    draw();
    return source.on('style', draw);
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
const scratch = new Cartesian3();
