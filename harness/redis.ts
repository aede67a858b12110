/**
 * A real redis-server (Debian's `redis-server` package) for benches and tests: 127.0.0.1 on a free port, no
 * persistence, its config and working dir in a temp dir, a child of this process; stop / kill (SIGKILL) /
 * restart on the same port. With `password` it refuses clients without it.
 */
import { quoted, startRestartableServer, type RestartableServer } from './restartable-server';

export interface RunningRedis extends RestartableServer {
  /** redis://127.0.0.1:port, with the password when the server requires one. */
  url: string;
}

export async function startRedis(options: { password?: string } = {}): Promise<RunningRedis> {
  const server = await startRestartableServer({
    name: 'redis-server',
    binary: '/usr/bin/redis-server',
    configName: 'redis.conf',
    config: (port, dataDir) =>
      [
        'bind 127.0.0.1',
        `port ${port}`,
        `dir ${quoted(dataDir)}`,
        'daemonize no',
        'save ""',
        'appendonly no',
        'logfile ""',
        ...(options.password ? [`requirepass ${quoted(options.password)}`] : []),
      ].join('\n') + '\n',
    args: (config) => [config],
  });
  const auth = options.password ? `:${encodeURIComponent(options.password)}@` : '';
  return Object.assign(server, { url: `redis://${auth}127.0.0.1:${server.port}` });
}
