/** Where the console's pages may stream media from: the backend, the SIP server, the cameras' video platforms. */
import { backendMediaOrigins, videoPlatformOrigins } from '../protocol';
import type { Hub } from './hub';

export function consoleMediaOrigins(hub: Hub): string[] {
  return [...new Set([...backendMediaOrigins(hub.connection.value.backendUrl), ...backendMediaOrigins(hub.sipAccount.value.account?.url ?? null), ...videoPlatformOrigins(hub.confirmed.all('cameras'))])];
}
