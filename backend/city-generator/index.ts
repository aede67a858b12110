/** The synthetic city and its catalogue: everything the simulator needs to build a deterministic world. */
export { Rng } from './random';
export { generateCity, latticeSize, cityOutline, DEFAULT_CENTER, DEFAULT_EPOCH } from './city';
export type { City, CityOptions, GridPlace, Buildings, RoadLine, RoadNetwork, SensorKind } from './city';
export { buildingCorners } from './buildings';
export { makeProjection, type Projection } from './geometry';
export {
  CATEGORIES,
  DEPARTMENTS,
  categoryById,
  eventContent,
  pickCategory,
  pickSeverity,
  pickSource,
  rulesFromCatalog,
  type EventCategory,
  type EventPlace,
  type HandlingLevel,
} from './catalog';
export { personName, anonymisedPerson, mobilePhone } from './names';
