/**
 * The reference backend as a real child process (`backend/cli.ts` under tsx): for the tests whose assertion
 * is that the process survives what it is sent, and for its exit codes on bad data.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { stopChild } from '../node-util/child-process';

const root = join(import.meta.dirname, '..');
const cli = join(root, 'backend/cli.ts');

export interface BackendProcess {
  url: string;
  httpUrl: string;
  port: number;
  tokens: Record<string, string>;
  child: ChildProcess;
  /** Lines the backend wrote to stderr (its JSON log), newest last. */
  log: string[];
  /** The process is still running and answers /healthz; its RSS in bytes. */
  health(): Promise<{ ok: boolean; rss: number; seq: number; sessions: number }>;
  stop(): Promise<void>;
}

/**
 * The arguments (after `node`) that run the backend on a free port with its database at `db`, printing one JSON
 * ready line: what every test and benchmark that starts the backend as a child process uses. `[4]` is the port.
 */
export function backendArgs(db: string, extra: readonly string[] = []): string[] {
  return ['--import', 'tsx', cli, '--port', '0', '--db', db, '--json', ...extra];
}

/**
 * Starts the backend on a free port with its data in `dir` (or on the PostgreSQL at `db`, its tokens file in
 * `dir`); resolves when it says it is listening.
 */
export async function startBackendProcess(dir: string, extra: string[] = [], db?: string): Promise<BackendProcess> {
  const where = db ? ['--tokens-file', join(dir, 'tokens.json')] : [];
  const child = spawn(process.execPath, backendArgs(db ?? join(dir, 'backend.sqlite'), ['--history-days', '1', '--no-sim', '--sip', 'off', ...where, ...extra]), {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
    // No camera recording (its pinned encoders) unless a test asks for it (ZONGZHI_RECORDING=on in its environment).
    env: { ZONGZHI_RECORDING: 'off', ...process.env },
  });
  const log: string[] = [];
  createInterface({ input: child.stderr! }).on('line', (line) => {
    log.push(line);
    if (log.length > 2000) log.shift();
  });
  const ready = await new Promise<{ url: string; port: number; tokensFile: string }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`backend did not start: ${log.slice(-5).join('\n')}`)), 60_000);
    child.once('exit', (code) => reject(new Error(`backend exited with ${code}: ${log.slice(-5).join('\n')}`)));
    createInterface({ input: child.stdout! }).once('line', (line) => {
      clearTimeout(timer);
      resolve(JSON.parse(line) as { url: string; port: number; tokensFile: string });
    });
  });
  const httpUrl = `http://127.0.0.1:${ready.port}`;
  return {
    url: ready.url,
    httpUrl,
    port: ready.port,
    tokens: JSON.parse(readFileSync(ready.tokensFile, 'utf8')) as Record<string, string>,
    child,
    log,
    async health() {
      if (child.exitCode !== null || child.signalCode !== null) return { ok: false, rss: 0, seq: 0, sessions: 0 };
      const res = await fetch(`${httpUrl}/healthz`, { signal: AbortSignal.timeout(5000) });
      return (await res.json()) as { ok: boolean; rss: number; seq: number; sessions: number };
    },
    stop: () => stopChild(child),
  };
}

/** Runs the backend until it exits by itself (a refused start): its exit code and stderr. */
export function runBackendToExit(dir: string, extra: string[] = []): { status: number | null; stderr: string } {
  const result = spawnSync(process.execPath, backendArgs(join(dir, 'backend.sqlite'), ['--history-days', '1', '--no-sim', '--sip', 'off', ...extra]), {
    cwd: root,
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { status: result.status, stderr: result.stderr };
}
