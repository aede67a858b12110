/**
 * One window factory with secure defaults, plus crash/hang recovery. The electron pieces are injected
 * (structural types) so the security rules are unit-tested with fakes where no Electron binary exists.
 */
import type { BrowserWindowConstructorOptions } from 'electron';
import type { DisplayRole } from '../protocol';
import type { Logger } from '../hub';
import { isSameOrigin } from '../web-serving/origin';

export const APP_SCHEME = 'app';
export const APP_ORIGIN = `${APP_SCHEME}://console`;

/** A console window's address: its role, and its wall name when it has one (what its video wall remembers). */
export function consoleUrl(role: DisplayRole, wall?: string): string {
  return `${APP_ORIGIN}/index.html?role=${role}${wall ? `&wall=${encodeURIComponent(wall)}` : ''}`;
}

export function secureWindowOptions(preloadPath: string, bounds?: { x: number; y: number; width: number; height: number }): BrowserWindowConstructorOptions {
  return {
    ...(bounds ?? { width: 1920, height: 1080 }),
    show: false,
    backgroundColor: '#0a1324', // the theme's background: no white flash on the big screen
    autoHideMenuBar: true,
    title: '综治指挥调度台',
    webPreferences: {
      preload: preloadPath,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      spellcheck: false,
      navigateOnDragDrop: false,
      // Alarms must sound on an unattended wall, before anyone clicked.
      autoplayPolicy: 'no-user-gesture-required',
    },
  };
}

/** Structural slice of WebContents used by the lock and recovery code. */
export interface LockableWebContents {
  on(event: 'will-navigate' | 'will-redirect', listener: (event: { preventDefault(): void; url: string }) => void): unknown;
  on(event: 'will-attach-webview', listener: (event: { preventDefault(): void }) => void): unknown;
  setWindowOpenHandler(handler: (details: { url: string }) => { action: 'deny' }): void;
}

export function isAppUrl(url: string): boolean {
  return isSameOrigin(url, APP_ORIGIN);
}

/** Windows can only show our own pages: no navigation away, no popups, no webviews. */
export function lockNavigation(contents: LockableWebContents, log: Logger): void {
  const guard = (event: { preventDefault(): void; url: string }): void => {
    if (!isAppUrl(event.url)) {
      event.preventDefault();
      log.warn('blocked navigation away from the console', { url: event.url });
    }
  };
  contents.on('will-navigate', guard);
  contents.on('will-redirect', guard);
  contents.on('will-attach-webview', (event) => event.preventDefault());
  contents.setWindowOpenHandler(({ url }) => {
    log.warn('blocked window.open', { url });
    return { action: 'deny' };
  });
}

export interface RecoverableWindow {
  readonly webContents: {
    on(event: 'render-process-gone', listener: (event: unknown, details: { reason: string; exitCode: number }) => void): unknown;
    reload(): void;
    forcefullyCrashRenderer(): void;
    isDestroyed(): boolean;
  };
  on(event: 'unresponsive' | 'responsive', listener: () => void): unknown;
}

export interface RecoveryTimers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
  now(): number;
}

export const RECOVERY = {
  /** Give a hung renderer this long before killing and reloading it. */
  unresponsiveGraceMs: 10_000,
  /** Crashes within this window count together; past the limit we stop reloading (a crash loop). */
  crashWindowMs: 60_000,
  maxCrashesPerWindow: 3,
} as const;

/**
 * A crashed renderer is reloaded (a wall must not stay black); a hung one gets a grace period, then is killed
 * and reloaded. A crash loop stops after a few tries so the log, not the CPU, tells the story.
 */
export function attachRecovery(
  win: RecoverableWindow,
  label: string,
  log: Logger,
  timers: RecoveryTimers = { setTimeout: (f, ms) => setTimeout(f, ms), clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout), now: Date.now },
): void {
  const crashes: number[] = [];
  let hangTimer: unknown = null;

  win.webContents.on('render-process-gone', (_event, details) => {
    if (details.reason === 'clean-exit') return;
    const now = timers.now();
    crashes.push(now);
    while (crashes.length && now - crashes[0]! > RECOVERY.crashWindowMs) crashes.shift();
    if (crashes.length > RECOVERY.maxCrashesPerWindow) {
      log.error('renderer keeps crashing; not reloading again', { window: label, ...details, crashes: crashes.length });
      return;
    }
    log.error('renderer gone; reloading', { window: label, ...details });
    timers.setTimeout(() => {
      if (!win.webContents.isDestroyed()) win.webContents.reload();
    }, 1000 * crashes.length);
  });

  win.on('unresponsive', () => {
    log.warn('window unresponsive', { window: label });
    if (hangTimer !== null) return;
    hangTimer = timers.setTimeout(() => {
      hangTimer = null;
      if (win.webContents.isDestroyed()) return;
      log.error('window still unresponsive; killing and reloading its renderer', { window: label });
      win.webContents.forcefullyCrashRenderer();
      win.webContents.reload();
    }, RECOVERY.unresponsiveGraceMs);
  });
  win.on('responsive', () => {
    if (hangTimer !== null) {
      timers.clearTimeout(hangTimer);
      hangTimer = null;
      log.info('window responsive again', { window: label });
    }
  });
}
