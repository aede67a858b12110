/**
 * A real PostgreSQL (Debian's `postgresql` package) for the tests: `initdb` into a temp dir and the server on
 * 127.0.0.1 with a free port and its socket in that dir — no system service. PostgreSQL refuses to run as root,
 * so when the tests run as root both run as the `postgres` user the package creates. The server is a child of
 * this process (parent-death signal): it ends with the test run however that ends.
 */
import { spawnSync, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { userInfo } from 'node:os';
import { freePort, portOpen } from '../backend/ports';
import { spawnOwned, stopChild } from '../node-util/child-process';
import { makeTempDir } from './temp';

export interface RunningPostgres {
  /** postgres://… for the `postgres` database; `databaseUrl(name)` for another. */
  url: string;
  port: number;
  /** The postmaster's pid (each connection is a child process of it). */
  pid: number;
  databaseUrl(name: string): string;
  /** Creates an empty database and answers its URL. */
  createDatabase(name: string): string;
  /** Stops the server (fast shutdown: clients cut off) and starts it again on the same port and data. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

/** The newest installed PostgreSQL's bin dir (Debian keeps them under /usr/lib/postgresql/<major>/bin), or null. */
export function postgresBinDir(): string | null {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return null;
  const majors = readdirSync(root).filter((d) => /^\d+$/.test(d)).sort((a, b) => Number(b) - Number(a));
  const dir = majors.map((m) => join(root, m, 'bin')).find((d) => existsSync(join(d, 'postgres')));
  return dir ?? null;
}

function runAs(): { uid: number; gid: number } | undefined {
  if (userInfo().uid !== 0) return undefined;
  const id = (flag: string): number => Number(spawnSync('id', [flag, 'postgres'], { encoding: 'utf8' }).stdout.trim());
  return { uid: id('-u'), gid: id('-g') };
}

export async function startPostgres(): Promise<RunningPostgres> {
  const bin = postgresBinDir();
  if (!bin) throw new Error('PostgreSQL is not installed (Debian package postgresql); scripts/test.sh installs it');
  const temp = makeTempDir('zongzhi-pg-');
  const data = join(temp.dir, 'data');
  const socketDir = join(temp.dir, 'socket');
  mkdirSync(socketDir);
  const user = runAs();
  if (user) for (const dir of [temp.dir, socketDir]) chownSync(dir, user.uid, user.gid);
  const init = spawnSync(join(bin, 'initdb'), ['-D', data, '-U', 'zongzhi', '--auth=trust', '-E', 'UTF8', '--locale=C.UTF-8', '--no-sync'], { encoding: 'utf8', ...user });
  if (init.status !== 0) {
    temp.cleanup();
    throw new Error(`initdb failed: ${init.stderr.trim().split('\n').slice(-3).join(' | ')}`);
  }
  const port = await freePort();
  const args = ['-D', data, '-p', String(port), '-k', socketDir, '-c', 'listen_addresses=127.0.0.1', '-c', 'fsync=off', '-c', 'max_connections=200'];
  const launch = async (): Promise<ChildProcess> => {
    const server: ChildProcess = spawnOwned(join(bin, 'postgres'), args, { stdio: ['ignore', 'ignore', 'pipe'], parentDeathSignal: 'SIGTERM', ...user });
    const log: string[] = [];
    server.stderr?.on('data', (chunk: Buffer) => log.push(chunk.toString()));
    const deadline = Date.now() + 20_000;
    while (!(await portOpen(port))) {
      if (server.exitCode !== null || Date.now() > deadline) {
        await stopChild(server);
        throw new Error(`PostgreSQL did not start: ${log.join('').trim().split('\n').slice(-3).join(' | ')}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    return server;
  };
  let server: ChildProcess;
  try {
    server = await launch();
  } catch (e) {
    temp.cleanup();
    throw e;
  }
  const databaseUrl = (name: string): string => `postgres://zongzhi@127.0.0.1:${port}/${name}`;
  return {
    url: databaseUrl('postgres'),
    port,
    pid: server.pid!,
    databaseUrl,
    createDatabase(name) {
      const made = spawnSync(join(bin, 'createdb'), ['-h', '127.0.0.1', '-p', String(port), '-U', 'zongzhi', name], { encoding: 'utf8' });
      if (made.status !== 0) throw new Error(`createdb ${name} failed: ${made.stderr.trim()}`);
      return databaseUrl(name);
    },
    async restart() {
      // SIGINT: PostgreSQL's fast shutdown (clients are disconnected, like a real restart).
      server.kill('SIGINT');
      await stopChild(server, 10_000);
      server = await launch();
    },
    async stop() {
      await stopChild(server, 10_000);
      rmSync(temp.dir, { recursive: true, force: true });
    },
  };
}
