/**
 * The embedded default: when no backend URL is configured, the console starts the reference backend and
 * simulator as a child process on 127.0.0.1 (its own process, so the simulator never competes with the hub
 * or a window for the event loop). Plain Node: Electron passes its own binary with ELECTRON_RUN_AS_NODE.
 */
import type { ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Logger } from '../../common/logger';
import { spawnOwned } from '../../common/child-process';

export interface EmbeddedBackendOptions {
  /** out/main/backend.js */
  script: string;
  /** Where the backend keeps its database and tokens (a folder of the hub's data dir). */
  dataDir: string;
  log: Logger;
  /** The Node binary; in Electron its own executable with ELECTRON_RUN_AS_NODE=1. */
  execPath?: string;
  env?: NodeJS.ProcessEnv;
  /** Simulated clock rate for demos. */
  speed?: number;
  startTimeoutMs?: number;
}

export interface EmbeddedBackend {
  url: string;
  /** Tokens per user id, from the backend's tokens.json (kept in memory only). */
  tokens: Record<string, string>;
  process: ChildProcess;
  stop(): Promise<void>;
}

export async function startEmbeddedBackend(options: EmbeddedBackendOptions): Promise<EmbeddedBackend> {
  if (!existsSync(options.script)) throw new Error(`embedded backend not built: ${options.script} is missing (run npm run build)`);
  const dbFile = join(options.dataDir, 'backend.sqlite');
  const args = [options.script, '--port', '0', '--db', dbFile, '--json', ...(options.speed ? ['--speed', String(options.speed)] : [])];
  // Ends with the console however the console ends: SIGTERM on Linux (the backend then stops its Kamailio,
  // encoders and simulated staff itself), and on every platform the IPC channel, whose end the backend
  // watches (backend/cli.ts). Nothing is sent over it.
  const child = spawnOwned(options.execPath ?? process.execPath, args, {
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    env: options.env ?? process.env,
    parentDeathSignal: 'SIGTERM',
  });
  // The channel must not keep the console's own process alive once everything else has stopped.
  child.channel?.unref();
  const stderr: string[] = [];
  createInterface({ input: child.stderr! }).on('line', (line) => {
    if (stderr.length < 200) stderr.push(line);
    options.log.debug('embedded backend', { line });
  });
  const ready = await new Promise<{ url: string; tokensFile: string }>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill();
      reject(new Error(`embedded backend did not start within ${options.startTimeoutMs ?? 60_000} ms`));
    }, options.startTimeoutMs ?? 60_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`embedded backend exited with code ${code}: ${stderr.slice(-5).join(' | ')}`));
    });
    createInterface({ input: child.stdout! }).once('line', (line) => {
      clearTimeout(timer);
      try {
        resolve(JSON.parse(line) as { url: string; tokensFile: string });
      } catch {
        reject(new Error(`embedded backend printed an unexpected line: ${line}`));
      }
    });
  });
  const tokens = JSON.parse(readFileSync(ready.tokensFile, 'utf8')) as Record<string, string>;
  options.log.info('embedded backend ready', { url: ready.url, pid: child.pid });
  return {
    url: ready.url,
    tokens,
    process: child,
    stop: () =>
      new Promise<void>((resolve) => {
        // A process ended by a signal has signalCode set and exitCode null: both mean it is gone.
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
        setTimeout(() => child.kill('SIGKILL'), 5000).unref();
      }),
  };
}

/**
 * Keeps the embedded backend running: started now, and restarted (after a pause) if it ever exits on its
 * own, each time handing the new address and tokens to `onReady`. A wall must not stay offline because a
 * child process died.
 */
export function superviseEmbeddedBackend(
  options: EmbeddedBackendOptions,
  onReady: (backend: EmbeddedBackend) => void,
  onFailed: (error: Error) => void,
  restartDelayMs = 2000,
): { stop(): Promise<void> } {
  let current: EmbeddedBackend | null = null;
  let stopping = false;
  let timer: NodeJS.Timeout | null = null;
  const launch = (): void => {
    startEmbeddedBackend(options).then(
      (backend) => {
        if (stopping) {
          void backend.stop();
          return;
        }
        current = backend;
        backend.process.once('exit', (code, signal) => {
          if (stopping) return;
          options.log.error('embedded backend exited; restarting it', { code, signal });
          onFailed(new Error(`embedded backend exited (${signal ?? code})`));
          timer = setTimeout(launch, restartDelayMs);
        });
        onReady(backend);
      },
      (e: unknown) => {
        onFailed(e as Error);
        if (!stopping) timer = setTimeout(launch, restartDelayMs * 5);
      },
    );
  };
  launch();
  return {
    async stop() {
      stopping = true;
      if (timer) clearTimeout(timer);
      await current?.stop();
    },
  };
}
