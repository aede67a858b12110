/**
 * Janus (Debian's `janus`) as the WebRTC media server for camera streams: a runner that starts it from the
 * project's own minimal config (streaming plugin, HTTP API on 127.0.0.1, an API secret so only the backend
 * drives it), and a small client of its HTTP API. Janus ignores loopback for ICE: on a machine whose only
 * interface is loopback it gathers no candidates, so the tests and the bench run it inside a network
 * namespace with a veth pair (harness/netns.ts).
 */
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { freePort, startLocalServer } from '../ports';

export const JANUS_BINARY = process.env.JANUS_PATH ?? '/usr/bin/janus';
const STREAMING = 'janus.plugin.streaming';

/** Where Debian puts Janus's plugins and transports (/usr/lib/<multiarch>/janus). */
function janusLibDir(): string | null {
  for (const base of ['/usr/lib', '/usr/local/lib']) {
    if (existsSync(join(base, 'janus/plugins'))) return join(base, 'janus');
    if (!existsSync(base)) continue;
    for (const entry of readdirSync(base)) if (existsSync(join(base, entry, 'janus/plugins/libjanus_streaming.so'))) return join(base, entry, 'janus');
  }
  return null;
}

export interface RunningJanus {
  /** http://127.0.0.1:PORT/janus — its HTTP API (for the backend only: it needs the API secret). */
  url: string;
  port: number;
  apiSecret: string;
  process: ChildProcess;
  log: string[];
  stop(): Promise<void>;
}

/** Every library in `dir` but the ones kept, as Janus's comma-separated `disable` list. */
function disableAllBut(dir: string, keep: string): string {
  return readdirSync(dir)
    .filter((f) => /^libjanus_\w+\.so$/.test(f) && f !== keep)
    .join(',');
}

/** Starts Janus with only the streaming plugin and the HTTP transport on 127.0.0.1 (a free port). */
export async function startJanus(options: {
  binary?: string;
  rtpPortRange?: string;
  /** Only these interfaces (name prefixes, comma-separated) for ICE; default all but loopback. */
  iceInterfaces?: string;
  /** The HTTP API's port and secret (a restart where the backend expects it); default a free port, a new secret. */
  port?: number;
  apiSecret?: string;
} = {}): Promise<RunningJanus> {
  const binary = options.binary ?? JANUS_BINARY;
  const lib = janusLibDir();
  if (!existsSync(binary) || !lib) throw new Error(`Janus not found at ${binary}: apt-get install janus`);
  const port = options.port ?? (await freePort());
  const apiSecret = options.apiSecret ?? randomBytes(18).toString('base64url');
  if (!/^[\w-]{8,128}$/.test(apiSecret)) throw new Error('the Janus API secret must be 8–128 letters, digits, _ or -');
  const dir = mkdtempSync(join(tmpdir(), 'zongzhi-janus-'));
  writeFileSync(
    join(dir, 'janus.jcfg'),
    `general: {
  configs_folder = "${dir}"
  plugins_folder = "${lib}/plugins"
  transports_folder = "${lib}/transports"
  events_folder = "${lib}/events"
  loggers_folder = "${lib}/loggers"
  debug_level = 3
  server_name = "zongzhi-janus"
  session_timeout = 60
  api_secret = "${apiSecret}"
}
media: {
  rtp_port_range = "${options.rtpPortRange ?? '40000-49999'}"
}
nat: {
  ice_ignore_list = "vmnet"${options.iceInterfaces ? `\n  ice_enforce_list = "${options.iceInterfaces.replace(/[^\w,.-]/g, '')}"` : ''}
}
plugins: {
  disable = "${disableAllBut(join(lib, 'plugins'), 'libjanus_streaming.so')}"
}
transports: {
  disable = "${disableAllBut(join(lib, 'transports'), 'libjanus_http.so')}"
}
events: {
  broadcast = false
}
`,
  );
  writeFileSync(
    join(dir, 'janus.transport.http.jcfg'),
    `general: {
  json = "plain"
  base_path = "/janus"
  http = true
  port = ${port}
  ip = "127.0.0.1"
  https = false
}
admin: {
  admin_http = false
}
`,
  );
  // No mountpoints in the config: the backend creates one per camera when someone watches it.
  writeFileSync(join(dir, 'janus.plugin.streaming.jcfg'), 'general: {\n}\n');
  const server = await startLocalServer({ name: 'Janus', binary, port, dir, args: ['-F', dir, '-o'], logStdout: true, startMs: 15_000 });
  return { url: `http://127.0.0.1:${port}/janus`, port, apiSecret, ...server };
}

