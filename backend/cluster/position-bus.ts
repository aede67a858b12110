/**
 * Live staff positions between backend instances, through NATS (core pub/sub: nothing stored; bench/position-broker
 * measured it against Redis pub/sub and PostgreSQL NOTIFY). An instance publishes the positions it makes (the
 * city simulation; later phones connected to it) and hears everyone else's, to fan them out to its consoles.
 *
 * Positions are volatile — next second's replace them — so the bus never queues: while the broker is away a
 * publish is dropped and counted, and the bus reconnects forever with back-off, logging one line when the broker
 * goes and one when it is back. Opening fails with one clear Error naming the URL (never its password): a
 * malformed URL, a broker that cannot be reached, one that refuses the credentials.
 *
 * Positions from phones (POST /field/api/position) travel on a subject of their own, `<subject>.phones`, in the
 * same frames: a receiver then knows a phone says where that staff member is, so the instance running the simulator
 * leaves them alone wherever the phone posted.
 *
 * Each message is a frame: 'Z' 'P', version 1, the sender's instance id (length byte, then ASCII), then the
 * caller's bytes (opaque here, at most `maxBytes`). An instance does not hear its own (the connection asks the
 * broker for no echo, and frames carrying its id are dropped). What comes off the wire is checked — size, magic,
 * version, id — and anything else is dropped and counted, never thrown.
 */
import { connect, errors, type NatsConnection, type Status } from '@nats-io/transport-node';
import type { Logger } from '../../node-util/logger';
import { BackendRefusal } from '../../node-util/backend-refusal';

export type BusState = 'up' | 'down';
/** Who made the positions: the simulator (or anything not a phone), or phones. */
export type PositionKind = 'made' | 'phones';

export interface PositionBusOptions {
  /** nats://[user:password@]host[:port] (port 4222 by default); a user without a password is a token. */
  url: string;
  /** This instance's id: 1–64 of A–Z a–z 0–9 . _ - */
  instanceId: string;
  log: Logger;
  /** Default `zongzhi.positions`. */
  subject?: string;
  /** The largest payload one publish may carry; default POSITION_MESSAGE_MAX_BYTES. */
  maxBytes?: number;
  /** Waits between reconnect attempts: doubling from minMs to maxMs (±20 %); default 250 ms → 5 s. */
  backoff?: { minMs: number; maxMs: number };
  /** How long opening waits for the broker's handshake; default 5 s. */
  connectTimeoutMs?: number;
}

export interface PositionBusStats {
  published: number;
  received: number;
  /** Publishes dropped because the broker was away (or the bus closed). */
  droppedWhileDown: number;
  /** Publishes dropped because they exceeded maxBytes (a caller's bug; logged). */
  droppedTooLarge: number;
  /** Messages off the wire that were not frames of ours (dropped). */
  malformed: number;
  /** Frames carrying this instance's own id (dropped). */
  own: number;
  /** Listener callbacks that threw (the others still ran). */
  listenerErrors: number;
}

export interface PositionBus {
  /** Sends to every other instance; dropped (never thrown) while the broker is away. */
  publish(bytes: Uint8Array, kind?: PositionKind): void;
  /** `bytes` is a view into the received message: read it in the callback or copy it. Returns the unsubscribe. */
  onPositions(cb: (bytes: Uint8Array, from: string, kind: PositionKind) => void): () => void;
  readonly state: BusState;
  onState(cb: (state: BusState) => void): () => void;
  readonly stats: Readonly<PositionBusStats>;
  close(): Promise<void>;
}

export const POSITION_MESSAGE_MAX_BYTES = 64 * 1024;
export const DEFAULT_POSITION_SUBJECT = 'zongzhi.positions';
const INSTANCE_ID = /^[A-Za-z0-9._-]{1,64}$/;
const MAGIC = [0x5a, 0x50] as const;
const VERSION = 1;
const URL_FORM = 'expected nats://[user:password@]host[:port]';

