/**
 * The Electron glue with the Electron modules faked (no binary here): preload surface, IPC binding's sender
 * and argument checks, window security defaults, navigation lock, crash/hang recovery.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { buildPreloadApi } from '../../preload/api';
import { bindHubIpc } from '../../electron/ipc';
import { Hub, silentLogger } from '../../hub';
import { HUB_IPC_UPDATE_CHANNEL, HUB_METHOD_LIST, hubIpcChannel, hubMethods } from '../../protocol';
import { APP_ORIGIN, RECOVERY, attachRecovery, consoleUrl, isAppUrl, lockNavigation, secureWindowOptions, type RecoverableWindow } from '../../electron/windows';
import { FakeIpcMain, FakeIpcRenderer, FakeWebContents } from '../../harness/fake-electron';
import { makeTempDir, waitFor } from '../../harness/temp';

describe('preload', () => {
  it('exposes exactly one method per Hub API method plus onUpdate, frozen', () => {
    const ipc = { invoke: vi.fn(async () => ({ ok: true, result: {} })), on: vi.fn(), removeListener: vi.fn() };
    const api = buildPreloadApi(ipc);
    expect(Object.keys(api).sort()).toEqual([...HUB_METHOD_LIST, 'onUpdate'].sort());
    expect(Object.keys(hubMethods).sort()).toEqual([...HUB_METHOD_LIST].sort());
    expect(Object.isFrozen(api)).toBe(true);
  });

  it('invokes the method’s own channel and nothing else', async () => {
    const ipc = { invoke: vi.fn(async () => ({ ok: true, result: 1 })), on: vi.fn(), removeListener: vi.fn() };
    const api = buildPreloadApi(ipc);
    await api.getSettings({});
    expect(ipc.invoke).toHaveBeenCalledWith('hub:getSettings', {});
    expect(hubIpcChannel('subscribe')).toBe('hub:subscribe');
  });

  it('hands updates to the page without the IPC event object, and unregisters', () => {
    let relay: ((event: unknown, update: unknown) => void) | undefined;
    const ipc = {
      invoke: vi.fn(),
      on: vi.fn((channel: string, fn: (event: unknown, update: unknown) => void) => {
        expect(channel).toBe(HUB_IPC_UPDATE_CHANNEL);
        relay = fn;
      }),
      removeListener: vi.fn(),
    };
    const api = buildPreloadApi(ipc);
    const listener = vi.fn();
    const stop = api.onUpdate(listener);
    relay!({ sender: 'secret handle' }, { kind: 'snapshot' });
    expect(listener).toHaveBeenCalledWith({ kind: 'snapshot' });
    expect(listener.mock.calls[0]).toHaveLength(1);
    stop();
    expect(ipc.removeListener).toHaveBeenCalledWith(HUB_IPC_UPDATE_CHANNEL, relay);
    expect(() => api.onUpdate('nope' as never)).toThrow(TypeError);
  });
});

describe('IPC binding', () => {
  let temp: ReturnType<typeof makeTempDir>;
  let hub: Hub;
  let ipcMain: FakeIpcMain;
  let unbind: () => void;
  const ours = new Set<number>();

  beforeEach(() => {
    temp = makeTempDir();
    hub = new Hub({ dataDir: temp.dir, version: 't', log: silentLogger });
    ipcMain = new FakeIpcMain();
    unbind = bindHubIpc({ ipcMain, hub, trustedOrigin: APP_ORIGIN, roleOf: (c) => (ours.has(c.id) ? 'dispatch' : null) });
  });
  afterEach(() => {
    unbind();
    hub.close();
    temp.cleanup();
  });

  const window = (url = 'app://console/index.html'): FakeIpcRenderer => {
    const contents = new FakeWebContents(url);
    ours.add(contents.id);
    return new FakeIpcRenderer(ipcMain, contents);
  };

  it('registers one handler per method', () => {
    expect([...ipcMain.handlers.keys()].sort()).toEqual(HUB_METHOD_LIST.map(hubIpcChannel).sort());
  });

  it('answers our window with its display role', async () => {
    expect(await window().invoke('hub:hello', {})).toMatchObject({ ok: true, result: { bridge: 'ipc', displayRole: 'dispatch' } });
  });

  it('refuses a window that is not ours, a foreign page, a subframe, and a destroyed frame', async () => {
    const stranger = new FakeIpcRenderer(ipcMain, new FakeWebContents('app://console/index.html'));
    expect(await stranger.invoke('hub:hello', {})).toMatchObject({ ok: false, error: { code: 'unauthorized' } });
    expect(await window('https://evil.example/').invoke('hub:hello', {})).toMatchObject({ ok: false, error: { code: 'unauthorized' } });
    const framed = window();
    framed.senderFrame = { url: 'app://console/index.html' }; // a different frame object than mainFrame
    expect(await framed.invoke('hub:hello', {})).toMatchObject({ ok: false, error: { code: 'unauthorized' } });
    expect(hub.sessionCount).toBe(0);
  });

  it('refuses extra arguments and bad params', async () => {
    const w = window();
    expect(await w.invoke('hub:getSettings', {}, 'extra')).toMatchObject({ ok: false, error: { code: 'invalid-params' } });
    expect(await w.invoke('hub:updateSettings', { theme: 'pink' })).toMatchObject({ ok: false, error: { code: 'invalid-params' } });
  });

  it('pushes updates to the subscribing window only, and ends its session when the page navigates or closes', async () => {
    const a = window();
    const b = window();
    const seenByA: unknown[] = [];
    const seenByB: unknown[] = [];
    a.on(HUB_IPC_UPDATE_CHANNEL, (_e, u) => seenByA.push(u));
    b.on(HUB_IPC_UPDATE_CHANNEL, (_e, u) => seenByB.push(u));
    await a.invoke('hub:subscribe', { query: { topic: 'connection' } });
    await b.invoke('hub:hello', {});
    await waitFor(() => seenByA.length === 1, 'the first snapshot');
    expect(seenByB).toHaveLength(0);
    expect(hub.sessionCount).toBe(2);
    a.contents.navigate('app://console/index.html'); // reload
    expect(hub.sessionCount).toBe(1);
    hub.connection.set({ ...hub.connection.value, status: 'online' });
    expect(seenByA).toHaveLength(1); // the old page's subscription did not follow the reload
    b.contents.destroy();
    expect(hub.sessionCount).toBe(0);
  });

  it('unbinding removes the handlers and closes the sessions', async () => {
    await window().invoke('hub:hello', {});
    unbind();
    expect(ipcMain.handlers.size).toBe(0);
    expect(hub.sessionCount).toBe(0);
    unbind = () => {};
  });
});

describe('window factory', () => {
  it('uses the secure defaults', () => {
    const options = secureWindowOptions('/app/preload/index.cjs');
    expect(options.webPreferences).toMatchObject({
      preload: '/app/preload/index.cjs',
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      webSecurity: true,
      webviewTag: false,
    });
    expect(options.show).toBe(false);
    expect(consoleUrl('video')).toBe('app://console/index.html?role=video');
    expect(consoleUrl('video', 'display-2779098405')).toBe('app://console/index.html?role=video&wall=display-2779098405');
    expect(isAppUrl(consoleUrl('map'))).toBe(true);
  });

  it('blocks navigation away, popups and webviews', () => {
    const listeners = new Map<string, (e: { preventDefault(): void; url: string }) => void>();
    let openHandler: ((d: { url: string }) => { action: 'deny' }) | undefined;
    lockNavigation(
      {
        on: (event: string, fn: (e: { preventDefault(): void; url: string }) => void) => listeners.set(event, fn),
        setWindowOpenHandler: (h: (d: { url: string }) => { action: 'deny' }) => (openHandler = h),
      } as never,
      silentLogger,
    );
    const attempt = (event: string, url: string): boolean => {
      let prevented = false;
      listeners.get(event)!({ url, preventDefault: () => (prevented = true) });
      return prevented;
    };
    expect(attempt('will-navigate', 'https://evil.example/')).toBe(true);
    expect(attempt('will-navigate', 'app://console/index.html#/kpi')).toBe(false);
    expect(attempt('will-redirect', 'file:///etc/passwd')).toBe(true);
    expect(attempt('will-attach-webview', 'app://console/')).toBe(true);
    expect(openHandler!({ url: 'app://console/x' })).toEqual({ action: 'deny' });
  });
});

describe('crash and hang recovery', () => {
  function fakeWindow() {
    const handlers = new Map<string, (...args: unknown[]) => void>();
    const webContents = {
      on: (e: string, fn: (...args: unknown[]) => void) => handlers.set(e, fn),
      reload: vi.fn(),
      forcefullyCrashRenderer: vi.fn(),
      isDestroyed: () => false,
    };
    const win = { webContents, on: (e: string, fn: () => void) => handlers.set(e, fn) } as unknown as RecoverableWindow;
    let now = 0;
    const timers = new Map<number, () => void>();
    let next = 1;
    const clock = {
      setTimeout: (fn: () => void) => {
        timers.set(next, fn);
        return next++;
      },
      clearTimeout: (h: unknown) => timers.delete(h as number),
      now: () => now,
    };
    const runTimers = (): void => {
      for (const [id, fn] of [...timers]) {
        timers.delete(id);
        fn();
      }
    };
    return { win, webContents, handlers, clock, runTimers, advance: (ms: number) => (now += ms), pending: () => timers.size };
  }

  it('reloads a crashed renderer, but not after a clean exit', () => {
    const f = fakeWindow();
    attachRecovery(f.win, 'w', silentLogger, f.clock);
    f.handlers.get('render-process-gone')!({}, { reason: 'clean-exit', exitCode: 0 });
    expect(f.pending()).toBe(0);
    f.handlers.get('render-process-gone')!({}, { reason: 'crashed', exitCode: 11 });
    f.runTimers();
    expect(f.webContents.reload).toHaveBeenCalledTimes(1);
  });

  it('stops reloading in a crash loop', () => {
    const f = fakeWindow();
    attachRecovery(f.win, 'w', silentLogger, f.clock);
    for (let i = 0; i < RECOVERY.maxCrashesPerWindow + 2; i++) {
      f.handlers.get('render-process-gone')!({}, { reason: 'oom', exitCode: 1 });
      f.advance(1000);
      f.runTimers();
    }
    expect(f.webContents.reload).toHaveBeenCalledTimes(RECOVERY.maxCrashesPerWindow);
  });

  it('kills and reloads a window that stays unresponsive, and forgives one that recovers', () => {
    const f = fakeWindow();
    attachRecovery(f.win, 'w', silentLogger, f.clock);
    f.handlers.get('unresponsive')!();
    f.handlers.get('responsive')!();
    f.runTimers();
    expect(f.webContents.forcefullyCrashRenderer).not.toHaveBeenCalled();
    f.handlers.get('unresponsive')!();
    f.handlers.get('unresponsive')!(); // repeated events do not stack timers
    expect(f.pending()).toBe(1);
    f.runTimers();
    expect(f.webContents.forcefullyCrashRenderer).toHaveBeenCalledTimes(1);
    expect(f.webContents.reload).toHaveBeenCalledTimes(1);
  });
});
