/**
 * Why a configured map source failed, said plainly: the browser only says "Failed to fetch" (a TypeError) for a
 * dead port and for a server that answers without Access-Control-Allow-Origin alike. A second request in
 * no-cors mode tells them apart: it succeeds (an opaque answer) when the server is there and only CORS refused
 * the first, and fails too when nothing answers.
 */
export type MapSourceKind = 'imagery' | 'terrain' | 'tileset' | 'grids';
export type SourceCause = 'cors' | 'http' | 'not-json' | 'not-geojson' | 'unreachable' | 'other';

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
 * After the engine refused a source: the URL looked at again to name the cause (the server down, CORS, a
 * status); 'other' with the engine's words when the server answers fine.
 */
export async function diagnose(source: MapSourceKind, url: string, probeUrl: string, error: unknown): Promise<SourceProblem> {
  const engine = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  try {
    if (source === 'imagery') await fetchChecked(probeUrl);
    else await fetchJsonChecked(probeUrl);
  } catch (e) {
    if (e instanceof SourceError) return { source, url, ...e.problem, detail: `${e.problem.detail}; ${engine}` };
  }
  return { source, url, cause: 'other', detail: engine };
}

/** One tile of an imagery URL template (for looking at the server, not for drawing). */
export function sampleTileUrl(template: string, subdomains: readonly string[] | undefined): string {
  return template
    .replaceAll('{s}', subdomains?.[0] ?? 'a')
    .replaceAll(/\{(z|x|y|reverseX|reverseY|reverseZ|TileMatrix|TileRow|TileCol)\}/g, '0')
    .replaceAll('{TileMatrixSet}', 'default');
}
