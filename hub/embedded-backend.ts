/**
 * The embedded default: when no backend URL is configured, the console starts the reference backend and
 * simulator as a child process on 127.0.0.1 (its own process, so the simulator never competes with the hub
 * or a window for the event loop). Plain Node: Electron passes its own binary with ELECTRON_RUN_AS_NODE.
 * Keeping it running (restarts, back-off, giving up) is backend-supervisor.ts's job.
 */
import type { ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Logger } from '../node-util/logger';
import { spawnOwned, stopChild } from '../node-util/child-process';
import { EXIT_NEEDS_PERSON, parseRefusal } from '../node-util/backend-refusal';

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
  /** 迎检: the backend injects a scripted incident this often (minutes; backend --demo-loop). */
  demoLoopMinutes?: number;
  startTimeoutMs?: number;
}

export interface EmbeddedBackend {
  url: string;
  /** Tokens per user id, from the backend's tokens.json (kept in memory only). */
  tokens: Record<string, string>;
  process: ChildProcess;
  stop(): Promise<void>;
}

export const BACKEND_DB_FILE = 'backend.sqlite';
export const BACKEND_TOKENS_FILE = 'tokens.json';

/**
 * Why a start failed. `code`: the backend's refusal code (node-util/backend-refusal.ts), or 'not-built',
 * 'start-timeout', 'exited' (no refusal line: a crash or a signal). `needsPerson`: retrying cannot help.
 */
export class EmbeddedBackendError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly needsPerson: boolean,
    /** The file the failure is about (the database, the tokens), for the person who must look at it. */
    readonly path: string | null = null,
  ) {
    super(message);
    this.name = 'EmbeddedBackendError';
  }
}

/** The file a refusal code is about, in the backend's data dir. */
export function refusalPath(code: string, dataDir: string): string | null {
  if (code.startsWith('database-')) return join(dataDir, BACKEND_DB_FILE);
  if (code === 'tokens-unreadable') return join(dataDir, BACKEND_TOKENS_FILE);
  return null;
}

export async function startEmbeddedBackend(options: EmbeddedBackendOptions): Promise<EmbeddedBackend> {
  if (!existsSync(options.script)) throw new EmbeddedBackendError('not-built', `embedded backend not built: ${options.script} is missing (run npm run build)`, true);
  const dbFile = join(options.dataDir, BACKEND_DB_FILE);
  // A console's own machine records little for 复盘回放: at most 4 cameras nobody watches, within 4 GiB.
  const recording = ['--record-max', '4', '--recording-quota-gib', '4'];
  const args = [options.script, '--port', '0', '--db', dbFile, '--json', ...recording, ...(options.speed ? ['--speed', String(options.speed)] : []), ...(options.demoLoopMinutes ? ['--demo-loop', String(options.demoLoopMinutes)] : [])];
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
  let refusal: { code: string; message: string } | null = null;
  createInterface({ input: child.stderr! }).on('line', (line) => {
    if (stderr.length < 200) stderr.push(line);
    refusal = parseRefusal(line) ?? refusal;
    options.log.debug('embedded backend', { line });
  });
  // Every stderr line is read by 'close', which can come after 'exit' (the refusal line is the last one);
  // not waited for long, in case a descendant still holds one of the pipes.
  const closed = new Promise<void>((resolve) => {
    child.once('close', () => resolve());
    child.once('exit', () => setTimeout(resolve, 1000).unref());
  });
  const timeoutMs = options.startTimeoutMs ?? 60_000;
  const ready = await new Promise<{ url: string; tokensFile: string }>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill();
      reject(new EmbeddedBackendError('start-timeout', `embedded backend did not start within ${timeoutMs} ms: ${stderr.slice(-5).join(' | ')}`, false));
    }, timeoutMs);
    child.once('error', (e) => {
      clearTimeout(timer);
      reject(new EmbeddedBackendError('exited', `embedded backend could not be started: ${e.message}`, false));
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      void closed.then(() => {
        const said: { code: string; message: string } | null = refusal;
        if (said) reject(new EmbeddedBackendError(said.code, said.message, code === EXIT_NEEDS_PERSON, refusalPath(said.code, options.dataDir)));
        else reject(new EmbeddedBackendError('exited', `embedded backend exited (${signal ?? `code ${code}`}) while starting: ${stderr.slice(-5).join(' | ')}`, false));
      });
    });
    createInterface({ input: child.stdout! }).once('line', (line) => {
      clearTimeout(timer);
      try {
        resolve(JSON.parse(line) as { url: string; tokensFile: string });
      } catch {
        child.kill();
        reject(new EmbeddedBackendError('exited', `embedded backend printed an unexpected line: ${line}`, false));
      }
    });
  });
  let tokens: Record<string, string>;
  try {
    tokens = JSON.parse(readFileSync(ready.tokensFile, 'utf8')) as Record<string, string>;
  } catch (e) {
    child.kill();
    throw new EmbeddedBackendError('tokens-unreadable', `${ready.tokensFile}: ${(e as Error).message}`, true, ready.tokensFile);
  }
  // It said it was ready and died at once: the 'exit' came before whoever supervises us could listen for it.
  if (child.exitCode !== null || child.signalCode !== null) {
    throw new EmbeddedBackendError('exited', `embedded backend exited (${child.signalCode ?? `code ${child.exitCode}`}) right after starting`, false);
  }
  options.log.info('embedded backend ready', { url: ready.url, pid: child.pid });
  return {
    url: ready.url,
    tokens,
    process: child,
    stop: () => stopChild(child),
  };
}
