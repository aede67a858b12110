/**
 * Where the console's pages may stream media from: the backend at every address it has (a page loaded on one
 * instance keeps playing after the hub moved to another), the SIP server, the cameras' video platforms.
 */
import { backendMediaOrigins, videoPlatformOrigins } from '../protocol';
import type { Hub } from './hub';

export function consoleMediaOrigins(hub: Hub): string[] {
  const backend = hub.connection.value;
  return [...new Set([...[backend.backendUrl, ...backend.backendUrls].flatMap((url) => backendMediaOrigins(url)), ...backendMediaOrigins(hub.sipAccount.value.account?.url ?? null), ...videoPlatformOrigins(hub.confirmed.all('cameras'))])];
}
