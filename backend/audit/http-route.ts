/**
 * GET /audit?user=&kind=&event=&from=&to=&q=&cursor=&limit=: one page of the append-only audit log, newest
 * first (protocol/audit.ts: AuditQuery, AuditPage); GET /audit.csv with the same filters: the matching entries as
 * a CSV file (csv.ts), at most AUDIT_CSV_MAX_ROWS. A bearer token (401 without), a role of AUDIT_READ_ROLES and a
 * city-wide scope (403 otherwise), a valid query (400 naming the parameter); never cached. Every request, refused
 * ones too, is itself written to the audit as an 'audit-read' before it is answered: reading the log is audited.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { AUDIT_READ_ROLES, MASKED_ROLES, maskDigits, maskPayload } from '../../domain';
import { AUDIT_CSV_MAX_ROWS, AUDIT_PAGE_DEFAULT, AuditQuery, describeIssues, validate, type AuditPage, type AuditRow } from '../../protocol';
import type { AuditFilter, AuditRecord, BackendStore, UserRecord } from '../store/types';
import { bearerUser, send } from '../http-answers';
import { parseRequestTarget } from '../../web-serving/request-target';
import { csvHead, csvLine } from './csv';

const PAGE_PATH = '/audit';
const CSV_PATH = '/audit.csv';
/** Entries read per round while writing a CSV. */
const CSV_CHUNK = 1000;


const text = (v: unknown, max: number): string | null => (typeof v === 'string' ? v.slice(0, max) : null);

/**
 * A line's detail as a masked reader (督查, demo) is shown it: a command's payload as the console masks a queued
 * one (the reporter's surname only, no phone, phone-like digit runs blanked), and every other text the same way.
 */
export function maskedDetail(detail: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(detail)) {
    if (k === 'payload' && typeof v === 'object' && v !== null && !Array.isArray(v)) out[k] = maskPayload(v as Record<string, unknown>);
    else out[k] = typeof v === 'string' ? maskDigits(v) : v;
  }
  return out;
}

/** A stored line as read: who (by name), which console, which event; masked for a masked reader. */
export function auditRowOf(record: AuditRecord, names: ReadonlyMap<string, string>, masked = false): AuditRow {
  const d = masked ? maskedDetail(record.detail) : record.detail;
  const payload = typeof d.payload === 'object' && d.payload !== null ? (d.payload as Record<string, unknown>) : {};
  return {
    id: record.id,
    at: record.at,
    userId: record.userId,
    userName: record.userId === null ? null : (names.get(record.userId) ?? null),
    kind: record.kind.slice(0, 40),
    client: text(d.clientName, 100) ?? text(d.clientId, 100),
    eventId: text(d.eventId, 64) ?? text(payload.eventId, 64),
    detail: d,
  };
}

/** The store's filter for a checked query (times in UTC, as entries are written; the cursor split). */
export function filterOf(query: AuditQuery, limit: number): AuditFilter {
  const [at, id] = query.cursor?.split('|') ?? [];
  return {
    ...(query.user !== undefined ? { userId: query.user } : {}),
    ...(query.kind !== undefined ? { kind: query.kind } : {}),
    ...(query.event !== undefined ? { eventId: query.event } : {}),
    ...(query.from !== undefined ? { from: new Date(query.from).toISOString() } : {}),
    ...(query.to !== undefined ? { to: new Date(query.to).toISOString() } : {}),
    ...(query.q !== undefined ? { text: query.q } : {}),
    ...(at !== undefined && id !== undefined ? { before: { at, id: Number(id) } } : {}),
    limit,
  };
}