export interface BrokerTarget {
  /** host:port for the client. */
  server: string;
  user?: string;
  pass?: string;
  token?: string;
  /** The URL for messages: no password (nor token), no query. */
  shown: string;
}

/** Reads the broker URL; a malformed one is an Error naming it without its password. */
export function parseBrokerUrl(raw: string): BrokerTarget {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    // Not a URL: whatever stands between the scheme and an '@' may be credentials.
    throw new Error(`invalid position broker URL ${raw.replace(/^([^@/]*\/\/)?[^@]*@/, '$1…@')}: ${URL_FORM}`);
  }
  const safe = new URL(url.href);
  // A user without a password is a token: a secret too.
  if (!url.password) safe.username = '';
  safe.password = '';
  safe.search = '';
  safe.hash = '';
  const shown = safe.href;
  if (url.protocol !== 'nats:' || !url.hostname || (url.pathname !== '' && url.pathname !== '/') || url.search || url.hash) {
    throw new Error(`invalid position broker URL ${shown}: ${URL_FORM}`);
  }
  const user = decodeURIComponent(url.username);
  const pass = decodeURIComponent(url.password);
  const target: BrokerTarget = { server: `${url.hostname}:${url.port || '4222'}`, shown };
  if (user && pass) Object.assign(target, { user, pass });
  else if (user) target.token = user;
  return target;
}

/** The frame header for an instance id (validated). */
export function framePrefix(instanceId: string): Uint8Array {
  if (!INSTANCE_ID.test(instanceId)) throw new Error(`invalid instance id ${JSON.stringify(instanceId)}: 1–64 of A–Z a–z 0–9 . _ -`);
  return Uint8Array.from([...MAGIC, VERSION, instanceId.length, ...Array.from(instanceId, (c) => c.charCodeAt(0))]);
}

/** A frame off the wire → its sender and payload, or null for anything that is not a well-formed frame. */
export function decodeFrame(data: Uint8Array, maxBytes: number): { from: string; bytes: Uint8Array } | null {
  if (data.byteLength < 5 || data[0] !== MAGIC[0] || data[1] !== MAGIC[1] || data[2] !== VERSION) return null;
  const idLength = data[3]!;
  const start = 4 + idLength;
  if (idLength === 0 || idLength > 64 || data.byteLength < start || data.byteLength - start > maxBytes) return null;
  const from = String.fromCharCode(...data.subarray(4, start));
  if (!INSTANCE_ID.test(from)) return null;
  return { from, bytes: data.subarray(start) };
}

export async function openPositionBus(options: PositionBusOptions): Promise<PositionBus> {
  const target = parseBrokerUrl(options.url);
  const prefix = framePrefix(options.instanceId);
  const bus = new NatsPositionBus(options, target, prefix);
  await bus.open();
  return bus;
}

class NatsPositionBus implements PositionBus {
  private nc: NatsConnection | null = null;
  private current: BusState = 'down';
  private closing = false;
  private reopening = false;
  private attempts = 0;
  private downSince = 0;
  private wake: (() => void) | null = null;
  private readonly positionListeners = new Set<(bytes: Uint8Array, from: string, kind: PositionKind) => void>();
  private readonly stateListeners = new Set<(state: BusState) => void>();
  private readonly warnedAt = new Map<string, number>();
  private readonly subject: string;
  private readonly maxBytes: number;
  private readonly backoff: { minMs: number; maxMs: number };
  readonly stats: PositionBusStats = { published: 0, received: 0, droppedWhileDown: 0, droppedTooLarge: 0, malformed: 0, own: 0, listenerErrors: 0 };

  constructor(
    private readonly options: PositionBusOptions,
    private readonly target: BrokerTarget,
    private readonly prefix: Uint8Array,
  ) {
    this.subject = options.subject ?? DEFAULT_POSITION_SUBJECT;
    this.maxBytes = options.maxBytes ?? POSITION_MESSAGE_MAX_BYTES;
    this.backoff = options.backoff ?? { minMs: 250, maxMs: 5000 };
  }

  get state(): BusState {
    return this.current;
  }

