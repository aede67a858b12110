import { HUB_IPC_UPDATE_CHANNEL, HUB_METHOD_LIST, hubIpcChannel } from '../protocol/ipc-channels';
import type { PreloadHubApi } from '../protocol/preload-api';
import type { HubReply } from '../protocol/hub-api/index';

/** The slice of ipcRenderer the preload uses (so tests can pass a fake). */
export interface IpcRendererLike {
  invoke(channel: string, ...args: unknown[]): Promise<unknown>;
  on(channel: string, listener: (event: unknown, ...args: unknown[]) => void): unknown;
  removeListener(channel: string, listener: (event: unknown, ...args: unknown[]) => void): unknown;
}

/**
 * Builds the object exposed to the page: one explicit method per Hub API method. The page never sees
 * ipcRenderer, event objects, or any channel it could pick itself.
 */
export function buildPreloadApi(ipc: IpcRendererLike): PreloadHubApi {
  const methods = Object.fromEntries(
    HUB_METHOD_LIST.map((method) => [method, (params: unknown) => ipc.invoke(hubIpcChannel(method), params) as Promise<HubReply>]),
  ) as { [M in (typeof HUB_METHOD_LIST)[number]]: (params: unknown) => Promise<HubReply> };
  return Object.freeze({
    ...methods,
    onUpdate(listener: (update: unknown) => void) {
      if (typeof listener !== 'function') throw new TypeError('onUpdate needs a function');
      // Strip the IpcRendererEvent: it carries a sender handle the page must not get.
      const relay = (_event: unknown, update: unknown): void => listener(update);
      ipc.on(HUB_IPC_UPDATE_CHANNEL, relay);
      return () => {
        ipc.removeListener(HUB_IPC_UPDATE_CHANNEL, relay);
      };
    },
  });
}
