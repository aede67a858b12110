/**
 * A TCP proxy on 127.0.0.1 that the fault tests control: cut every connection, refuse new ones, hold one
 * direction (data queued, lost on cut), add latency, limit bandwidth, and point at another port.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';

interface Pipe {
  client: Socket;
  upstream: Socket;
}

export class TcpProxy {
  private readonly server: Server;
  private readonly pipes = new Set<Pipe>();
  private blocked = false;
  /** Hold server→client data (queued; a cut drops it). */
  holdDownstream = false;
  latencyMs = 0;
  /** Server→client bytes per second; 0 = unlimited. */
  bytesPerSecond = 0;
  port = 0;
  connections = 0;

  private constructor(public targetPort: number) {
    this.server = createServer((client) => this.accept(client));
  }

  static async start(targetPort: number): Promise<TcpProxy> {
    const proxy = new TcpProxy(targetPort);
    await new Promise<void>((resolve) => proxy.server.listen(0, '127.0.0.1', () => resolve()));
    proxy.port = (proxy.server.address() as { port: number }).port;
    return proxy;
  }

  get url(): string {
    return `ws://127.0.0.1:${this.port}/ws`;
  }

  private accept(client: Socket): void {
    if (this.blocked) {
      client.destroy();
      return;
    }
    this.connections++;
    const upstream = connect(this.targetPort, '127.0.0.1');
    const pipe = { client, upstream };
    this.pipes.add(pipe);
    const end = (): void => {
      client.destroy();
      upstream.destroy();
      this.pipes.delete(pipe);
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
    client.on('data', (chunk) => this.forward(upstream, chunk, 0));
    let backlogUntil = 0;
    const held: Buffer[] = [];
    upstream.on('data', (chunk) => {
      if (this.holdDownstream) {
        held.push(chunk);
        const release = setInterval(() => {
          if (this.holdDownstream || client.destroyed) return;
          clearInterval(release);
          for (const c of held.splice(0)) this.forward(client, c, 0);
        }, 10);
        return;
      }
      const now = Date.now();
      const transfer = this.bytesPerSecond > 0 ? (chunk.length / this.bytesPerSecond) * 1000 : 0;
      backlogUntil = Math.max(backlogUntil, now) + transfer;
      this.forward(client, chunk, backlogUntil - now + this.latencyMs);
    });
  }

  private forward(to: Socket, chunk: Buffer, delayMs: number): void {
    if (delayMs <= 0) {
      if (!to.destroyed) to.write(chunk);
      return;
    }
    setTimeout(() => {
      if (!to.destroyed) to.write(chunk);
    }, delayMs);
  }

  /** Drops every open connection (both sides), losing anything held or in flight. */
  cut(): void {
    for (const pipe of this.pipes) {
      pipe.client.destroy();
      pipe.upstream.destroy();
    }
    this.pipes.clear();
  }

  /** Refuses new connections (and cuts the open ones): the backend looks unreachable. */
  block(): void {
    this.blocked = true;
    this.cut();
  }

  unblock(): void {
    this.blocked = false;
  }

  get openConnections(): number {
    return this.pipes.size;
  }

  async close(): Promise<void> {
    this.cut();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
