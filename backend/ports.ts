/** Local TCP ports for the servers the backend runs beside itself (Kamailio, Janus): all on 127.0.0.1. */
import type { ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { spawnOwned, stopChild } from '../node-util/child-process';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

export function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ port, host: '127.0.0.1' });
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
  });
}

export interface LocalServerProcess {
  process: ChildProcess;
  /** Its log lines (stdout and stderr as asked), newest last, for failures. */
  log: string[];
  /** SIGTERM, SIGKILL after 3 s, then its runtime directory removed. */
  stop(): Promise<void>;
}

/**
 * Runs a server we configure ourselves (Kamailio, Janus) from its runtime directory and waits until it accepts
 * connections on 127.0.0.1:port; one that exits or stays closed is killed and its directory removed.
 */
export async function startLocalServer(options: { name: string; binary: string; args: string[]; port: number; dir: string; logStdout?: boolean; startMs?: number }): Promise<LocalServerProcess> {
  // SIGTERM when the backend dies: Kamailio takes its worker processes down only then (SIGKILL orphans them).
  const child = spawnOwned(options.binary, options.args, { stdio: ['ignore', options.logStdout ? 'pipe' : 'ignore', 'pipe'], parentDeathSignal: 'SIGTERM' });
  const log: string[] = [];
  const keep = (chunk: string): void => {
    log.push(...chunk.split('\n').filter(Boolean));
    if (log.length > 400) log.splice(0, log.length - 400);
  };
  child.stdout?.setEncoding('utf8').on('data', keep);
  child.stderr!.setEncoding('utf8').on('data', keep);
  const deadline = Date.now() + (options.startMs ?? 10_000);
  while (!(await portOpen(options.port))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      rmSync(options.dir, { recursive: true, force: true });
      throw new Error(`${options.name} did not start: ${log.slice(-15).join('\n')}`);
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  return {
    process: child,
    log,
    async stop() {
      await stopChild(child, 3000);
      rmSync(options.dir, { recursive: true, force: true });
    },
  };
}
