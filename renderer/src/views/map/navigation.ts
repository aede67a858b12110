/**
 * The map view's navigation: the selection, the drill-down (city → district → street → community → grid) and
 * where the camera goes (home, a drilled-down unit, a search hit, a focus request from another workspace), and
 * the 一表通 card's target.
 */
import { computed, ref, watch, type ShallowRef } from 'vue';
import type { LonLat } from '../../../../protocol';
import { useHubStore } from '../../stores/hub';
import { useMapStore } from '../../stores/map';
import { useMapDataStore } from '../../stores/map-data';
import type { CityMap } from '../../map/city-map';
import type { Picked } from '../../map/layers';
import { boxOf, breadcrumb, drillTowards, gridsInPath, type SearchHit } from '../../map/model';
import { positionOfPicked } from '../../map/picks';
import type { ProfileLevel, ProfileTarget } from '../../map/profile';

const UNIT_LEVELS: ProfileLevel[] = ['district', 'street', 'community'];

export function useMapNavigation(map: ShallowRef<CityMap | null>) {
  const hub = useHubStore();
  const mapState = useMapStore();
  const model = useMapDataStore();
  const src = model.source;

  const selected = ref<Picked | null>(null);
  /** 一表 in the breadcrumb: the card of the drill-down's unit, closed on the next drill (each opening is audited). */
  const unitCard = ref(false);
  const crumbs = computed(() => {
    void model.version;
    return breadcrumb(mapState.path, src.units, src.grids);
  });

  function select(picked: Picked | null): void {
    selected.value = picked;
    map.value?.layers.staff.follow(picked?.layer === 'staff' ? picked.id : null);
  }

  /** The user's area, for a user scoped to districts, streets or communities: the extent of its grids (else null). */
  function areaBox(): ReturnType<typeof boxOf> {
    const scope = hub.connection?.districtScope;
    if (!scope) return null;
    const ids = new Set(scope);
    return boxOf([...src.grids.values()].filter((g) => ids.has(g.districtId) || ids.has(g.streetId) || ids.has(g.communityId)).flatMap((g) => g.polygon));
  }

  /**
   * The home view: a scoped user's area (a street's dispatcher starts at their street); else map.home when the
   * settings name one, else the city's extent from the backend's grids.
   */
  function goHome(seconds = 1.2): void {
    const area = areaBox();
    const home = hub.settings?.map.home ?? null;
    if (area) map.value?.flyToBox(area, seconds);
    else if (home) map.value?.flyToHome(home, seconds);
    else if (src.cityBox) map.value?.flyToBox(src.cityBox, seconds);
  }

  /** A new map (or new grids) looks at the whole city, unless a drill-down or a focus request says otherwise. */
  function flyHome(): void {
    if (mapState.path.units.length === 0 && !mapState.focus) goHome(0);
  }

  /** Drills to a unit or grid: the model restyles for the new path, the camera flies to what is inside. */
  function drill(next: { units: string[]; gridId: string | null }): void {
    mapState.path = next;
    unitCard.value = false;
    if (next.gridId) select({ layer: 'grids', id: next.gridId });
    else select(null);
    if (next.units.length === 0 && !next.gridId) {
      goHome();
      return;
    }
    const inside = gridsInPath(src.grids.values(), next).filter((g) => !next.gridId || g.id === next.gridId);
    const box = boxOf(inside.flatMap((g) => g.polygon));
    if (map.value && box) map.value.flyToBox(box);
  }

  function drillTo(depth: number): void {
    drill({ units: mapState.path.units.slice(0, depth), gridId: null });
  }

  /** A click on the map: a marker selects, a grid (or the ground inside one) drills one level towards it. */
  function onClick(picked: Picked | null, at: LonLat | null): void {
    if (picked && picked.layer !== 'grids') {
      select(picked);
      return;
    }
    const grid = picked?.layer === 'grids' ? (src.grids.get(picked.id) ?? null) : at && src.locator ? src.locator.at(at) : null;
    if (!grid) {
      select(null);
      return;
    }
    drill(drillTowards(mapState.path, grid));
  }

  /** The drill-down to an admin unit by id (its chain from the district down). */
  function drillToUnit(unitId: string): void {
    const chain: string[] = [];
    for (let u = src.units.get(unitId); u && u.level !== 'city'; u = u.parentId ? src.units.get(u.parentId) : undefined) chain.unshift(u.id);
    drill({ units: chain, gridId: null });
  }

  function go(hit: SearchHit): void {
    if (hit.kind === 'grid') {
      const grid = src.grids.get(hit.id);
      if (grid) drill({ units: [grid.districtId, grid.streetId, grid.communityId], gridId: grid.id });
      return;
    }
    if (hit.kind === 'place') {
      select({ layer: 'places', id: hit.id });
      map.value?.flyTo(hit.position, 900);
      return;
    }
    if (hit.kind === 'unit') return drillToUnit(hit.id);
    select({ layer: hit.kind === 'staff' ? 'staff' : 'events', id: hit.id });
    map.value?.flyTo(hit.position, 900);
  }

  /** The 一表通 card shows the selected grid or place, else the drill-down's unit when asked for. */
  const profileTarget = computed<ProfileTarget | null>(() => {
    const p = selected.value;
    if (p?.layer === 'grids') return { level: 'grid', id: p.id };
    if (p?.layer === 'places') return { level: 'place', id: p.id };
    const units = mapState.path.units;
    if (p || !unitCard.value || units.length === 0) return null;
    return { level: UNIT_LEVELS[units.length - 1]!, id: units[units.length - 1]! };
  });
  function toggleUnitCard(): void {
    unitCard.value = !unitCard.value || selected.value !== null;
    select(null);
  }
  function closeProfile(): void {
    if (selected.value) select(null);
    else unitCard.value = false;
  }

  /** Escape: steps back out (the unit card, then one drill level, then home). */
  function back(): void {
    if (unitCard.value) unitCard.value = false;
    else if (mapState.path.units.length > 0) drillTo(mapState.path.units.length - (mapState.path.gridId ? 0 : 1));
    else goHome();
  }

  // Focus requests from other workspaces (the desk's "show on map", the emergency board, the KPI wall).
  function applyFocus(): void {
    const f = mapState.focus;
    const m = map.value;
    if (!f || !m) return;
    // A district or the whole city (the KPI wall's drill-down): drill there, once its unit is known.
    if (f.kind === 'city' || f.kind === 'district') {
      if (f.kind === 'district' && !src.units.has(f.id)) return;
      mapState.focus = null;
      if (f.kind === 'city') drill({ units: [], gridId: null });
      else drillToUnit(f.id);
      return;
    }
    const p: Picked = { layer: f.kind === 'event' ? 'events' : f.kind === 'grid' ? 'grids' : f.kind === 'staff' ? 'staff' : 'cameras', id: f.id };
    const at = positionOfPicked(p, src);
    if (!at) return; // data not there yet: tried again when it arrives
    mapState.focus = null;
    select(p);
    m.flyTo(at, 900);
  }
  watch([() => mapState.focus, () => model.version, map], applyFocus);

  return { selected, unitCard, crumbs, select, goHome, flyHome, drill, drillTo, drillToUnit, onClick, go, profileTarget, toggleUnitCard, closeProfile, back };
}
