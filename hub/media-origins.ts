/**
 * Where the console's pages may stream media from: the backend at every address it has (a page loaded on one
 * instance keeps playing after the hub moved to another), the SIP server, the cameras' video platforms.
 */
import { backendMediaOrigins, videoPlatformOrigins } from '../protocol';
import type { Hub } from './hub';

/**
 * The embedded backend and what it starts (its Kamailio, its cameras' streams) listen on this machine's loopback,
 * on ports chosen as they start: often after the first window loaded (first start), or other ports after a
 * restart. A page loaded before the hub knows them names loopback on any port, so calls and video work by
 * themselves once they are up, without reloading the page. Only while the embedded backend is starting, or
 * running but not yet welcomed the hub (its address and SIP account not known yet); a failed or retrying one gets
 * no wildcard, and pages loaded after the welcome name its exact origins (a later restart on other ports is again
 * the wildcard's, for the pages loaded meanwhile).
 */
export const EMBEDDED_BACKEND_ORIGINS = ['ws://127.0.0.1:*', 'http://127.0.0.1:*'] as const;

export function consoleMediaOrigins(hub: Hub): string[] {
  const backend = hub.connection.value;
  const embedded = backend.embeddedBackend?.state ?? null;
  // The welcome on the current link says both the backend's address (the link's) and its SIP account (or none).
  const welcomed = backend.status === 'online' && backend.backendUrl !== null;
  const wildcard = embedded === 'starting' || (embedded === 'running' && !welcomed);
  return [...new Set([...(wildcard ? EMBEDDED_BACKEND_ORIGINS : []), ...[backend.backendUrl, ...backend.backendUrls].flatMap((url) => backendMediaOrigins(url)), ...backendMediaOrigins(hub.sipAccount.value.account?.url ?? null), ...videoPlatformOrigins(hub.confirmed.all('cameras'))])];
}
