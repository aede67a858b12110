/**
 * Where a source system's report stands (the ingest API): a WGS84 point inside the city as sent; else its address
 * text placed by the city's places (名称 and 地址 of the places collection) and grids (names); else the city's
 * centre, flagged 位置待核实 for the dispatcher.
 *
 * The address match: the text and every candidate name/address are normalised (NFKC, so full-width digits and
 * letters become half-width; lower case; whitespace and punctuation dropped). A candidate matches when the text
 * contains it (建设路12号XX小区门口 contains the place 建设路12号) or it starts with the text (the text 建设路12 is the
 * start of the place's address); its score is the length of the part the two share. The best is the longest such
 * match (more characters in common: more precise); on a tie a place beats a grid (a point beats an area). A match
 * must cover at least 4 characters, and two different places (or grids) matching equally well is no match: a bare
 * street name or an ambiguous address is left to the dispatcher (位置待核实), never placed at an arbitrary one.
 * Linear in the city's places and grids, over lists rebuilt only when those collections change.
 */
import type { CityState } from '../../domain';
import type { LonLat } from '../../protocol';

export interface Placed {
  location: LonLat;
  /** False: placed at the city's centre (the address matched nothing). */
  resolved: boolean;
  /** What placed it (tests, logs): 'point', 'place:<id>', 'grid:<id>', 'centre'. */
  by: string;
}

interface Candidate {
  key: string;
  id: string;
  kind: 0 | 1; // 0 a place, 1 a grid (a place wins a tie)
  at: LonLat;
}

export const normaliseAddress = (text: string): string =>
  text
    .normalize('NFKC')
    .toLowerCase()
    .replace(/[\s\p{P}\p{S}]+/gu, '');

/** The fewest characters a match must cover to place an event (shorter ones are left to the dispatcher). */
const MIN_MATCH_CHARS = 4;

export class AddressPlacer {
  private built = '';
  private candidates: Candidate[] = [];
  private centre: LonLat | null = null;

  constructor(
    private readonly state: CityState,
    private readonly locate: (location: LonLat) => { gridId: string; districtId: string } | null,
  ) {}

  /** Whether a point is inside the city's grids. */
  inside(location: LonLat): boolean {
    return this.locate(location) !== null;
  }

  /** The best place or grid for an address (see the module's comment), or null. */
  match(address: string): { at: LonLat; by: string } | null {
    this.rebuild();
    const text = normaliseAddress(address);
    if (text.length < 2) return null;
    let best: { c: Candidate; score: number } | null = null;
    let tied = false;
    for (const c of this.candidates) {
      const score = text.includes(c.key) ? c.key.length : c.key.startsWith(text) ? text.length : 0;
      // A match of a few characters (「中山路」, a bare street name) says too little to place an event by.
      if (score < MIN_MATCH_CHARS) continue;
      if (best && score === best.score && c.kind === best.c.kind && c.at[0] === best.c.at[0] && c.at[1] === best.c.at[1]) continue;
      if (!best || score > best.score || (score === best.score && c.kind < best.c.kind)) {
        best = { c, score };
        tied = false;
      } else if (score === best.score && c.kind === best.c.kind) tied = true;
    }
    // Two different places (or grids) match equally well: the address does not say which, the dispatcher decides.
    return best && !tied ? { at: best.c.at, by: `${best.c.kind === 0 ? 'place' : 'grid'}:${best.c.id}` } : null;
  }

  /**
   * The city's centre: the centre of the grid nearest the mean of all grid centres (always inside the city, even
   * for a city of odd shape). Null for a city without grids.
   */
  cityCentre(): LonLat | null {
    this.rebuild();
    return this.centre;
  }

  /** A report's position: the point when given (null when outside the city), else the address's, else the centre. */
  place(location: LonLat | undefined, address: string | undefined): Placed | null {
    if (location) return this.inside(location) ? { location, resolved: true, by: 'point' } : null;
    const found = address === undefined ? null : this.match(address);
    if (found) return { location: found.at, resolved: true, by: found.by };
    const centre = this.cityCentre();
    return centre ? { location: centre, resolved: false, by: 'centre' } : null;
  }

  private rebuild(): void {
    const { state } = this;
    const version = `${state.versions.places}:${state.versions.grids}:${state.collections.places.size}:${state.collections.grids.size}`;
    if (version === this.built) return;
    this.built = version;
    const list: Candidate[] = [];
    const add = (text: string, id: string, kind: 0 | 1, at: LonLat): void => {
      const key = normaliseAddress(text);
      if (key.length >= 2) list.push({ key, id, kind, at });
    };
    for (const p of state.all('places')) {
      add(p.name, p.id, 0, p.position);
      add(p.address, p.id, 0, p.position);
    }
    let lon = 0;
    let lat = 0;
    const grids = [...state.all('grids')];
    for (const g of grids) {
      add(g.name, g.id, 1, g.center);
      lon += g.center[0];
      lat += g.center[1];
    }
    this.candidates = list;
    if (grids.length === 0) return void (this.centre = null);
    const mean: LonLat = [lon / grids.length, lat / grids.length];
    const d = (g: (typeof grids)[number]): number => (g.center[0] - mean[0]) ** 2 + (g.center[1] - mean[1]) ** 2;
    this.centre = grids.reduce((a, b) => (d(b) < d(a) ? b : a)).center;
  }
}
