/**
 * Electron main: lifecycle, single instance, windows, IPC binding. Thin by design: the hub does the work and
 * is plain Node, so everything but this file and preload/ runs and is tested outside Electron.
 */
import { app, BrowserWindow, ipcMain, protocol, screen, session, type Display } from 'electron';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DisplayRole, mapSourceOrigins, validate } from '../protocol';
import { buildContentSecurityPolicy } from '../web-serving/csp';
import { Hub, linkConfigured, consoleMediaOrigins, createLogger, runEmbeddedBackend } from '../hub';
import { safeStorageKeeper } from './session-keeper';
import { bindHubIpc } from './ipc';
import { isAttachmentUrl, respondFromRendererDir, respondWithAttachment } from './app-protocol';
import { APP_ORIGIN, APP_SCHEME, attachRecovery, consoleUrl, isAppUrl, lockNavigation, secureWindowOptions } from './windows';
import { loadLayout, planForNewDisplay, wallOfDisplay, restorePlans, roleFromUrl, saveLayout, type DisplayInfo, type SavedWindow, type WindowPlan } from './display-layout';

const here = fileURLToPath(new URL('.', import.meta.url));
const preloadPath = join(here, '../preload/index.cjs');
const rendererDir = join(here, '../renderer');
const log = createLogger('main');

// Must happen before "ready": app:// behaves like https (secure context, fetch, workers) for our pages only.
protocol.registerSchemesAsPrivileged([
  { scheme: APP_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true, stream: true, codeCache: true } },
]);

/** Permissions the console needs: microphone/camera for calls, notifications for alarms, fullscreen for walls. */
const ALLOWED_PERMISSIONS = new Set(['media', 'notifications', 'fullscreen']);

