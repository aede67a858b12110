/**
 * What several backend instances on one PostgreSQL need of it beyond the store's tables, each on a connection of
 * its own that comes back after PostgreSQL restarts (back-off capped at 2 s):
 * - the commit feed: LISTEN on the channel every write turn notifies at commit (so the other instances read the
 *   new batches at once), with a slow poll beside it for a notification missed while reconnecting;
 * - users' changes: LISTEN on the channel a user's role, scope or disabled flag is announced on (user-changes.ts),
 *   so every instance closes that user's connections at once;
 * - the lead: a session advisory lock, held by the one instance that runs the city's single-runner duties, lost
 *   with its connection (PostgreSQL releases it when the session ends), so another instance takes over.
 */
import pg from 'pg';
import type { StoreLinkListener, Watch } from './types';
import { USERS_CHANNEL, userChangeOf, type UserChange } from './user-changes';

/** The channel every committed batch is announced on (payload: its seq). */
export const COMMIT_CHANNEL = 'zongzhi_commits';
/** Held for the lifetime of the leading instance's session. */
export const LEAD_LOCK = 0x5a5a4843;

/**
 * Every connection of ours: TCP keepalive on both ends, so that a peer gone without closing (a crashed host, a
 * partition) is noticed in about half a minute, not the operating system's two hours — by us, and by the
 * server, which then ends that session and releases its locks (the lead, a write turn).
 */
export const SESSION_LIMITS = {
  keepAlive: true,
  keepAliveInitialDelayMillis: 10_000,
  options: '-c tcp_keepalives_idle=10 -c tcp_keepalives_interval=5 -c tcp_keepalives_count=3',
} as const;

const POLL_MS = 1000;
const LEAD_RETRY_MS = 1000;
const MAX_BACKOFF_MS = 2000;

/**
 * A connection of its own that is made again whenever it is lost: `setup` runs on each new one, `lost` when it
 * goes. Closing ends it and stops the retries.
 */
class DedicatedConnection {
  private client: pg.Client | null = null;
  private closed = false;
  private retry: NodeJS.Timeout | null = null;
  private failures = 0;

  constructor(
    private readonly url: string,
    private readonly setup: (client: pg.Client) => Promise<void>,
    private readonly lost: (detail: string) => void,
  ) {
    void this.connect();
  }

  get current(): pg.Client | null {
    return this.client;
  }

  private async connect(): Promise<void> {
    if (this.closed) return;
    const client = new pg.Client({ connectionString: this.url, connectionTimeoutMillis: 5000, ...SESSION_LIMITS, query_timeout: 5000 });
    let gone = false;
    const onGone = (e?: Error): void => {
      if (gone) return;
      gone = true;
      if (this.client === client) this.client = null;
      client.end().catch(() => {});
      if (this.closed) return;
      this.lost(e?.message ?? 'connection ended');
      this.later();
    };
    client.on('error', onGone);
    client.on('end', () => onGone());
    try {
      await client.connect();
      if (this.closed) return void client.end().catch(() => {});
      this.client = client;
      await this.setup(client);
      this.failures = 0;
    } catch (e) {
      onGone(e as Error);
    }
  }

  private later(): void {
    if (this.closed || this.retry) return;
    const wait = Math.min(MAX_BACKOFF_MS, 100 * 2 ** this.failures++);
    this.retry = setTimeout(() => {
      this.retry = null;
      void this.connect();
    }, wait);
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.retry) clearTimeout(this.retry);
    const client = this.client;
    this.client = null;
    await client?.end().catch(() => {});
  }
}

/** Announces commits by other instances (and, after a lost connection, that some may have been missed). */
export function watchCommits(url: string, onCommit: (seq?: number) => void, onLink: StoreLinkListener): Watch {
  let down = false;
  const connection = new DedicatedConnection(
    url,
    async (client) => {
      client.on('notification', (n) => {
        const seq = Number(n.payload);
        onCommit(Number.isSafeInteger(seq) ? seq : undefined);
      });
      await client.query(`LISTEN ${COMMIT_CHANNEL}`);
      if (down) {
        down = false;
        onLink(true, 'listening for commits again');
      }
      // Whatever was committed while not listening.
      onCommit();
    },
    (detail) => {
      if (!down) onLink(false, detail);
      down = true;
    },
  );
  const poll = setInterval(() => onCommit(), POLL_MS);
  poll.unref();
  return {
    async close() {
      clearInterval(poll);
      await connection.close();
    },
  };
}

/**
 * Announces users' changes made by any writer (an instance's user administration, the command line). A change
 * missed while the connection was lost is caught by the session sweep, which compares each open connection's
 * user with the store (disabled, another role or area), and at the user's next hello (the sync stamp).
 */
export function watchUsers(url: string, onChange: (change: UserChange) => void): Watch {
  const connection = new DedicatedConnection(
    url,
    async (client) => {
      client.on('notification', (n) => {
        if (n.channel !== USERS_CHANNEL) return;
        const change = userChangeOf(n.payload);
        if (change) onChange(change);
      });
      await client.query(`LISTEN ${USERS_CHANNEL}`);
    },
    () => {},
  );
  return { close: () => connection.close() };
}

/** Contends for the lead until closed; `onLead` hears every change of who holds it here. */
export function contendForLead(url: string, onLead: (leading: boolean) => void): Watch {
  let leading = false;
  let timer: NodeJS.Timeout | null = null;
  const set = (now: boolean): void => {
    if (now === leading) return;
    leading = now;
    onLead(now);
  };
  const attempt = async (client: pg.Client): Promise<void> => {
    try {
      // While leading, the same query proves the session (and so the lock) is still there.
      const { rows } = await client.query<{ held: boolean }>('SELECT pg_try_advisory_lock($1) AS held', [LEAD_LOCK]);
      if (rows[0]?.held && leading) await client.query('SELECT pg_advisory_unlock($1)', [LEAD_LOCK]); // taken twice: once is enough
      set(rows[0]?.held === true);
    } catch {
      // Not confirmed (the connection is failing, or the server does not answer in time): this instance no
      // longer counts itself the leader, and ends the session (which releases the lock server-side if it still
      // held it); the connection comes back and contends again.
      set(false);
      void client.end().catch(() => {});
    }
  };
  const connection = new DedicatedConnection(
    url,
    async (client) => {
      await attempt(client);
    },
    () => set(false),
  );
  timer = setInterval(() => {
    const client = connection.current;
    if (client) void attempt(client);
  }, LEAD_RETRY_MS);
  timer.unref();
  return {
    async close() {
      if (timer) clearInterval(timer);
      await connection.close();
      set(false);
    },
  };
}
