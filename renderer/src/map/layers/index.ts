/** The map's layers, one per file: each draws its part of the map model (./source) as Cesium objects. */
export type { LayerId, Picked, Layer } from './shared';
export type { MapSource, MapPart, GridStyle } from './source';
export { glyphIcon } from './icons';
export { BuildingLayer } from './buildings';
export { GridLayer } from './grids';
export { StaffLayer, STAFF_COLORS } from './staff';
export { CameraLayer } from './cameras';
export { EventLayer, SEVERITY_COLORS } from './events';
export { HeatLayer } from './heat';
export { ResourceLayer } from './resources';
export { PlaceLayer, PLACE_GLYPH } from './places';
