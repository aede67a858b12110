/**
 * A faithful-enough stand-in for the Electron IPC pair, for the places where no Electron binary exists:
 * ipcRenderer.invoke → ipcMain.handle with structured cloning both ways (as Electron does), webContents.send
 * → ipcRenderer listeners, and the webContents lifecycle events the binding listens to.
 */
import { EventEmitter } from 'node:events';
import type { IpcMainInvokeEventLike, IpcMainLike, WebContentsLike } from '../electron/ipc';
import type { IpcRendererLike } from '../preload/api';

type Handler = (event: IpcMainInvokeEventLike, ...args: unknown[]) => Promise<unknown>;

export class FakeIpcMain implements IpcMainLike {
  readonly handlers = new Map<string, Handler>();
  handle(channel: string, listener: Handler): void {
    if (this.handlers.has(channel)) throw new Error(`Attempted to register a second handler for '${channel}'`);
    this.handlers.set(channel, listener);
  }
  removeHandler(channel: string): void {
    this.handlers.delete(channel);
  }
}

let nextId = 1;

export class FakeWebContents extends EventEmitter implements WebContentsLike {
  readonly id = nextId++;
  readonly mainFrame: { url: string };
  private destroyed = false;
  readonly rendererListeners = new Map<string, Set<(event: unknown, ...args: unknown[]) => void>>();

  constructor(url: string) {
    super();
    this.mainFrame = { url };
  }
  isDestroyed(): boolean {
    return this.destroyed;
  }
  send(channel: string, ...args: unknown[]): void {
    if (this.destroyed) throw new Error('Object has been destroyed');
    const cloned = structuredClone(args);
    for (const listener of this.rendererListeners.get(channel) ?? []) listener({ sender: 'ipc-renderer-event' }, ...cloned);
  }
  destroy(): void {
    this.destroyed = true;
    this.emit('destroyed');
  }
  navigate(url: string): void {
    this.emit('did-start-navigation', { isMainFrame: true, isSameDocument: false, url });
    this.mainFrame.url = url;
  }
}

/** The renderer side of one window: what preload/ gets as ipcRenderer. */
export class FakeIpcRenderer implements IpcRendererLike {
  constructor(
    private readonly ipcMain: FakeIpcMain,
    readonly contents: FakeWebContents,
    /** Override to simulate a call from a subframe or a foreign page. */
    public senderFrame: { url: string } | null = null,
  ) {}
  async invoke(channel: string, ...args: unknown[]): Promise<unknown> {
    const handler = this.ipcMain.handlers.get(channel);
    if (!handler) throw new Error(`Error invoking remote method '${channel}': Error: No handler registered for '${channel}'`);
    const event: IpcMainInvokeEventLike = { sender: this.contents, senderFrame: this.senderFrame ?? this.contents.mainFrame };
    return structuredClone(await handler(event, ...structuredClone(args)));
  }
  on(channel: string, listener: (event: unknown, ...args: unknown[]) => void): this {
    const set = this.contents.rendererListeners.get(channel) ?? new Set();
    set.add(listener);
    this.contents.rendererListeners.set(channel, set);
    return this;
  }
  removeListener(channel: string, listener: (event: unknown, ...args: unknown[]) => void): this {
    this.contents.rendererListeners.get(channel)?.delete(listener);
    return this;
  }
}
