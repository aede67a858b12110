/**
 * Static city layers the map draws but the live protocol does not carry (the building footprints): from the
 * cache when they came from this backend (or no backend is linked: an offline start), else fetched once over
 * HTTP with the link's token, validated, and cached. Concurrent asks share one fetch.
 */
import { BuildingsLayer, HubError, describeIssues, validate, type CityLayerName } from '../protocol';
import type { Replica } from './replica';

export interface LayerSource {
  /** The address the link is on now. */
  url: string;
  /** Every address of this backend (its instances share one database: a layer from any of them is its layer). */
  urls: readonly string[];
  token: string;
}

export class CityLayers {
  private readonly fetches = new Map<CityLayerName, Promise<BuildingsLayer>>();

  constructor(
    private readonly replica: Replica,
    /** The linked backend now (null: none). */
    private readonly backend: () => LayerSource | null,
  ) {}

  get(layer: CityLayerName): Promise<BuildingsLayer> {
    const running = this.fetches.get(layer);
    if (running) return running;
    const job = this.load(layer).finally(() => this.fetches.delete(layer));
    this.fetches.set(layer, job);
    return job;
  }

  private async load(layer: CityLayerName): Promise<BuildingsLayer> {
    const cached = this.replica.cachedLayer(layer);
    if (cached) {
      const checked = validate(BuildingsLayer, cached.data);
      const backend = this.backend();
      if (checked.ok && (backend === null || backend.urls.includes(cached.url))) return checked.value;
    }
    const backend = this.backend();
    if (!backend) throw new HubError('unavailable', `the ${layer} layer is not cached and no backend is linked`);
    const url = `${backend.url.replace(/^ws/, 'http').replace(/\/ws$/, '')}/city/${layer}`;
    let response: Response;
    try {
      response = await fetch(url, { headers: { Authorization: `Bearer ${backend.token}` }, signal: AbortSignal.timeout(30_000) });
    } catch (e) {
      throw new HubError('unavailable', `could not fetch the ${layer} layer from ${url}: ${(e as Error).message}`);
    }
    if (!response.ok) throw new HubError('unavailable', `the backend answered ${response.status} for ${url}`);
    const checked = validate(BuildingsLayer, await response.json().catch(() => null));
    if (!checked.ok) throw new HubError('unavailable', `the backend sent an invalid ${layer} layer: ${describeIssues(checked.issues)}`);
    this.replica.cacheLayer(layer, backend.url, checked.value);
    return checked.value;
  }
}
