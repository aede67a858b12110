/** Resources: police stations, intercoms, sensors. */
import { BillboardCollection, NearFarScalar, type Scene } from 'cesium';
import type { Resource } from '../../../../protocol';
import { setGlyph } from './icons';
import { degrees, type Layer, type Picked } from './shared';
import type { MapSource } from './source';

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

  /** Draws the model's resources, now and whenever they change. */
  bind(source: MapSource): () => void {
    const draw = (): void => this.setData(source.resources.values());
    if (source.resources.size > 0) draw();
    return source.on('resources', draw);
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
