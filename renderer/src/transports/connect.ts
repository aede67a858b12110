/**
 * Picks the bridge at start: the preload's API when running in Electron, else the browser host's WebSocket
 * with the token from the page URL (moved to sessionStorage and removed from the address bar).
 */
import { HubError, PRELOAD_GLOBAL_NAME, createHubClient, type HubApi, type PreloadHubApi } from '../../../protocol';
import { createIpcTransport } from './ipc-transport';
import { connectWsTransport } from './ws-transport';

const TOKEN_KEY = 'zongzhi.hubToken';

/** The browser host's page token, which its HTTP routes (attachments) ask for too; null under Electron (app:// needs none). */
let httpToken: string | null = null;
export const hubHttpToken = (): string | null => httpToken;

export interface PageLocation {
  readonly origin: string;
  readonly search: string;
}

export function readLaunchParams(location: PageLocation, storage: Pick<Storage, 'getItem' | 'setItem'>): { token: string | null; role: string | null; demo: boolean } {
  const params = new URLSearchParams(location.search);
  const fromUrl = params.get('token');
  if (fromUrl) storage.setItem(TOKEN_KEY, fromUrl);
  return { token: fromUrl ?? storage.getItem(TOKEN_KEY), role: params.get('role'), demo: params.get('demo') === '1' };
}

export async function connectHub(onLinkLost: (detail: string) => void): Promise<HubApi> {
  const preload = (window as unknown as Record<string, PreloadHubApi | undefined>)[PRELOAD_GLOBAL_NAME];
  if (preload) return createHubClient(createIpcTransport(preload), 'ipc');

  const { token, role, demo } = readLaunchParams(window.location, window.sessionStorage);
  if (window.location.search.includes('token=')) {
    const clean = new URL(window.location.href);
    clean.searchParams.delete('token');
    window.history.replaceState(null, '', clean.toString());
  }
  if (!token) throw new HubError('unauthorized', 'the page address has no access token (open the URL printed by the host)');
  httpToken = token;
  const transport = await connectWsTransport({ origin: window.location.origin, token, role: role ?? undefined, demo, onClosed: onLinkLost });
  return createHubClient(transport, 'websocket');
}