  /** The first connection: any failure is the one Error the caller gets. */
  async open(): Promise<void> {
    const nc = await this.connectOnce();
    const limit = nc.info?.max_payload ?? Number.POSITIVE_INFINITY;
    if (limit < this.prefix.byteLength + this.maxBytes) {
      await nc.close().catch(() => {});
      throw new BackendRefusal('broker-refused', `the position broker at ${this.target.shown} takes messages of at most ${limit} bytes; positions need ${this.prefix.byteLength + this.maxBytes} (raise its max_payload)`);
    }
    try {
      await this.attach(nc);
    } catch (e) {
      this.closing = true;
      this.nc = null;
      await nc.close().catch(() => {});
      throw new Error(`cannot reach the position broker at ${this.target.shown}: ${(e as Error).message}`);
    }
    this.current = 'up';
  }

  publish(bytes: Uint8Array, kind: PositionKind = 'made'): void {
    if (bytes.byteLength > this.maxBytes) {
      this.stats.droppedTooLarge++;
      this.warn('too-large', 'position message larger than the bus takes dropped', { bytes: bytes.byteLength, maxBytes: this.maxBytes });
      return;
    }
    const nc = this.nc;
    if (this.current !== 'up' || !nc) {
      this.stats.droppedWhileDown++;
      return;
    }
    const frame = new Uint8Array(this.prefix.byteLength + bytes.byteLength);
    frame.set(this.prefix);
    frame.set(bytes, this.prefix.byteLength);
    try {
      nc.publish(kind === 'phones' ? `${this.subject}.phones` : this.subject, frame);
      this.stats.published++;
    } catch {
      // Closed or draining between the check and here: the same as down.
      this.stats.droppedWhileDown++;
    }
  }

  onPositions(cb: (bytes: Uint8Array, from: string, kind: PositionKind) => void): () => void {
    this.positionListeners.add(cb);
    return () => void this.positionListeners.delete(cb);
  }

