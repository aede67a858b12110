/**
 * A message broker (nats-server, redis-server) for tests and benches that can be stopped, killed and brought back
 * on the same port: what "the broker goes away and returns" tests need. The program runs on 127.0.0.1 with its
 * config and data in a temp dir, as a child of this process (parent-death signal), so it ends with the test run
 * however that ends. Shared by harness/nats.ts and harness/redis.ts.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, portOpen } from '../backend/ports';
import { spawnOwned, stopChild } from '../node-util/child-process';
import { makeTempDir } from './temp';

export interface RestartableServer {
  port: number;
  /** The running process's pid (for CPU figures from /proc); undefined while stopped. */
  readonly pid: number | undefined;
  /** Its last log lines, newest last, for failure messages. */
  readonly log: readonly string[];
  /** Ends it (SIGTERM, SIGKILL after 3 s) and removes its temp dir; restart() may still bring it back. */
  stop(): Promise<void>;
  /** SIGKILL, as a crash or a pulled plug: clients see their connections reset. Resolves once it has exited. */
  kill(): Promise<void>;
  /** Starts it again on the same port (stopping it first if it runs) and waits until it accepts connections. */
  restart(): Promise<void>;
}

export interface ServerSpec {
  name: string;
  binary: string;
  /** The config file's text for this port and data dir; written to `<dir>/<configName>` before each start. */
  config(port: number, dataDir: string): string;
  configName: string;
  /** The program's arguments given the config file's path. */
  args(configPath: string): string[];
}

export async function startRestartableServer(spec: ServerSpec): Promise<RestartableServer> {
  const port = await freePort();
  const temp = makeTempDir(`zongzhi-${spec.name}-`);
  let child: ChildProcess | null = null;
  const log: string[] = [];
  const keep = (chunk: string): void => {
    log.push(...chunk.split('\n').filter(Boolean));
    if (log.length > 200) log.splice(0, log.length - 200);
  };

  const start = async (): Promise<void> => {
    const dataDir = join(temp.dir, 'data');
    mkdirSync(dataDir, { recursive: true });
    const configPath = join(temp.dir, spec.configName);
    writeFileSync(configPath, spec.config(port, dataDir));
    // Nothing to save and no children of its own: SIGKILL when this process dies is certain.
    const started = spawnOwned(spec.binary, spec.args(configPath), { stdio: ['ignore', 'pipe', 'pipe'], parentDeathSignal: 'SIGKILL' });
    started.stdout!.setEncoding('utf8').on('data', keep);
    started.stderr!.setEncoding('utf8').on('data', keep);
    let spawnError: Error | null = null;
    started.once('error', (e) => (spawnError = e));
    child = started;
    const deadline = Date.now() + 10_000;
    while (!(await portOpen(port))) {
      if (spawnError || started.exitCode !== null || started.signalCode !== null || Date.now() > deadline) {
        started.kill('SIGKILL');
        child = null;
        const why = spawnError ? (spawnError as Error).message : log.slice(-5).join(' | ');
        throw new Error(`${spec.name} did not start on 127.0.0.1:${port}: ${why}`);
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  };

  const end = async (signal: 'SIGTERM' | 'SIGKILL'): Promise<void> => {
    const running = child;
    child = null;
    if (!running || running.exitCode !== null || running.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => running.once('exit', () => resolve()));
    if (signal === 'SIGKILL') running.kill('SIGKILL');
    else await stopChild(running, 3000);
    await exited;
  };

  try {
    await start();
  } catch (e) {
    temp.cleanup();
    throw e;
  }
  return {
    port,
    get pid() {
      return child?.pid;
    },
    log,
    async stop() {
      await end('SIGTERM');
      temp.cleanup();
    },
    kill: () => end('SIGKILL'),
    async restart() {
      await end('SIGTERM');
      // After stop() the temp dir is gone: start() makes it again.
      await start();
    },
  };
}

/** A value quoted for nats-server's and Redis's config syntax alike (both take "…"). */
export function quoted(value: string): string {
  if (/["\\\n\r]/.test(value)) throw new Error(`config value with quotes, backslashes or newlines not supported: ${JSON.stringify(value)}`);
  return `"${value}"`;
}
