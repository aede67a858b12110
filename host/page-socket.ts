/**
 * One page's Hub API socket: frames in (parsed and checked inside the input boundary), messages out (with
 * backpressure). Measured before this existed: a page that asked for the events collection 10 times took the host
 * from ~130 to ~370 MiB, 200 times to 3.2 GiB with other pages unanswered for over 10 s, because every result was
 * encoded whole and queued on the socket at once. Now, once a page has more than `highWaterBytes` unread, the
 * hub holds its subscriptions' changes (they coalesce), other messages wait here as values (not encoded), and the
 * socket is not read until the page catches up; a page that stays stuck for `stuckMs` is closed with a reason.
 */
import type { RawData, WebSocket } from 'ws';
import { HubWsRequest, MAX_FRAME_DEPTH, nestingDepth, validate, type HubReply, type HubWsServerMessage } from '../protocol';
import { inputShape, rawText } from '../web-serving/request-target';
import type { Refusals } from './boundary';

export interface PageLimits {
  /** Unread bytes at which the page counts as congested. */
  highWaterBytes: number;
  /** ...and below which it counts as caught up again. */
  lowWaterBytes: number;
  /** A page congested this long without catching up is closed. */
  stuckMs: number;
  /** Messages waiting here for a congested page, at most; beyond it the page is closed as stuck. */
  maxWaitingMessages: number;
}

export const DEFAULT_PAGE_LIMITS: PageLimits = { highWaterBytes: 4 * 2 ** 20, lowWaterBytes: 2 ** 20, stuckMs: 30_000, maxWaitingMessages: 10_000 };

/** WebSocket close codes for pages (application range, and the standard 1011 for the host's own failures). */
export const PageCloseCode = { badFrame: 4400, stuck: 4408, internal: 1011 } as const;

const CHECK_MS = 50;

export class PageSocket {
  private congestedSince: number | null = null;
  private readonly waiting: HubWsServerMessage[] = [];
  private watch: NodeJS.Timeout | null = null;
  private closing = false;

  constructor(
    private readonly ws: WebSocket,
    readonly label: string,
    private readonly refusals: Refusals,
    private readonly call: (method: string, params: unknown) => Promise<HubReply>,
    private readonly limits: PageLimits = DEFAULT_PAGE_LIMITS,
  ) {
    ws.on('message', (data: RawData, isBinary: boolean) => this.receive(data, isBinary));
    ws.on('close', () => this.stopWatch());
  }

  /** True while the page has a lot unread: the hub holds back what can wait (row changes, result pages). */
  congested(): boolean {
    if (this.congestedSince === null && this.ws.bufferedAmount > this.limits.highWaterBytes) this.becomeCongested();
    return this.congestedSince !== null;
  }

  /** Sends now, or keeps the message for when the page has caught up. Never throws. */
  send(message: HubWsServerMessage): void {
    if (this.closing || this.ws.readyState !== this.ws.OPEN) return;
    if (this.congested() || this.waiting.length > 0) {
      this.waiting.push(message);
      if (this.waiting.length > this.limits.maxWaitingMessages) this.closeStuck(`over ${this.limits.maxWaitingMessages} messages waiting`);
      return;
    }
    this.write(message);
  }

  private receive(data: RawData, isBinary: boolean): void {
    const shape = { client: this.label, ...inputShape(data) };
    try {
      if (isBinary) return this.refuseFrame(shape, 'binary frames are not part of the Hub API');
      const text = rawText(data);
      // Measured on the text before parsing (no Hub API call nests more than a few levels: settings, 4); the
      // frame is still parsed (iteratively, safe at any depth) to answer under its id.
      const tooDeep = nestingDepth(text, MAX_FRAME_DEPTH) > MAX_FRAME_DEPTH;
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        return this.refuseFrame(shape, 'frame is not JSON');
      }
      const request = validate(HubWsRequest, parsed);
      // Without a usable id there is nobody to answer: close with the reason so the bug is visible.
      if (!request.ok) return this.refuseFrame(shape, 'frame is not a Hub API request');
      const { id, method, params } = request.value;
      if (tooDeep) {
        this.refusals.note('frame-refused', { ...shape, method, why: 'params nested too deep' });
        return this.send({ id, reply: { ok: false, error: { code: 'invalid-params', message: `params nested deeper than ${MAX_FRAME_DEPTH} levels` } } });
      }
      this.call(method, params)
        .catch((error: unknown): HubReply => {
          this.refusals.note('frame-failed', { ...shape, method }, error);
          return { ok: false, error: { code: 'internal', message: 'the hub failed on this call' } };
        })
        .then((reply) => this.send({ id, reply }))
        .catch((error: unknown) => this.fail({ ...shape, method }, error));
    } catch (error) {
      this.fail(shape, error);
    }
  }

  private refuseFrame(shape: Record<string, unknown>, why: string): void {
    this.refusals.note('frame-refused', { ...shape, why });
    this.close(PageCloseCode.badFrame, why);
  }

  /** The host failed on this page's input: refuse the page (1011), keep serving everyone else. */
  private fail(shape: Record<string, unknown>, error: unknown): void {
    this.refusals.note('frame-failed', shape, error);
    this.close(PageCloseCode.internal, 'internal error');
  }

  private write(message: HubWsServerMessage): void {
    let text: string;
    try {
      text = JSON.stringify(message);
    } catch (error) {
      // A value that cannot be encoded (too deep, a cycle): the caller still gets an answer with its id.
      this.refusals.note('reply-unencodable', { client: this.label, ...('id' in message ? { id: message.id } : { topic: message.update.topic }) }, error);
      if ('id' in message) this.write({ id: message.id, reply: { ok: false, error: { code: 'internal', message: 'the reply could not be encoded' } } });
      else this.close(PageCloseCode.internal, 'an update could not be encoded');
      return;
    }
    this.ws.send(text);
  }

  private becomeCongested(): void {
    this.congestedSince = Date.now();
    // Stop reading its calls too: a page that does not read its answers must not make the host produce more.
    this.ws.pause();
    this.watch ??= setInterval(() => this.check(), CHECK_MS);
  }

  private check(): void {
    if (this.ws.readyState !== this.ws.OPEN) return this.stopWatch();
    if (this.ws.bufferedAmount > this.limits.lowWaterBytes) {
      if (this.congestedSince !== null && Date.now() - this.congestedSince > this.limits.stuckMs) {
        this.closeStuck(`${Math.round(this.ws.bufferedAmount / 1024)} KiB unread for ${Math.round(this.limits.stuckMs / 1000)} s`);
      }
      return;
    }
    this.congestedSince = null;
    while (this.waiting.length > 0 && this.ws.bufferedAmount <= this.limits.highWaterBytes) this.write(this.waiting.shift()!);
    if (this.ws.bufferedAmount > this.limits.highWaterBytes) {
      this.congestedSince = Date.now();
      return;
    }
    this.stopWatch();
    this.ws.resume();
  }

  private stopWatch(): void {
    if (this.watch) clearInterval(this.watch);
    this.watch = null;
  }

  private closeStuck(why: string): void {
    this.refusals.note('page-stuck', { client: this.label, why });
    this.close(PageCloseCode.stuck, 'page does not read its updates');
  }

  private close(code: number, reason: string): void {
    if (this.closing) return;
    this.closing = true;
    this.stopWatch();
    this.waiting.length = 0;
    try {
      this.ws.close(code, reason);
    } catch {
      this.ws.terminate();
    }
    // A page that does not read will not read the close frame either: drop it after a moment.
    setTimeout(() => this.ws.terminate(), 2000).unref();
  }
}