export function auditRoutes(store: BackendStore): (req: IncomingMessage, res: ServerResponse) => boolean {
  return (req, res) => {
    const url = parseRequestTarget(req.url);
    const format = url?.pathname === PAGE_PATH ? 'page' : url?.pathname === CSV_PATH ? 'csv' : null;
    if (!url || !format) return false;
    if (req.method !== 'GET') {
      res.writeHead(405, { Allow: 'GET' }).end();
      return true;
    }
    // What was asked, bounded (the audit keeps what a refused reader tried, not unbounded input).
    const asked = Object.fromEntries([...url.searchParams].slice(0, 12).map(([k, v]) => [k.slice(0, 20), v.slice(0, 100)]));
    let user: UserRecord | null = null;
    const audit = (detail: Record<string, unknown>): Promise<void> =>
      store.audit([{ at: new Date().toISOString(), userId: user?.id ?? null, kind: 'audit-read', detail: { format, query: asked, ...detail } }]);
    void (async () => {
      user = await bearerUser(store, req);
      if (!user) {
        await audit({ refused: 401, rows: 0 });
        send(res, 401, '需要有效的令牌 / a valid bearer token is required');
        return;
      }
      if (!AUDIT_READ_ROLES.has(user.role)) {
        await audit({ refused: 403, rows: 0, role: user.role });
        send(res, 403, `您的角色（${user.role}）无权查阅审计日志，仅领导、督查和系统管理员可查阅 / your role (${user.role}) may not read the audit log: leaders, inspectors and administrators only`);
        return;
      }
      if (user.districtScope !== null) {
        await audit({ refused: 403, rows: 0, scope: user.districtScope.slice(0, 20) });
        send(res, 403, '审计日志仅对全市范围的用户开放，您的账号限于部分辖区 / the audit log is read city-wide only; your account is limited to some districts');
        return;
      }
      const checked = validate(AuditQuery, Object.fromEntries(url.searchParams));
      if (!checked.ok) {
        await audit({ refused: 400, rows: 0 });
        send(res, 400, `查询参数有误（可用：user、kind、event、from、to、q、cursor、limit）/ bad query (user, kind, event, from, to, q, cursor, limit): ${describeIssues(checked.issues)}`);
        return;
      }
      const query = checked.value;
      const masked = MASKED_ROLES.has(user.role);
      // A masked reader sees no phone numbers, so may not look for one either (a match would say it is there).
      if (masked && query.q !== undefined && /\d[\d\s-]{5,}\d/.test(query.q)) {
        await audit({ refused: 403, rows: 0, reason: 'masked-digit-search' });
        send(res, 403, '您的角色看不到电话号码，不能按号码检索 / your role sees no phone numbers and may not search by one');
        return;
      }
      const names = new Map((await store.listUsers()).map((u) => [u.id, u.name]));
      if (format === 'page') {
        const limit = query.limit ?? AUDIT_PAGE_DEFAULT;
        const records = await store.readAudit(filterOf(query, limit + 1));
        const shown = records.slice(0, limit);
        const last = shown.at(-1);
        const page: AuditPage = { entries: shown.map((r) => auditRowOf(r, names, masked)), nextCursor: records.length > limit && last ? `${last.at}|${last.id}` : null };
        // Audited before it is sent: a read that cannot be audited is not answered.
        await audit({ rows: page.entries.length });
        send(res, 200, page);
        return;
      }
      const max = Math.min(query.limit ?? AUDIT_CSV_MAX_ROWS, AUDIT_CSV_MAX_ROWS);
      const lines: string[] = [csvHead()];
      let before = filterOf(query, CSV_CHUNK).before;
      let rows = 0;
      let truncated = false;
      for (;;) {
        const chunk = await store.readAudit({ ...filterOf(query, CSV_CHUNK), ...(before ? { before } : {}) });
        for (const r of chunk) {
          if (rows === max) {
            truncated = true;
            break;
          }
          lines.push(csvLine(auditRowOf(r, names, masked)) + '\r\n');
          rows++;
        }
        const last = chunk.at(-1);
        if (truncated || chunk.length < CSV_CHUNK || !last) break;
        before = { at: last.at, id: last.id };
      }
      await audit({ rows, truncated });
      const body = Buffer.from(lines.join(''), 'utf8');
      const stamp = new Date().toISOString().slice(0, 19).replace(/[-:]/g, '').replace('T', '-');
      res
        .writeHead(200, {
          'Content-Type': 'text/csv; charset=utf-8',
          'Content-Disposition': `attachment; filename="audit-${stamp}.csv"`,
          'Content-Length': body.length,
          'Cache-Control': 'no-store',
          'X-Audit-Rows': String(rows),
          'X-Audit-Truncated': truncated ? '1' : '0',
        })
        .end(body);
    })().catch(() => {
      if (!res.headersSent) send(res, 500, '读取或审计失败 / the audit could not be read or the read not audited');
    });
    return true;
  };
}
