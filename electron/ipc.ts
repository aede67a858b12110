/**
 * Binds the Hub API to Electron IPC: one handler per method, one hub session per window (webContents).
 * Every call is checked: it must come from the main frame of one of our windows showing our app:// origin;
 * params are validated by the session. Electron types are structural here so tests can pass fakes.
 */
import { HUB_IPC_UPDATE_CHANNEL, HUB_METHOD_LIST, hubIpcChannel, type DisplayRole, type HubReply } from '../protocol';
import type { Hub, HubSession } from '../hub';
import { isSameOrigin } from '../web-serving/origin';

export interface WebContentsLike {
  readonly id: number;
  isDestroyed(): boolean;
  send(channel: string, ...args: unknown[]): void;
  readonly mainFrame: unknown;
  once(event: 'destroyed' | 'render-process-gone', listener: () => void): unknown;
  on(event: 'did-start-navigation', listener: (details: { isMainFrame: boolean; isSameDocument: boolean }) => void): unknown;
}

export interface IpcMainInvokeEventLike {
  readonly sender: WebContentsLike;
  readonly senderFrame: { readonly url: string } | null;
}

export interface IpcMainLike {
  handle(channel: string, listener: (event: IpcMainInvokeEventLike, ...args: unknown[]) => Promise<unknown>): void;
  removeHandler(channel: string): void;
}

export interface HubIpcOptions {
  ipcMain: IpcMainLike;
  hub: Hub;
  /** Origin our pages are served from, e.g. "app://console". */
  trustedOrigin: string;
  /** The display role of the window owning these webContents, or null if they are not one of ours. */
  roleOf(webContents: WebContentsLike): DisplayRole | null;
}

export function isTrustedSender(event: IpcMainInvokeEventLike, trustedOrigin: string): boolean {
  const frame = event.senderFrame;
  if (!frame || frame !== event.sender.mainFrame) return false; // no iframes, no disposed frames
  return isSameOrigin(frame.url, trustedOrigin);
}

export function bindHubIpc(options: HubIpcOptions): () => void {
  const { ipcMain, hub, trustedOrigin, roleOf } = options;
  const sessions = new Map<number, HubSession>();

  function sessionFor(contents: WebContentsLike, role: DisplayRole): HubSession {
    const existing = sessions.get(contents.id);
    if (existing) return existing;
    const session = hub.openSession({ bridge: 'ipc', displayRole: role, label: `window#${contents.id}` }, (update) => {
      if (!contents.isDestroyed()) contents.send(HUB_IPC_UPDATE_CHANNEL, update);
    });
    sessions.set(contents.id, session);
    const end = (): void => {
      if (sessions.get(contents.id) === session) sessions.delete(contents.id);
      session.close();
    };
    contents.once('destroyed', end);
    // A crashed page holds nothing (its reload, if any, starts a new session): e.g. the alarm voice moves on.
    contents.once('render-process-gone', end);
    // A reload or navigation starts a new page: the old page's subscriptions must not follow it.
    contents.on('did-start-navigation', (details) => {
      if (details.isMainFrame && !details.isSameDocument) end();
    });
    return session;
  }

  for (const method of HUB_METHOD_LIST) {
    ipcMain.handle(hubIpcChannel(method), async (event, ...args): Promise<HubReply> => {
      const role = roleOf(event.sender);
      if (role === null || !isTrustedSender(event, trustedOrigin)) {
        hub.log.warn('refused IPC call from an untrusted sender', { method, url: event.senderFrame?.url ?? null });
        return { ok: false, error: { code: 'unauthorized', message: 'caller is not a console window' } };
      }
      if (args.length > 1) {
        return { ok: false, error: { code: 'invalid-params', message: `${method} takes one params object` } };
      }
      return sessionFor(event.sender, role).handle(method, args[0]);
    });
  }

  return () => {
    for (const method of HUB_METHOD_LIST) ipcMain.removeHandler(hubIpcChannel(method));
    for (const session of sessions.values()) session.close();
    sessions.clear();
  };
}
