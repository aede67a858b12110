/**
 * Webhooks of the ingest API: a source system whose key has a webhook URL is told when an event it reported is
 * closed (the 12345 platform needs the result).
 *
 * The outbox is the store's webhook_deliveries (migration 7): the report route queues one per event ('waiting',
 * with the sourceId) right after the report is committed. Every `pollMs`, on the instance that holds the store's
 * lead only (the one that runs the city life; another takes over when it goes, and finds the outbox as it was),
 * this looks at the waiting ones: an event now closed, or merged into another by the dispatcher (a duplicate: it
 * will never close), makes its delivery 'due' with the body of protocol/ingest.ts IngestWebhook (status 'closed'
 * or 'merged' with the event it went into; one delivery per event, whichever comes first). Due ones are POSTed, signed: `X-Zongzhi-Timestamp` (Unix seconds) and
 * `X-Zongzhi-Signature: sha256=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>`, each try cut at `timeoutMs`.
 * A 2xx answer delivers it; anything else is tried again after the next delay (10 s, 1 min, 5 min, 30 min, 2 h);
 * after the last it is given up ('failed'), audited as 'webhook-failed'. A revoked key's deliveries are given up.
 * Delivery is at least once (a lead moving during a try may send it twice): receivers dedupe by eventId.
 * An event reopened after it was told is not told again.
 *
 * A report may name its own `callbackUrl` (the delivery's `url`): it is told there instead of the key's webhook,
 * signed with the key's webhook secret, checked like the key's URL at each try (webhook-post.ts).
 * Ended deliveries (delivered, given up) are deleted `keepDays` after they ended (default 30), by the leader,
 * at most once an hour.
 */
import { createHmac } from 'node:crypto';
import { timelineId, type CityState } from '../../domain';
import type { GovEvent, IngestWebhook } from '../../protocol';
import { WEBHOOK_SIGNATURE_HEADER, WEBHOOK_TIMESTAMP_HEADER } from '../../protocol';
import type { Logger } from '../../node-util/logger';
import type { ApiKeyRecord, BackendStore, WebhookDelivery } from '../store/types';
import { postWebhook } from './webhook-post';

export const WEBHOOK_RETRY_DELAYS_MS: readonly number[] = [10_000, 60_000, 300_000, 1_800_000, 7_200_000];

export interface WebhookOptions {
  store: Pick<BackendStore, 'webhooksIn' | 'updateWebhook' | 'pruneWebhooks' | 'listApiKeys' | 'audit'>;
  state: CityState;
  log: Logger;
  /** Whether this instance holds the store's lead now (only it delivers). */
  leading(): boolean;
  pollMs?: number;
  retryDelaysMs?: readonly number[];
  timeoutMs?: number;
  /** Let webhooks reach loopback and private addresses (platforms on the city's own network; tests). Default no. */
  allowPrivate?: boolean;
  /** Days an ended delivery (delivered or given up) is kept before it is pruned. Default 30. */
  keepDays?: number;
  /** The clock (tests move it). Default Date.now. */
  now?: () => number;
}

