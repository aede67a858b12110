/**
 * Live camera streams of the reference backend: MPEG-TS over WebSocket at `/video/<cameraId>` (what
 * ZLMediaKit and MediaMTX call WS-TS), one encoder per camera shared by all viewers. The close codes say why
 * a stream ended, so a tile can tell the user something better than a black picture.
 */
export const VIDEO_PATH_PREFIX = '/video/';

export const VideoCloseCode = {
  unknownCamera: 4001,
  /** The backend machine has no ffmpeg: synthetic cameras cannot run. */
  encoderMissing: 4002,
  /** Too many streams or viewers. */
  busy: 4003,
  cameraOffline: 4004,
  /** The encoder exited; the player reconnects. */
  sourceEnded: 4005,
  /** The encoder stopped producing; the backend restarted it; the player reconnects. */
  sourceStalled: 4006,
  /** This viewer fell too far behind and was dropped (the others play on). */
  tooSlow: 4007,
  /** The viewer's ticket no longer opens this camera (signed out, session ended, user disabled, out of scope). */
  refused: 4008,
} as const;

/** Camera ids as the backend makes them; anything else in a stream path is refused before any lookup. */
export const CAMERA_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

/** The query parameter of the backend's stream routes that carries the viewer's ticket (the welcome's streamTicket). */
export const STREAM_TICKET_PARAM = 'ticket';

/** A URL with the viewer's ticket added to its query. */
export function withStreamTicket(url: string, ticket: string): string {
  return `${url}${url.includes('?') ? '&' : '?'}${STREAM_TICKET_PARAM}=${encodeURIComponent(ticket)}`;
}

/**
 * Where a stream URL of a camera record points: absolute URLs (a video platform) as they are, relative
 * ones against the backend the console is connected to, over WebSocket (MPEG-TS/FLV live streams) or HTTP
 * (HLS, WHEP), secure when the backend link is. The backend's own stream routes (VIDEO_PATH_PREFIX) open only
 * with the viewer's ticket (the welcome's streamTicket): it is added to those, never to a platform's URL.
 * Every player builds its URL here.
 */
export function resolveStreamUrl(url: string, backendUrl: string | null, over: 'ws' | 'http' = 'ws', ticket: string | null = null): string | null {
  try {
    const resolved = new URL(url, backendUrl ?? undefined);
    if (/^[a-z][a-z0-9+.-]*:/i.test(url)) return resolved.toString();
    const secure = resolved.protocol === 'wss:' || resolved.protocol === 'https:';
    resolved.protocol = over === 'ws' ? (secure ? 'wss:' : 'ws:') : secure ? 'https:' : 'http:';
    if (ticket !== null && url.startsWith(VIDEO_PATH_PREFIX)) resolved.searchParams.set(STREAM_TICKET_PARAM, ticket);
    return resolved.toString();
  } catch {
    return null;
  }
}

/**
 * The synthetic cameras burn the wall clock into every frame twice: as text for people, and as a strip of
 * CLOCK_BITS white/black boxes (the clock in ms, modulo 2^CLOCK_BITS) along the bottom for machines, so
 * glass-to-glass latency can be read off any decoded frame.
 */
export const CLOCK_BITS = 22;
export const CLOCK_STRIP = { x0: 24, y: 338, box: 16, pitch: 26, width: 640, height: 360 } as const;

/** The clock (ms mod 2^CLOCK_BITS) in a frame, from its luma (0–255) at picture coordinates; null if unreadable. */
export function decodeClockStrip(lumaAt: (x: number, y: number) => number): number | null {
  const { x0, y, box, pitch } = CLOCK_STRIP;
  let value = 0;
  for (let k = 0; k < CLOCK_BITS; k++) {
    const luma = lumaAt(x0 + k * pitch + box / 2, y + box / 2);
    // Compression blurs edges, never the middle of a box: anything in between means no strip here.
    if (luma > 60 && luma < 190) return null;
    if (luma >= 190) value += 2 ** k;
  }
  return value;
}

/** Milliseconds from a burnt-in clock value to now (both modulo 2^CLOCK_BITS). */
export function clockLatencyMs(burnt: number, nowMs: number): number {
  const period = 2 ** CLOCK_BITS;
  return (((nowMs % period) - burnt) % period + period) % period;
}

/**
 * Origins the renderer may stream video from: the backend's own (its relative stream URLs), as ws(s) and
 * http(s) (MPEG-TS over WebSocket, HLS over HTTP). Anything unparsable gives nothing.
 */
export function backendMediaOrigins(backendUrl: string | null): string[] {
  if (!backendUrl) return [];
  try {
    const u = new URL(backendUrl);
    const secure = u.protocol === 'wss:' || u.protocol === 'https:';
    if (!['ws:', 'wss:', 'http:', 'https:'].includes(u.protocol)) return [];
    return [`${secure ? 'wss' : 'ws'}://${u.host}`, `${secure ? 'https' : 'http'}://${u.host}`];
  } catch {
    return [];
  }
}

/**
 * Origins of the video platforms the cameras' absolute stream URLs point at (ZLMediaKit, MediaMTX, WVP…), so
 * the page's CSP lets the player reach them: each as scheme://host[:port], ws(s) and http(s) only, at most
 * `limit` of them (a platform has one or a few; hundreds would be bad data, not a deployment).
 */
export function videoPlatformOrigins(cameras: Iterable<{ streams: ReadonlyArray<{ url: string }> }>, limit = 32): string[] {
  const origins = new Set<string>();
  for (const camera of cameras) {
    for (const stream of camera.streams) {
      if (!/^(wss?|https?):\/\//i.test(stream.url)) continue;
      try {
        const u = new URL(stream.url);
        if (!/^[a-z0-9.-]+$/i.test(u.hostname)) continue; // IPv6 literals and odd names stay out of the CSP
        origins.add(`${u.protocol}//${u.host}`);
      } catch {
        /* not a URL: that stream just fails in its tile, with its message */
      }
      if (origins.size >= limit) return [...origins];
    }
  }
  return [...origins];
}

/** The path of the reference backend's recordings of a camera (复盘回放; backend/video/recordings-http.ts). */
export const RECORDINGS_PATH_PREFIX = '/recordings/';
/** The playback template the reference backend gives its own recorded cameras. */
export const OWN_PLAYBACK_TEMPLATE = `${RECORDINGS_PATH_PREFIX}{cameraId}/index.m3u8?from={fromMs}&to={toMs}`;

/** A camera's playback URL for a city-time range, from its template (Camera.playback.urlTemplate). */
export function playbackUrl(template: string, cameraId: string, fromMs: number, toMs: number): string {
  const iso = (ms: number): string => encodeURIComponent(new Date(ms).toISOString());
  return template
    .replaceAll('{cameraId}', encodeURIComponent(cameraId))
    .replaceAll('{fromMs}', String(Math.floor(fromMs)))
    .replaceAll('{toMs}', String(Math.ceil(toMs)))
    .replaceAll('{fromUnix}', String(Math.floor(fromMs / 1000)))
    .replaceAll('{toUnix}', String(Math.ceil(toMs / 1000)))
    .replaceAll('{from}', iso(fromMs))
    .replaceAll('{to}', iso(toMs));
}
