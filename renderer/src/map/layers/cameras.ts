/** Cameras: icons and view cones (cones only when zoomed in). */
import { BillboardCollection, Cartesian3, Color, ColorGeometryInstanceAttribute, GeometryInstance, NearFarScalar, PerInstanceColorAppearance, PolygonGeometry, PolygonHierarchy, Primitive, type Scene } from 'cesium';
import type { Camera } from '../../../../protocol';
import { setGlyph } from './icons';
import { degrees, type Layer, type Picked } from './shared';
import type { MapSource } from './source';

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

  /** Draws the model's cameras, now and whenever they change. */
  bind(source: MapSource): () => void {
    const draw = (): void => this.setData(source.cameras.values());
    if (source.cameras.size > 0) draw();
    return source.on('cameras', draw);
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
