/**
 * The renderer's Content-Security-Policy, sent as a header by both the Electron app:// protocol handler and
 * the browser host. Plain module (no electron import) so the host can use it too.
 */
export interface CspOptions {
  /** Extra origins the renderer may connect to directly (SIP over WebSocket, video gateways), e.g. "wss://sip.example". */
  extraConnectSources?: readonly string[];
  /** Origins of configured map sources (imagery tiles, terrain, 3D Tiles, GeoJSON): images and fetches from them. */
  mapOrigins?: readonly string[];
  /** Origins live video comes from (the backend's synthetic cameras, a video platform): connections only. */
  mediaOrigins?: readonly string[];
}

const SOURCE_PATTERN = /^(wss?|https?):\/\/[a-z0-9.-]+(:\d{1,5}|:\*)?$/i;

export function buildContentSecurityPolicy(options: CspOptions = {}): string {
  const extra = (options.extraConnectSources ?? []).filter((source) => {
    if (!SOURCE_PATTERN.test(source)) throw new Error(`not a valid CSP connect source: ${JSON.stringify(source)}`);
    return true;
  });
  const map = (options.mapOrigins ?? []).filter((source) => {
    if (!SOURCE_PATTERN.test(source)) throw new Error(`not a valid map source origin: ${JSON.stringify(source)}`);
    return true;
  });
  const media = (options.mediaOrigins ?? []).filter((source) => {
    if (!SOURCE_PATTERN.test(source)) throw new Error(`not a valid media origin: ${JSON.stringify(source)}`);
    return true;
  });
  const directives: Record<string, string[]> = {
    'default-src': ["'self'"],
    // wasm-unsafe-eval: Cesium decodes Draco/KTX2 in 3D Tiles (oblique photography) with WebAssembly; no JS eval.
    'script-src': ["'self'", "'wasm-unsafe-eval'"],
    // Libraries (ECharts tooltips, Cesium widgets) set inline style attributes; scripts stay strict.
    'style-src': ["'self'", "'unsafe-inline'"],
    'img-src': ["'self'", 'data:', 'blob:', ...map],
    'font-src': ["'self'", 'data:'],
    'connect-src': ["'self'", ...extra, ...map, ...media],
    'worker-src': ["'self'", 'blob:'],
    'media-src': ["'self'", 'blob:', 'mediastream:'],
    'object-src': ["'none'"],
    'base-uri': ["'none'"],
    'form-action': ["'none'"],
    'frame-ancestors': ["'none'"],
  };
  return Object.entries(directives)
    .map(([name, values]) => `${name} ${values.join(' ')}`)
    .join('; ');
}