/** What Janus answers; only the parts the client reads are checked. */
const JanusReply = z.object({
  janus: z.string(),
  transaction: z.string().optional(),
  sender: z.number().optional(),
  data: z.object({ id: z.number() }).partial().passthrough().optional(),
  plugindata: z.object({ plugin: z.string(), data: z.record(z.string(), z.unknown()) }).optional(),
  jsep: z.object({ type: z.enum(['offer', 'answer']), sdp: z.string() }).optional(),
  error: z.object({ code: z.number(), reason: z.string() }).optional(),
});
type JanusReply = z.infer<typeof JanusReply>;

export class JanusError extends Error {}

/** A handle's asynchronous events: the answer to a request (by transaction), hang-ups, media state. */
export interface HandleEvents {
  onHangup?(reason: string): void;
  onWebrtcUp?(): void;
}

/**
 * One Janus session over the HTTP API with a long poll for its events. Requests that Janus answers later
 * (watch, start) resolve when their event arrives.
 */
export class JanusClient {
  private session = 0;
  private polling = false;
  private closed = false;
  private nextTransaction = 1;
  private readonly waiting = new Map<string, { resolve(reply: JanusReply): void; reject(e: Error): void; timer: NodeJS.Timeout }>();
  private readonly handles = new Map<number, HandleEvents>();

  constructor(
    private readonly url: string,
    private readonly apiSecret: string,
    private readonly onLost: (reason: string) => void = () => {},
  ) {}

  get connected(): boolean {
    return this.session !== 0 && !this.closed;
  }

