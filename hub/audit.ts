/**
 * The audit (审计) for the console: pages and the CSV file fetched from the linked backend over HTTP with the
 * link's token for every call (never cached: it names people and what they saw), and the views a window
 * records (Hub API recordView), sent to the backend as the wire's view frame — kept in memory while the link is
 * down, at most MAX_PENDING_VIEWS (the oldest dropped with a log line beyond), and sent when it is back.
 */
import { AuditCsv, AuditPage, HubError, describeIssues, validate, type AuditQuery, type ViewPayload } from '../protocol';
import type { Logger } from '../node-util/logger';
import type { LayerSource } from './city-layers';

export const MAX_PENDING_VIEWS = 500;

function queryString(query: AuditQuery, withPaging: boolean): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined || (!withPaging && (key === 'cursor' || key === 'limit'))) continue;
    params.set(key, String(value));
  }
  return params.toString();
}

async function get(backend: LayerSource | null, path: string): Promise<Response> {
  if (!backend) throw new HubError('unavailable', '未连接后端，无法查阅审计日志 / no backend is linked: the audit log is read from it, never kept here');
  const url = `${backend.url.replace(/^ws/, 'http').replace(/\/ws$/, '')}${path}`;
  let response: Response;
  try {
    response = await fetch(url, { headers: { Authorization: `Bearer ${backend.token}` }, signal: AbortSignal.timeout(60_000) });
  } catch (e) {
    throw new HubError('unavailable', `后端不可达，无法查阅审计日志 / could not reach the backend for the audit log: ${(e as Error).message}`);
  }
  if (response.status === 401 || response.status === 403) throw new HubError('unauthorized', (await response.text()).slice(0, 300));
  if (response.status === 400) throw new HubError('invalid-params', (await response.text()).slice(0, 400));
  if (!response.ok) throw new HubError('unavailable', `后端答复 ${response.status} / the backend answered ${response.status} for the audit log`);
  return response;
}

export async function fetchAuditPage(backend: LayerSource | null, query: AuditQuery): Promise<AuditPage> {
  const response = await get(backend, `/audit?${queryString(query, true)}`);
  const checked = validate(AuditPage, await response.json().catch(() => null));
  if (!checked.ok) throw new HubError('unavailable', `the backend sent an invalid audit page: ${describeIssues(checked.issues)}`);
  return checked.value;
}

export async function fetchAuditCsv(backend: LayerSource | null, query: AuditQuery): Promise<AuditCsv> {
  const response = await get(backend, `/audit.csv?${queryString(query, false)}`);
  // Decoded without dropping the byte-order mark: the file keeps it (Excel reads Chinese by it).
  const csv = new TextDecoder('utf-8', { ignoreBOM: true }).decode(await response.arrayBuffer());
  const name = /filename="([\w.-]{1,100})"/.exec(response.headers.get('content-disposition') ?? '')?.[1] ?? 'audit.csv';
  const checked = validate(AuditCsv, { csv, fileName: name, rows: Number(response.headers.get('x-audit-rows') ?? 0), truncated: response.headers.get('x-audit-truncated') === '1' });
  if (!checked.ok) throw new HubError('unavailable', `the backend sent an invalid audit file: ${describeIssues(checked.issues)}`);
  return checked.value;
}

/** The backend takes view frames in a burst of 30, then 5 a second (backend/audit/views.ts): held ones go paced under it. */
export const VIEW_BURST = 25;
export const VIEWS_PER_SECOND = 4;

/**
 * Views on their way to the backend: sent at once when the link can, else held (bounded) until it is back, then
 * sent paced under the backend's rate. Each is the view of the user signed in when it was recorded: one held
 * while another user signed in at the seat is dropped with a log line, never sent in the other's name.
 */
export class PendingViews {
  private readonly pending: Array<{ view: ViewPayload; userId: string | null }> = [];
  private dropped = 0;
  private timer: ReturnType<typeof setTimeout> | null = null;

  constructor(
    /** Sends one view frame now; false when the link cannot (offline, not signed in yet). */
    private readonly send: (view: ViewPayload) => boolean,
    private readonly log: Logger,
    /** The user the link is signed in as now (null: none). */
    private readonly currentUser: () => string | null = () => null,
  ) {}

  get size(): number {
    return this.pending.length;
  }

  add(view: ViewPayload, userId: string | null = this.currentUser()): void {
    if (this.pending.length === 0 && this.send(view)) return;
    if (this.pending.length >= MAX_PENDING_VIEWS) {
      this.pending.shift();
      this.dropped++;
      this.log.warn('audit view dropped: too many views kept while offline', { kept: MAX_PENDING_VIEWS, droppedSoFar: this.dropped });
    }
    this.pending.push({ view, userId });
  }

  /** The link is back: what was held goes, in order and paced, until the link cannot take more. */
  flush(budget = VIEW_BURST): void {
    if (this.timer) return;
    const user = this.currentUser();
    let sent = 0;
    while (this.pending.length > 0 && sent < budget) {
      const next = this.pending[0]!;
      if (next.userId !== user) {
        this.pending.shift();
        this.log.warn('audit view dropped: recorded by another user than the one signed in now', { recordedBy: next.userId, signedIn: user, event: next.view.id });
        continue;
      }
      if (!this.send(next.view)) return;
      this.pending.shift();
      sent++;
    }
    if (this.pending.length > 0) {
      this.timer = setTimeout(() => {
        this.timer = null;
        this.flush(VIEWS_PER_SECOND);
      }, 1000);
      this.timer.unref?.();
    }
  }
}
