/**
 * The browser host as a real child process (`host/cli.ts` under tsx, offline, with a small renderer dir):
 * for tests whose assertion is that the process survives what it is sent. From the sources rather than out/, so
 * the tests need no build and always test the code at hand; only the version constant the bundler defines is set.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { stopChild } from '../node-util/child-process';

const root = join(import.meta.dirname, '..');

export interface HostHealth {
  ok: boolean;
  sessions: number;
  subscriptions: number;
  refused: Record<string, number>;
}

export interface HostChild {
  url: string;
  origin: string;
  port: number;
  token: string;
  child: ChildProcess;
  /** Lines the host wrote to stderr (its JSON log), newest last. */
  log: string[];
  /** GET /healthz (throws when the host does not answer in 5 s). */
  health(): Promise<HostHealth>;
  /** The process's resident memory now, in MiB (0 once it has exited). */
  rssMb(): number;
  alive(): boolean;
  stop(): Promise<void>;
}

/** Starts the host with --no-backend on dataDir (seed it first for data) and a one-page renderer. */
export async function startHostChild(dataDir: string): Promise<HostChild> {
  const rendererDir = join(dataDir, 'renderer');
  mkdirSync(join(rendererDir, 'assets'), { recursive: true });
  writeFileSync(join(rendererDir, 'index.html'), '<!doctype html><title>综治</title>');
  writeFileSync(join(rendererDir, 'assets', 'app.js'), 'console.log(1)');
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', '--import', 'data:text/javascript,globalThis.__APP_VERSION__="test"', join(root, 'host/cli.ts'), '--json', '--no-backend', '--data-dir', dataDir, '--renderer-dir', rendererDir],
    { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const log: string[] = [];
  createInterface({ input: child.stderr! }).on('line', (line) => {
    log.push(line);
    if (log.length > 2000) log.shift();
  });
  const ready = await new Promise<{ url: string; port: number }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`host did not start in 30 s: ${log.slice(-5).join('\n')}`)), 30_000);
    child.once('exit', (code) => reject(new Error(`host exited with ${code}: ${log.slice(-5).join('\n')}`)));
    createInterface({ input: child.stdout! }).once('line', (line) => {
      clearTimeout(timer);
      resolve(JSON.parse(line) as { url: string; port: number });
    });
  });
  const url = new URL(ready.url);
  const alive = (): boolean => child.exitCode === null && child.signalCode === null;
  return {
    url: ready.url,
    origin: url.origin,
    port: ready.port,
    token: url.searchParams.get('token')!,
    child,
    log,
    alive,
    async health() {
      const res = await fetch(`${url.origin}/healthz`, { signal: AbortSignal.timeout(5000) });
      return (await res.json()) as HostHealth;
    },
    rssMb() {
      if (!alive()) return 0;
      try {
        return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;
      } catch {
        return 0;
      }
    },
    stop: () => stopChild(child),
  };
}