  private async post(path: string, body: Record<string, unknown>): Promise<JanusReply> {
    const transaction = `t${this.nextTransaction++}`;
    // Waiting before sending: Janus may deliver the asynchronous answer on the long poll before the ack.
    let settle!: { resolve(reply: JanusReply): void; reject(e: Error): void };
    const later = new Promise<JanusReply>((resolve, reject) => (settle = { resolve, reject }));
    later.catch(() => undefined);
    const timer = setTimeout(() => {
      this.waiting.delete(transaction);
      settle.reject(new JanusError(`Janus did not answer ${String(body.janus)} within 10 s`));
    }, 10_000);
    this.waiting.set(transaction, { ...settle, timer });
    try {
      const response = await fetch(this.url + path, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ ...body, transaction, apisecret: this.apiSecret }), signal: AbortSignal.timeout(10_000) });
      const parsed = JanusReply.safeParse(await response.json());
      if (!parsed.success) throw new JanusError(`Janus sent an unexpected reply to ${String(body.janus)}`);
      const reply = parsed.data;
      if (reply.janus === 'error') throw new JanusError(`Janus refused ${String(body.janus)}: ${reply.error?.reason ?? 'unknown error'}`);
      if (reply.janus !== 'ack') {
        clearTimeout(timer);
        this.waiting.delete(transaction);
        return reply;
      }
    } catch (e) {
      clearTimeout(timer);
      this.waiting.delete(transaction);
      throw e;
    }
    return later;
  }

  async connect(): Promise<void> {
    const reply = await this.post('', { janus: 'create' });
    if (!reply.data?.id) throw new JanusError('Janus did not create a session');
    this.session = reply.data.id;
    void this.poll();
  }

  private async poll(): Promise<void> {
    if (this.polling) return;
    this.polling = true;
    let failures = 0;
    while (!this.closed) {
      try {
        const response = await fetch(`${this.url}/${this.session}?maxev=10&apisecret=${encodeURIComponent(this.apiSecret)}`, { signal: AbortSignal.timeout(45_000) });
        const body: unknown = await response.json();
        failures = 0;
        for (const item of Array.isArray(body) ? body : [body]) {
          const parsed = JanusReply.safeParse(item);
          if (parsed.success) this.dispatch(parsed.data);
        }
      } catch (e) {
        if (this.closed) break;
        // Janus gone (or the session expired): everything waiting fails, the owner decides what next.
        if (++failures >= 2) {
          this.fail(`Janus unreachable: ${(e as Error).message}`);
          break;
        }
        await new Promise((r) => setTimeout(r, 250));
      }
    }
    this.polling = false;
  }

  private dispatch(reply: JanusReply): void {
    if (reply.janus === 'keepalive') return;
    if (reply.janus === 'error' && reply.error?.code === 458) return this.fail('Janus session expired');
    const waiter = reply.transaction ? this.waiting.get(reply.transaction) : undefined;
    if (waiter && reply.janus !== 'ack') {
      clearTimeout(waiter.timer);
      this.waiting.delete(reply.transaction!);
      const error = reply.plugindata?.data.error;
      if (typeof error === 'string') waiter.reject(new JanusError(`Janus streaming: ${error}`));
      else waiter.resolve(reply);
      return;
    }
    const handle = reply.sender === undefined ? undefined : this.handles.get(reply.sender);
    if (!handle) return;
    if (reply.janus === 'hangup') handle.onHangup?.(String((reply as { reason?: unknown }).reason ?? 'hangup'));
    else if (reply.janus === 'webrtcup') handle.onWebrtcUp?.();
    else if (reply.janus === 'event' && (reply.plugindata?.data.result as { status?: string } | undefined)?.status === 'stopped') handle.onHangup?.('stopped');
  }

  private fail(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    for (const [, w] of this.waiting) {
      clearTimeout(w.timer);
      w.reject(new JanusError(reason));
    }
    this.waiting.clear();
    for (const h of this.handles.values()) h.onHangup?.(reason);
    this.handles.clear();
    this.onLost(reason);
  }

  /** A handle on the streaming plugin. */
  async attach(events: HandleEvents = {}): Promise<number> {
    const reply = await this.post(`/${this.session}`, { janus: 'attach', plugin: STREAMING });
    if (!reply.data?.id) throw new JanusError('Janus did not attach the streaming plugin');
    this.handles.set(reply.data.id, events);
    return reply.data.id;
  }

  async detach(handle: number): Promise<void> {
    this.handles.delete(handle);
    if (this.closed) return;
    await this.post(`/${this.session}/${handle}`, { janus: 'detach' }).catch(() => undefined);
  }

  /** A request to the streaming plugin; the plugin's data, and the JSEP when it sent one. */
  async message(handle: number, body: Record<string, unknown>, jsep?: { type: 'answer'; sdp: string }): Promise<{ data: Record<string, unknown>; jsep?: { type: 'offer' | 'answer'; sdp: string } }> {
    const reply = await this.post(`/${this.session}/${handle}`, { janus: 'message', body, ...(jsep ? { jsep } : {}) });
    const data = reply.plugindata?.data ?? {};
    if (typeof data.error === 'string') throw new JanusError(`Janus streaming: ${data.error}`);
    return { data, ...(reply.jsep ? { jsep: reply.jsep } : {}) };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    const session = this.session;
    this.fail('closed');
    if (session) await fetch(`${this.url}/${session}`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ janus: 'destroy', transaction: 'bye', apisecret: this.apiSecret }), signal: AbortSignal.timeout(2000) }).catch(() => undefined);
  }
}
