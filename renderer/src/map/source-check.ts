/**
 * Why a configured map source failed, said plainly: the browser only says "Failed to fetch" (a TypeError) for a
 * dead port and for a server that answers without Access-Control-Allow-Origin alike. A second request in
 * no-cors mode tells them apart: it succeeds (an opaque answer) when the server is there and only CORS refused
 * the first, and fails too when nothing answers.
 */
export type MapSourceKind = 'imagery' | 'annotation' | 'terrain' | 'tileset' | 'grids';
/** tianditu-key: 天地图 refused the key (403/401/418, or an error message instead of a tile). */
export type SourceCause = 'cors' | 'http' | 'not-json' | 'not-geojson' | 'not-image' | 'tianditu-key' | 'unreachable' | 'other';

export interface SourceProblem {
  source: MapSourceKind;
  url: string;
  cause: SourceCause;
  /** The HTTP status, for cause 'http'. */
  status?: number;
  /** The engine's own words (technical detail). */
  detail: string;
  /** The imagery was replaced by the bundled offline imagery (NaturalEarthII). */
  fellBack?: boolean;
}

export class SourceError extends Error {
  constructor(
    readonly problem: Omit<SourceProblem, 'source' | 'url'>,
  ) {
    super(problem.detail);
  }
}

function crossOrigin(url: string): boolean {
  try {
    return new URL(url, location.href).origin !== location.origin;
  } catch {
    return false;
  }
}

/** Fetches a URL, turning every failure into a SourceError with its likely cause. */
export async function fetchChecked(url: string): Promise<Response> {
  let response: Response;
  try {
    response = await fetch(url);
  } catch (e) {
    const detail = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
    if (e instanceof TypeError && crossOrigin(url)) {
      const answered = await fetch(url, { mode: 'no-cors' }).then(
        () => true,
        () => false,
      );
      throw new SourceError({ cause: answered ? 'cors' : 'unreachable', detail });
    }
    throw new SourceError({ cause: 'unreachable', detail });
  }
  if (!response.ok) throw new SourceError({ cause: 'http', status: response.status, detail: `HTTP ${response.status} ${response.statusText}` });
  return response;
}

/** Fetches JSON: not JSON is its own cause. */
export async function fetchJsonChecked(url: string): Promise<unknown> {
  const response = await fetchChecked(url);
  const text = await response.text();
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw new SourceError({ cause: 'not-json', detail: `${(e as Error).message} (${response.headers.get('content-type') ?? 'no content-type'}: ${text.slice(0, 60)})` });
  }
}

/**
 * Fetches one sample tile: besides the status, an answer that is a page or a message (XML, HTML, JSON, text)
 * instead of an image is refused. From 天地图 (tianditu), a refusal (401/403/418) or such a message is its key
 * refused: 「天地图密钥无效或未授权此域名」.
 */
export async function fetchTileChecked(url: string, tianditu = false): Promise<Response> {
  let response: Response;
  try {
    response = await fetchChecked(url);
  } catch (e) {
    if (tianditu && e instanceof SourceError && e.problem.cause === 'http' && [401, 403, 418].includes(e.problem.status ?? 0)) throw new SourceError({ ...e.problem, cause: 'tianditu-key' });
    throw e;
  }
  const type = response.headers.get('content-type') ?? '';
  if (/xml|html|json|text/i.test(type)) {
    const text = (await response.text()).slice(0, 120);
    throw new SourceError({ cause: tianditu ? 'tianditu-key' : 'not-image', detail: `${type}: ${text}` });
  }
  return response;
}

/** Whether a sample tile's failure means nothing usable comes from the server (a 404 for one tile does not). */
export function deadSource(problem: Omit<SourceProblem, 'source' | 'url'>): boolean {
  const { cause, status } = problem;
  return cause === 'cors' || cause === 'unreachable' || cause === 'not-image' || cause === 'tianditu-key' || (cause === 'http' && (status === 401 || status === 403 || (status ?? 0) >= 500));
}

/**
 * After the engine refused a source: the URL looked at again to name the cause (the server down, CORS, a
 * status); 'other' with the engine's words when the server answers fine.
 */
export async function diagnose(source: MapSourceKind, url: string, probeUrl: string, error: unknown, tianditu = false): Promise<SourceProblem> {
  const engine = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  try {
    if (source === 'imagery' || source === 'annotation') await fetchTileChecked(probeUrl, tianditu);
    else await fetchJsonChecked(probeUrl);
  } catch (e) {
    if (e instanceof SourceError) return { source, url, ...e.problem, detail: `${e.problem.detail}; ${engine}` };
  }
  return { source, url, cause: 'other', detail: engine };
}

/** One tile of an imagery URL template (for looking at the server, not for drawing): the top one unless told. */
export function sampleTileUrl(template: string, subdomains: readonly string[] | undefined, tile: { z: number; x: number; y: number } = { z: 0, x: 0, y: 0 }): string {
  const of: Record<string, number> = { z: tile.z, x: tile.x, y: tile.y, TileMatrix: tile.z, TileCol: tile.x, TileRow: tile.y };
  return template
    .replaceAll('{s}', subdomains?.[0] ?? 'a')
    .replaceAll(/\{(z|x|y|reverseX|reverseY|reverseZ|TileMatrix|TileRow|TileCol)\}/g, (_all, name: string) => String(of[name] ?? 0))
    .replaceAll('{TileMatrixSet}', 'default');
}
