/**
 * The renderer's Content-Security-Policy, sent as a header by both the Electron app:// protocol handler and
 * the browser host. Plain module (no electron import) so the host can use it too.
 */
export interface CspOptions {
  /** Extra origins the renderer may connect to directly (SIP over WebSocket, video gateways), e.g. "wss://sip.example". */
  extraConnectSources?: readonly string[];
}

const SOURCE_PATTERN = /^(wss?|https?):\/\/[a-z0-9.-]+(:\d{1,5}|:\*)?$/i;

export function buildContentSecurityPolicy(options: CspOptions = {}): string {
  const extra = (options.extraConnectSources ?? []).filter((source) => {
    if (!SOURCE_PATTERN.test(source)) throw new Error(`not a valid CSP connect source: ${JSON.stringify(source)}`);
    return true;
  });
  const directives: Record<string, string[]> = {
    'default-src': ["'self'"],
    'script-src': ["'self'"],
    // Libraries (ECharts tooltips, Cesium widgets) set inline style attributes; scripts stay strict.
    'style-src': ["'self'", "'unsafe-inline'"],
    'img-src': ["'self'", 'data:', 'blob:'],
    'font-src': ["'self'", 'data:'],
    'connect-src': ["'self'", ...extra],
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