/** The signature header's value for a body sent at `timestamp` (Unix seconds). */
export const webhookSignature = (secret: string, timestamp: number, body: string): string => `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;

/** Due deliveries tried a round (8 at a time). */
const BATCH = 200;
/**
 * Waiting deliveries looked at a round: one page, the next page the next round (an event's closing is noticed
 * within a round when fewer are waiting; within pages × pollMs when many are, e.g. 100,000 open: ~100 s at 2 s).
 */
const WAITING_PAGE = 2000;
/** How often ended deliveries are pruned, and how many at most a time. */
const PRUNE_EVERY_MS = 3_600_000;
const PRUNE_BATCH = 5000;
const DAY_MS = 86_400_000;

export class Webhooks {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private readonly delays: readonly number[];
  /** Where the look at waiting deliveries goes on next round (a page a round, round and round). */
  private waitingAfter = '';
  private readonly now: () => number;
  /** When ended deliveries were last pruned (by this instance). */
  private prunedAt = -Infinity;

  constructor(private readonly o: WebhookOptions) {
    this.delays = o.retryDelaysMs ?? WEBHOOK_RETRY_DELAYS_MS;
    this.now = o.now ?? Date.now;
  }

  private iso(ms = this.now()): string {
    return new Date(ms).toISOString();
  }

  start(): void {
    this.timer ??= setInterval(() => void this.poll(), this.o.pollMs ?? 2000);
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running;
  }

  /** One round (not re-entered): waiting deliveries of closed events made due, due ones tried. */
  poll(): Promise<void> {
    if (this.running || !this.o.leading()) return this.running ?? Promise.resolve();
    this.running = this.round()
      .catch((e: unknown) => this.o.log.error('webhook round failed', { error: (e as Error).stack }))
      .finally(() => (this.running = null));
    return this.running;
  }

  private async round(): Promise<void> {
    const { store } = this.o;
    await this.prune();
    const now = this.iso();
    const waiting = await store.webhooksIn('waiting', WAITING_PAGE, { afterId: this.waitingAfter });
    this.waitingAfter = waiting.length < WAITING_PAGE ? '' : waiting.at(-1)!.id;
    for (const d of waiting) {
      const body = this.ending(d);
      if (body) await store.updateWebhook({ ...d, state: 'due', payload: body, nextAt: now });
    }
    const due = await store.webhooksIn('due', BATCH, { dueBy: this.iso() });
    if (due.length === 0) return;
    const keys = new Map((await store.listApiKeys()).map((k) => [k.id, k]));
    for (let i = 0; i < due.length; i += 8) await Promise.all(due.slice(i, i + 8).map((d) => this.deliver(d, keys.get(d.keyId))));
  }

  /** Ended deliveries older than keepDays deleted (once an hour at most; a batch at a time, the rest next hour). */
  private async prune(): Promise<void> {
    const now = this.now();
    if (now - this.prunedAt < PRUNE_EVERY_MS) return;
    this.prunedAt = now;
    const pruned = await this.o.store.pruneWebhooks(this.iso(now - (this.o.keepDays ?? 30) * DAY_MS), PRUNE_BATCH);
    if (pruned > 0) this.o.log.info('webhook deliveries pruned', { pruned, keepDays: this.o.keepDays ?? 30 });
  }

  /** The webhook's body when the delivery's event is closed or merged, else null. */
  private ending(d: WebhookDelivery): IngestWebhook | null {
    const event = this.o.state.get('events', d.eventId);
    if (event?.status === 'merged' && event.mergedInto) return { eventId: event.id, sourceId: String(d.payload.sourceId ?? ''), status: 'merged', intoEventId: event.mergedInto, mergedAt: this.mergedAt(event) };
    if (!event || event.status !== 'closed' || !event.closedAt) return null;
    let result = '';
    for (let i = event.timelineCount - 1; i >= 0 && !result; i--) {
      const entry = this.o.state.get('timeline', timelineId(event.id, i));
      if (entry?.action === 'feedback') result = entry.note ?? '';
    }
    const comment = event.evaluation?.comment ?? '';
    return { eventId: event.id, sourceId: String(d.payload.sourceId ?? ''), status: 'closed', closedAt: event.closedAt, satisfaction: event.evaluation?.satisfaction ?? null, result: result || comment, comment };
  }

  /** When the event was merged: its last 合并 entry (the report's time when the history is gone). */
  private mergedAt(event: GovEvent): string {
    for (let i = event.timelineCount - 1; i >= 0; i--) {
      const entry = this.o.state.get('timeline', timelineId(event.id, i));
      if (entry?.action === 'merge') return entry.at;
    }
    return event.reportedAt;
  }

  private async deliver(d: WebhookDelivery, key: ApiKeyRecord | undefined): Promise<void> {
    const attempts = d.attempts + 1;
    const url = d.url ?? key?.webhookUrl ?? null;
    let error: string | null = null;
    if (!key || key.revokedAt || !url || !key.webhookSecret) error = key?.revokedAt ? '接入密钥已吊销 / the key was revoked' : '密钥没有回调地址或签名密钥 / the key has no webhook';
    else {
      const body = JSON.stringify(d.payload);
      const timestamp = Math.floor(this.now() / 1000);
      try {
        const headers = { 'Content-Type': 'application/json', [WEBHOOK_TIMESTAMP_HEADER]: String(timestamp), [WEBHOOK_SIGNATURE_HEADER]: webhookSignature(key.webhookSecret, timestamp, body) };
        const status = await postWebhook(url, headers, body, this.o.timeoutMs ?? 10_000, this.o.allowPrivate === true);
        if (status < 200 || status > 299) error = `HTTP ${status}`;
      } catch (e) {
        error = `${(e as Error).name}: ${(e as Error).message}`.slice(0, 300);
      }
    }
    const at = this.iso();
    if (error === null) return this.o.store.updateWebhook({ ...d, state: 'delivered', attempts, nextAt: null, deliveredAt: at, lastError: null, endedAt: at });
    const giveUp = !key || key.revokedAt !== null || !url || !key.webhookSecret || attempts > this.delays.length;
    if (!giveUp) return this.o.store.updateWebhook({ ...d, attempts, nextAt: this.iso(this.now() + this.delays[attempts - 1]!), lastError: error });
    await this.o.store.updateWebhook({ ...d, state: 'failed', attempts, nextAt: null, lastError: error, endedAt: at });
    await this.o.store.audit([{ at, userId: null, kind: 'webhook-failed', detail: { keyId: d.keyId, eventId: d.eventId, attempts, lastError: error, url } }]);
    this.o.log.warn('webhook given up', { keyId: d.keyId, eventId: d.eventId, attempts, error });
  }
}