if (!app.requestSingleInstanceLock()) {
  // Another console already runs on this machine: it owns the hub and the cache. Hand over and leave.
  app.quit();
} else {
  const windowRoles = new Map<number, DisplayRole>();
  /** Each window's wall name (display-layout.ts): its video wall's memory, kept with the window across restarts. */
  const windowWalls = new Map<number, string>();
  let hub: Hub | null = null;
  let unbindIpc: (() => void) | null = null;
  let quitting = false;

  const displayInfo = (d: Display): DisplayInfo => ({ id: d.id, label: d.label, bounds: d.bounds, workArea: d.workArea, primary: d.id === screen.getPrimaryDisplay().id });

  /** What each window shows, where: written when a window moves, resizes, changes fullscreen or workspace. */
  const currentLayout = (): SavedWindow[] =>
    BrowserWindow.getAllWindows()
      .filter((win) => !win.isDestroyed() && windowRoles.has(win.webContents.id))
      .map((win) => {
        const bounds = win.getNormalBounds();
        const display = screen.getDisplayMatching(bounds);
        return {
          displayId: display.id,
          displayLabel: display.label,
          displaySize: [display.bounds.width, display.bounds.height],
          role: roleFromUrl(win.webContents.getURL(), windowRoles.get(win.webContents.id)!),
          bounds,
          fullscreen: win.isFullScreen(),
          kiosk: win.isKiosk(),
          ...(windowWalls.has(win.webContents.id) ? { wall: windowWalls.get(win.webContents.id)! } : {}),
        };
      });
  let saveTimer: ReturnType<typeof setTimeout> | null = null;
  const persistLayout = (): void => {
    if (quitting) return;
    if (saveTimer) clearTimeout(saveTimer);
    saveTimer = setTimeout(() => {
      saveTimer = null;
      try {
        saveLayout(app.getPath('userData'), { version: 1, windows: currentLayout() });
      } catch (e) {
        log.warn('could not save the wall layout', { error: String(e) });
      }
    }, 1000);
  };

  const createConsoleWindow = (plan: WindowPlan): BrowserWindow => {
    const win = new BrowserWindow({ ...secureWindowOptions(preloadPath, plan.bounds), fullscreen: plan.fullscreen, kiosk: plan.kiosk });
    const contentsId = win.webContents.id;
    windowRoles.set(contentsId, plan.role);
    windowWalls.set(contentsId, plan.wall);
    win.on('closed', () => {
      windowRoles.delete(contentsId);
      windowWalls.delete(contentsId);
      persistLayout(); // a wall closed on purpose stays closed next time (not while quitting: see before-quit)
    });
    win.on('moved', persistLayout);
    win.on('resized', persistLayout);
    win.on('enter-full-screen', persistLayout);
    win.on('leave-full-screen', persistLayout);
    win.webContents.on('did-navigate-in-page', persistLayout);
    attachRecovery(win, `${plan.role}#${contentsId}`, log);
    win.once('ready-to-show', () => win.show());
    void win.loadURL(consoleUrl(plan.role, plan.wall));
    return win;
  };

  let embedded: { stop(): Promise<void> } | null = null;
  const startEmbedded = (target: Hub): void => {
    embedded = runEmbeddedBackend(target, {
      script: join(here, 'backend.js'),
      dataDir: join(app.getPath('userData'), 'backend'),
      log,
      // Electron's own binary runs the backend as plain Node.
      execPath: process.execPath,
      env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' },
    });
  };

  // WebRTC between this machine's own ends (the embedded Kamailio's simulated staff, a call's picture relayed
  // to the video wall window) must work with the network down: loopback candidates allowed.
  app.commandLine.appendSwitch('allow-loopback-in-peer-connection');

  app.on('second-instance', () => {
    const [first] = BrowserWindow.getAllWindows();
    if (first) {
      if (first.isMinimized()) first.restore();
      first.focus();
    }
  });

  app.on('web-contents-created', (_event, contents) => lockNavigation(contents, log));

  app.whenReady().then(
    () => {
      hub = new Hub({ dataDir: app.getPath('userData'), version: app.getVersion(), log: createLogger('hub'), sessionKeeper: safeStorageKeeper(app.getPath('userData')) });
      if (hub.settings.startupNotice) log.warn('settings file unusable, defaults in use', { ...hub.settings.startupNotice });
      const configured = hub.settings.settings.value.backendUrl;
      if (configured) {
        linkConfigured(hub, app.getPath('userData'), configured);
      } else startEmbedded(hub);
      const hubForCsp = hub;
      protocol.handle(APP_SCHEME, (request) =>
        isAttachmentUrl(request.url)
          ? respondWithAttachment(hubForCsp.attachments, request)
          : respondFromRendererDir(rendererDir, request.url, () =>
              buildContentSecurityPolicy({ mapOrigins: mapSourceOrigins(hubForCsp.settings.settings.value.map), mediaOrigins: consoleMediaOrigins(hubForCsp) }),
            ),
      );
      session.defaultSession.setPermissionRequestHandler((contents, permission, callback) => {
        callback(ALLOWED_PERMISSIONS.has(permission) && isAppUrl(contents.getURL()));
      });
      unbindIpc = bindHubIpc({
        ipcMain,
        hub,
        trustedOrigin: APP_ORIGIN,
        roleOf: (contents) => windowRoles.get(contents.id) ?? null,
      });
      const displays = screen.getAllDisplays().map(displayInfo);
      // ZONGZHI_ROLE opens a single window of that role (one-screen setups, testing); otherwise the saved wall layout.
      const requested = process.env.ZONGZHI_ROLE ? validate(DisplayRole, process.env.ZONGZHI_ROLE) : null;
      const primary = displays.find((d) => d.primary) ?? displays[0];
      const restored = requested?.ok && primary
        ? { plans: [{ role: requested.value, displayId: primary.id, bounds: primary.workArea, fullscreen: false, kiosk: false, wall: wallOfDisplay(primary.id) }], notes: [] }
        : restorePlans(loadLayout(app.getPath('userData'), log), displays);
      for (const note of restored.notes) log.warn(note);
      for (const plan of restored.plans) createConsoleWindow(plan);
      // A display plugged in while the console runs gets the first wall not yet on screen.
      screen.on('display-added', (_event, display) => {
        const open = [...windowRoles.values()];
        createConsoleWindow(planForNewDisplay(displayInfo(display), open));
      });
    },
    (e: unknown) => {
      log.error('startup failed', { error: String(e) });
      app.exit(1);
    },
  );

  // A console has no dock life of its own: closing the last window ends it on every platform.
  app.on('window-all-closed', () => app.quit());
  app.on('before-quit', () => {
    // Keep the layout as it is now, before the windows close one by one.
    if (!quitting) {
      try {
        saveLayout(app.getPath('userData'), { version: 1, windows: currentLayout() });
      } catch (e) {
        log.warn('could not save the wall layout', { error: String(e) });
      }
    }
    quitting = true;
    unbindIpc?.();
    hub?.close();
    void embedded?.stop();
  });
}