  onState(cb: (state: BusState) => void): () => void {
    this.stateListeners.add(cb);
    return () => void this.stateListeners.delete(cb);
  }

  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    this.wake?.();
    this.positionListeners.clear();
    this.stateListeners.clear();
    const nc = this.nc;
    this.nc = null;
    this.current = 'down';
    await nc?.close().catch(() => {});
  }

  private async connectOnce(): Promise<NatsConnection> {
    const { server, user, pass, token, shown } = this.target;
    try {
      return await connect({
        servers: server,
        ...(user !== undefined ? { user, pass } : {}),
        ...(token !== undefined ? { token } : {}),
        name: `zongzhi-${this.options.instanceId}`,
        noEcho: true,
        noRandomize: true,
        ignoreClusterUpdates: true,
        // Reconnecting is ours (reopen): the client's own loop re-reads its delay while it waits, so a back-off
        // there runs to its maximum before the first retry.
        reconnect: false,
        timeout: this.options.connectTimeoutMs ?? 5000,
        // A broker that vanishes without a reset (a cut network) is noticed within ~15 s, not NATS's 4 min.
        pingInterval: 5000,
        maxPingOut: 2,
      });
    } catch (e) {
      const secret = pass || token;
      const scrub = (text: string): string => (secret ? text.split(secret).join('…') : text);
      if (e instanceof errors.AuthorizationError) throw new BackendRefusal('broker-refused', `the position broker at ${shown} refused the connection: ${scrub(e.message)} (wrong or missing user/password)`);
      throw new Error(`cannot reach the position broker at ${shown}: ${scrub(e instanceof Error ? e.message : String(e))}`);
    }
  }

  /** Subscribes on a new connection; resolves once the broker has the subscription (a round trip). */
  private async attach(nc: NatsConnection): Promise<void> {
    this.nc = nc;
    nc.subscribe(this.subject, {
      callback: (err, msg) => {
        if (!err) this.receive(msg.data, 'made');
      },
    });
    nc.subscribe(`${this.subject}.phones`, {
      callback: (err, msg) => {
        if (!err) this.receive(msg.data, 'phones');
      },
    });
    void (async () => {
      for await (const status of nc.status()) this.onStatus(status);
    })().catch(() => {});
    void nc.closed().then((err) => this.onClosed(nc, err));
    await nc.flush();
  }

  private receive(data: Uint8Array, kind: PositionKind): void {
    const frame = decodeFrame(data, this.maxBytes);
    if (!frame) {
      this.stats.malformed++;
      this.warn('malformed', 'malformed position message dropped', { bytes: data.byteLength, malformed: this.stats.malformed });
      return;
    }
    if (frame.from === this.options.instanceId) {
      this.stats.own++;
      return;
    }
    this.stats.received++;
    for (const cb of this.positionListeners) {
      try {
        cb(frame.bytes, frame.from, kind);
      } catch (e) {
        this.stats.listenerErrors++;
        this.warn('listener', 'a position listener threw', { error: e instanceof Error ? e.message : String(e) });
      }
    }
  }

  private onStatus(status: Status): void {
    if (this.closing) return;
    if (status.type === 'error') this.warn(`error:${status.error.message}`, 'the position broker reported an error', { error: status.error.message });
    else if (status.type === 'slowConsumer') this.warn('slow', 'positions arrive faster than this instance reads them: the client drops some', { pending: status.pending });
  }

  /** The connection is gone (the broker went away, or stopped answering pings): a new one, with back-off. */
  private onClosed(nc: NatsConnection, err: void | Error): void {
    if (this.closing || this.nc !== nc) return;
    this.nc = null;
    this.setState('down', err instanceof Error ? err.message : 'connection lost');
    if (this.reopening) return;
    this.attempts = 0;
    void this.reopen();
  }

  private async reopen(): Promise<void> {
    this.reopening = true;
    try {
      await this.reopenLoop();
    } finally {
      this.reopening = false;
    }
  }

  private async reopenLoop(): Promise<void> {
    while (!this.closing) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, this.nextDelay());
        this.wake = () => (clearTimeout(timer), resolve());
      });
      this.wake = null;
      if (this.closing) return;
      try {
        const nc = await this.connectOnce();
        if (this.closing) return void (await nc.close().catch(() => {}));
        try {
          await this.attach(nc);
        } catch (e) {
          if (this.nc === nc) this.nc = null;
          await nc.close().catch(() => {});
          throw e;
        }
        this.attempts = 0;
        this.setState('up');
        return;
      } catch (e) {
        // Still away: the next attempt after a longer wait (the down line said it already).
        this.options.log.debug('position broker still unreachable', { url: this.target.shown, error: (e as Error).message });
      }
    }
  }

  private nextDelay(): number {
    const { minMs, maxMs } = this.backoff;
    const wait = Math.min(maxMs, minMs * 2 ** Math.min(this.attempts++, 20));
    return Math.round(wait * (0.8 + Math.random() * 0.4));
  }

  private setState(state: BusState, reason?: string): void {
    if (state === this.current) return;
    this.current = state;
    if (state === 'down') {
      this.downSince = Date.now();
      this.options.log.warn('position broker down: positions from other instances stop until it is back; reconnecting', { url: this.target.shown, reason });
    } else {
      this.options.log.info('position broker back: positions flow again', { url: this.target.shown, downMs: Date.now() - this.downSince });
    }
    for (const cb of this.stateListeners) {
      try {
        cb(state);
      } catch (e) {
        this.options.log.error('a position bus state listener threw', { error: e instanceof Error ? e.message : String(e) });
      }
    }
  }

  /** One line per kind of trouble per minute at most. */
  private warn(key: string, message: string, fields: Record<string, unknown>): void {
    const now = Date.now();
    if (now - (this.warnedAt.get(key) ?? -Infinity) < 60_000) return;
    if (this.warnedAt.size > 100) this.warnedAt.clear();
    this.warnedAt.set(key, now);
    this.options.log.warn(message, { url: this.target.shown, ...fields });
  }
}
