/**
 * A real nats-server (Debian's `nats-server` package) for tests and benches: 127.0.0.1 on a free port, its config
 * in a temp dir, a child of this process; stop / kill (SIGKILL) / restart on the same port for "the broker goes
 * away and returns" tests. With `user` and `password` it refuses clients without them.
 */
import { quoted, startRestartableServer, type RestartableServer } from './restartable-server';

export interface RunningNats extends RestartableServer {
  /** nats://127.0.0.1:port, with the user and password when the server requires them. */
  url: string;
}

export interface NatsOptions {
  user?: string;
  password?: string;
  /** The largest message the server accepts (bytes); nats-server's default is 1 MiB. */
  maxPayload?: number;
}

export async function startNats(options: NatsOptions = {}): Promise<RunningNats> {
  const server = await startRestartableServer({
    name: 'nats-server',
    binary: '/usr/sbin/nats-server',
    configName: 'nats.conf',
    config: (port) =>
      [
        `listen: ${quoted(`127.0.0.1:${port}`)}`,
        `max_payload: ${options.maxPayload ?? 1024 * 1024}`,
        ...(options.user ? [`authorization { user: ${quoted(options.user)}, password: ${quoted(options.password ?? '')} }`] : []),
      ].join('\n') + '\n',
    args: (config) => ['-c', config],
  });
  const auth = options.user ? `${encodeURIComponent(options.user)}:${encodeURIComponent(options.password ?? '')}@` : '';
  return Object.assign(server, { url: `nats://${auth}127.0.0.1:${server.port}` });
}
