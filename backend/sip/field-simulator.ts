/**
 * Simulated field staff for the demo: the field client page in auto-answer mode, run by a headless Chromium
 * (WebRTC needs a browser). It registers as SIMULATED_STAFF_USER; the demo's Kamailio sends it the calls for
 * staff who are not signed in, and it answers each one after a short ring with a generated picture (the
 * staff member's name, a clock) and a tone. Without Chromium the demo still runs: such calls get 404 and the
 * console says the staff member is not online.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnOwned, stopChild } from '../../node-util/child-process';

export interface FieldSimulator {
  readonly process: ChildProcess | null;
  stop(): Promise<void>;
}

interface Log {
  info(message: string, detail?: Record<string, unknown>): void;
  warn(message: string, detail?: Record<string, unknown>): void;
}

/**
 * Starts the headless simulated staff against `pageUrl` (credentials in the fragment, never sent to the server).
 * The URL is never on Chromium's command line (which every local user can read with `ps`): a launcher page in
 * the throwaway profile (a directory only this user can enter, the file mode 600) moves on to it.
 */
export function startFieldSimulator(options: { chromium: string; pageUrl: string; log: Log }): FieldSimulator {
  const profile = mkdtempSync(join(tmpdir(), 'zongzhi-field-sim-'));
  const launcher = join(profile, 'launch.html');
  writeFileSync(launcher, `<!doctype html><meta charset="utf-8"><script>location.replace(${JSON.stringify(options.pageUrl).replace(/</g, '\\u003c')});</script>`, { mode: 0o600 });
  let child: ChildProcess | null = null;
  let stopped = false;
  let restarts = 0;
  const launch = (): void => {
    const args = [
      '--headless=new',
      '--disable-gpu',
      '--no-first-run',
      '--no-default-browser-check',
      '--mute-audio',
      // On a loopback-only machine WebRTC gathers no candidates without this (calls connect with no media).
      '--allow-loopback-in-peer-connection',
      '--autoplay-policy=no-user-gesture-required',
      `--user-data-dir=${profile}`,
      ...(process.getuid?.() === 0 ? ['--no-sandbox'] : []),
      `file://${launcher}`,
    ];
    // SIGKILL when the backend dies: a throwaway profile, nothing to save, and Chromium's own helper processes
    // (zygotes, renderers, GPU) end with its browser process however it ends.
    child = spawnOwned(options.chromium, args, { stdio: 'ignore', parentDeathSignal: 'SIGKILL' });
    child.once('exit', (code, signal) => {
      if (stopped) return;
      options.log.warn('simulated field staff (headless Chromium) exited', { code, signal, restarts });
      if (restarts++ < 5) setTimeout(launch, 2000 * restarts).unref();
    });
  };
  launch();
  options.log.info('simulated field staff started (headless Chromium)', { url: options.pageUrl.split('#')[0] });
  return {
    get process() {
      return child;
    },
    async stop() {
      stopped = true;
      if (child) await stopChild(child, 3000);
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
