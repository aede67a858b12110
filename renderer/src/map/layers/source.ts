/**
 * What the layers draw from: the map's model (TerriaJS style, a layer is data + style → map items). A layer
 * binds to a source (bind) — it draws what is there when it starts, then redraws on the parts it reads —
 * so nobody pushes arrays into layers by hand, and a map rebuilt after a lost context draws the same city.
 */
import type { BuildingsLayer, Camera, GovEvent, Grid, Place, PositionRow, Resource, RowsChange, Staff } from '../../../../protocol';
import type { Box, Cluster, LegendClass } from '../model';

/** The parts of the model a layer can follow. 'style' is the throttled restyle: events, choropleth, focus. */
export type MapPart = 'grids' | 'staff' | 'cameras' | 'resources' | 'places' | 'buildings' | 'style';

/** The grids' colours: the metric per grid and its classes, the drilled-down grids, the selected grid. */
export interface GridStyle {
  values: ReadonlyMap<string, number> | null;
  legend: readonly LegendClass[];
  focus: ReadonlySet<string> | null;
  selected: string | null;
}

export interface MapSource {
  readonly grids: ReadonlyMap<string, Grid>;
  readonly cameras: ReadonlyMap<string, Camera>;
  readonly resources: ReadonlyMap<string, Resource>;
  /** 场所与组织 (the places register). */
  readonly places: ReadonlyMap<string, Place>;
  readonly events: ReadonlyMap<string, GovEvent>;
  readonly positions: ReadonlyMap<string, PositionRow>;
  /** The staff records (their role: 下沉干部 are drawn apart from grid staff). */
  readonly staff: ReadonlyMap<string, Staff>;
  readonly buildings: BuildingsLayer | null;
  /** The city's extent, from the grids. */
  readonly cityBox: Box | null;
  gridStyle(): GridStyle;
  /** The one-character icon of an event category. */
  glyphOf(category: string): string;
  clusters(): readonly Cluster[];
  /** Calls back after the part changed; answers the stop. */
  on(part: MapPart, listener: () => void): () => void;
  onPositions(listener: (change: RowsChange<PositionRow>) => void): () => void;
}
