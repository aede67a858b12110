/**
 * What every map layer shares: the layer ids and what a pick finds, the Layer contract (shown, hidden,
 * destroyed any number of times without leaking GPU objects), lon/lat to Cartesian, and the base of layers
 * drawn as one primitive replaced whole.
 */
import { Cartesian3, Primitive, type Scene } from 'cesium';
import type { LonLat } from '../../../../protocol';
import type { MapSource } from './source';

export type LayerId = 'buildings' | 'grids' | 'staff' | 'cameras' | 'events' | 'heat' | 'resources' | 'places';

/** What a pick found: the layer and the id of the thing. */
export interface Picked {
  layer: LayerId | 'cluster';
  id: string;
}

export interface Layer {
  readonly id: LayerId;
  readonly visible: boolean;
  /** Geometry still being built in a worker (the scene must keep drawing to finish it). */
  readonly loading: boolean;
  setVisible(visible: boolean): void;
  /** Draws the model's part this layer shows, now and on each change of it; answers the stop. */
  bind(source: MapSource): () => void;
  destroy(): void;
}

export const degrees = (p: LonLat, height = 0, result?: Cartesian3): Cartesian3 => Cartesian3.fromDegrees(p[0], p[1], height, undefined, result);

/** A layer drawn as one primitive, replaced whole when its data changes (buildings, heat). */
export abstract class SinglePrimitiveLayer {
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
