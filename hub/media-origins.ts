/**
 * Where the console's pages may stream media from: the backend at every address it has (a page loaded on one
 * instance keeps playing after the hub moved to another), the SIP server, the cameras' video platforms.
 */
import { backendMediaOrigins, videoPlatformOrigins } from '../protocol';
import type { Hub } from './hub';

/**
 * The embedded backend and what it starts (its Kamailio, its cameras' streams) listen on this machine's loopback,
 * on ports chosen as they start: often after the first window loaded (first start), or other ports after a
 * restart. A page names them all from its first load, so calls and video work by themselves once they are up,
 * without reloading the page. Loopback only, and only while the hub supervises an embedded backend.
 */
export const EMBEDDED_BACKEND_ORIGINS = ['ws://127.0.0.1:*', 'http://127.0.0.1:*'] as const;

export function consoleMediaOrigins(hub: Hub): string[] {
  const backend = hub.connection.value;
  return [...new Set([...(backend.embeddedBackend ? EMBEDDED_BACKEND_ORIGINS : []), ...[backend.backendUrl, ...backend.backendUrls].flatMap((url) => backendMediaOrigins(url)), ...backendMediaOrigins(hub.sipAccount.value.account?.url ?? null), ...videoPlatformOrigins(hub.confirmed.all('cameras'))])];
}
