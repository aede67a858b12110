/** Buildings: one batched primitive of unit boxes scaled per instance, from the city's buildings layer. */
import { BoxGeometry, Cartesian3, Color, ColorGeometryInstanceAttribute, GeometryInstance, Math as CesiumMath, Matrix3, Matrix4, PerInstanceColorAppearance, Primitive, Transforms } from 'cesium';
import type { BuildingsLayer } from '../../../../protocol';
import { SinglePrimitiveLayer, type Layer } from './shared';
import type { MapSource } from './source';

export class BuildingLayer extends SinglePrimitiveLayer implements Layer {
  readonly id = 'buildings';

  /** Draws the model's buildings, now and whenever they (re)load. */
  bind(source: MapSource): () => void {
    const draw = (): void => {
      if (source.buildings) this.setData(source.buildings);
    };
    draw();
    return source.on('buildings', draw);
  }

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
