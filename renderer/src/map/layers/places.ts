/** 场所与组织: the city's registered places (schools, hospitals, markets, hazardous-goods sites, enterprises…). */
import { BillboardCollection, NearFarScalar, type Scene } from 'cesium';
import type { Place, PlaceKind } from '../../../../protocol';
import { setGlyph } from './icons';
import { degrees, type Layer, type Picked } from './shared';
import type { MapSource } from './source';

/** One character and colour per kind, readable at wall distance; hazardous and key places stand out. */
export const PLACE_GLYPH: Record<PlaceKind, [string, string]> = {
  school: ['学', '#6fcf7f'],
  hospital: ['医', '#ff8a8a'],
  market: ['市', '#ffc25c'],
  hazardous: ['危', '#ff5a3c'],
  'key-place': ['重', '#ff9f43'],
  crowded: ['密', '#f7d154'],
  enterprise: ['企', '#58b7ff'],
  organisation: ['社', '#c59bff'],
  government: ['政', '#e8e8f0'],
  other: ['场', '#9fb3c8'],
};

const PLACE_SCALE = new NearFarScalar(1_000, 1.25, 40_000, 0.45);
const PLACE_FADE = new NearFarScalar(30_000, 1, 100_000, 0);
/** Drawn over the buildings (a school in a courtyard stays visible and clickable) while the camera is within this. */
const OVER_BUILDINGS_M = 50_000;

export class PlaceLayer implements Layer {
  readonly id = 'places';
  visible = true;
  private readonly icons: BillboardCollection;
  constructor(private readonly scene: Scene) {
    this.icons = scene.primitives.add(new BillboardCollection({ scene })) as BillboardCollection;
  }

  /** Draws the model's places, now and whenever they change. */
  bind(source: MapSource): () => void {
    const draw = (): void => this.setData(source.places.values());
    if (source.places.size > 0) draw();
    return source.on('places', draw);
  }

  setData(places: Iterable<Place>): void {
    this.icons.removeAll();
    for (const p of places) {
      const [glyph, color] = PLACE_GLYPH[p.kind];
      const big = p.kind === 'hazardous' || p.kind === 'key-place';
      const icon = this.icons.add({
        id: { layer: 'places', id: p.id } satisfies Picked,
        position: degrees(p.position, 7),
        width: big ? 28 : 24,
        height: big ? 28 : 24,
        scaleByDistance: PLACE_SCALE,
        translucencyByDistance: PLACE_FADE,
        disableDepthTestDistance: OVER_BUILDINGS_M,
      });
      setGlyph(icon, glyph, color, 28);
    }
    this.scene.requestRender();
  }

  get count(): number {
    return this.icons.length;
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
