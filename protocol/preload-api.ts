/**
 * What preload/ exposes to the renderer with contextBridge (as window.zongzhiHub): explicit methods, one per
 * Hub API method, each returning the raw reply that the renderer validates. Never a raw ipcRenderer.
 */
import type { HubMethod, HubReply } from './hub-api/index';

export type PreloadHubApi = { readonly [M in HubMethod]: (params: unknown) => Promise<HubReply> } & {
  /** Registers a listener for subscription updates; returns the function that removes it. */
  readonly onUpdate: (listener: (update: unknown) => void) => () => void;
};

export const PRELOAD_GLOBAL_NAME = 'zongzhiHub';
