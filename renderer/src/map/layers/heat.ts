/** Heat map: open events blurred into a texture draped over the city, drawn only while the layer is on. */
import { GeometryInstance, Material, Primitive, RectangleGeometry, Rectangle, EllipsoidSurfaceAppearance } from 'cesium';
import type { LonLat } from '../../../../protocol';
import type { Box } from '../model';
import { SinglePrimitiveLayer, type Layer } from './shared';
import type { MapSource } from './source';

export class HeatLayer extends SinglePrimitiveLayer implements Layer {
  readonly id = 'heat';
  override visible = false;
  private source: MapSource | null = null;

  /** The texture (a 512² canvas and a new primitive) is drawn from the model's events only while shown. */
  bind(source: MapSource): () => void {
    this.source = source;
    this.draw();
    const stop = source.on('style', () => this.draw());
    return () => {
      stop();
      this.source = null;
    };
  }

  private draw(): void {
    const s = this.source;
    if (!s || !this.visible || !s.cityBox) return;
    this.setData([...s.events.values()].map((e) => ({ position: e.location, weight: e.severity })), s.cityBox);
  }

  override setVisible(visible: boolean): void {
    const shown = !this.visible && visible;
    super.setVisible(visible);
    if (shown) this.draw();
  }

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
