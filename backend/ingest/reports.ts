/**
 * `POST /api/v1/reports`: a source system hands the city one event (protocol/ingest.ts IngestReport).
 *
 * - The key is checked by ApiKeys.sourceOf (401, 403 revoked, 429 with Retry-After); the body must be JSON (415) of
 *   at most 64 KiB (413), valid (400: each zod issue's path, the message in Chinese), of a known category (400).
 * - Idempotent by (key, sourceId): the command id is derived from both (hashed to fit), so the command pipeline's
 *   dedup by command id answers a replay with the first event (200, duplicate: true) and never makes a second —
 *   whatever the replay's body says (the first report stands).
 * - Placed by backend/ingest/locate.ts: a point outside the city is 422; an address nothing matches puts the event
 *   at the city's centre with `locationUnresolved` (位置待核实 on the desk).
 * - Runs `event.report` through the command pipeline as the key's own actor (`api:<keyId>`, the key's name). Its
 *   role is 'system' because no user role fits a machine; this route only ever submits event.report, so the key
 *   can do nothing else. The command is audited like every other.
 * - A key with a webhook gets a delivery queued, waiting for the event's closing or merging
 *   (backend/ingest/webhooks.ts); a report's own `callbackUrl` is where its delivery goes instead (https, or
 *   http when private webhooks are allowed; the key must have a webhook secret to sign it: 400 otherwise).
 * - Attachments: each must have been uploaded with this key (the same bytes uploaded first by someone else too:
 *   every uploader is linked, migration 8). A `cameraId` must be one of the city's cameras (400 with the path).
 */
import { createHash } from 'node:crypto';
import { isIP } from 'node:net';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import { API_V1_REPORTS_PATH, EVENT_SOURCE_OF_KEY, INGEST_MAX_BODY_BYTES, IngestReport, type ApiKeySource, type ApiRefusal, type CommandAck, type IngestAnswer } from '../../protocol';
import type { Actor, CityState } from '../../domain';
import type { ApiKeyRecord, BackendStore } from '../store/types';
import type { ApiKeys } from '../auth/api-keys';
import { sendRefusal } from '../auth/api-keys-route';
import { readBody, send } from '../http-answers';
import type { AddressPlacer } from './locate';
import { blockedAddress } from './webhook-post';

export interface ReportRouteOptions {
  keys: ApiKeys;
  store: Pick<BackendStore, 'attachmentUploadedBy' | 'queueWebhook'>;
  /** Private webhooks allowed (--webhooks-to-private): a report's callbackUrl may then be http. */
  allowPrivate?: boolean;
  state: CityState;
  placer: AddressPlacer;
  submit(actor: Actor, commandId: string, type: string, payload: unknown): Promise<{ frame: string; ack?: CommandAck }>;
}

const zh = z.locales.zhCN();

export class Refused extends Error {
  constructor(
    readonly status: number,
    readonly body: ApiRefusal & { issues?: Array<{ path: string; message: string }> },
  ) {
    super(body.message);
  }
}
const refuse = (status: number, code: string, message: string, path?: string): never => {
  throw new Refused(status, { code, message, ...(path !== undefined ? { path } : {}) });
};

/** The command id of a key's report: the same (key, sourceId) always gives the same id (the pipeline's dedup). */
export const reportCommandId = (keyId: string, sourceId: string): string => `api:${keyId}:${createHash('sha256').update(`${keyId}\u0000${sourceId}`).digest('hex').slice(0, 32)}`;

export const keyActor = (key: ApiKeyRecord): Actor => ({ id: `api:${key.id}`, name: key.name, role: 'system', districtScope: null });

/** The report's fields checked; every issue's path (an unknown field: its name) and a Chinese message. */
function parseReport(json: unknown): IngestReport {
  const parsed = IngestReport.safeParse(json, { error: zh.localeError });
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues.slice(0, 20).map((i) => ({
    path: i.code === 'unrecognized_keys' ? [...i.path, i.keys.join(',')].join('.') : i.path.map(String).join('.') || '(body)',
    message: i.code === 'unrecognized_keys' ? `不认识的字段 / unknown field` : i.message,
  }));
  const first = issues[0]!;
  throw new Refused(400, { code: 'invalid', message: `上报内容有误：${issues.map((i) => `${i.path} ${i.message}`).join('；')}`.slice(0, 2000), path: first.path.slice(0, 200), issues });
}

/**
 * A report's callbackUrl: signed with the key's webhook secret (a key registered without a webhook has none:
 * refused, rather than sent unsigned), https unless private webhooks are allowed, never a literal internal
 * address (a host name is resolved and checked at each try, webhook-post.ts).
 */
export function checkCallback(callbackUrl: string, key: ApiKeyRecord, allowPrivate: boolean): void {
  if (!key.webhookSecret) refuse(400, 'invalid', `callbackUrl 需要签名：接入密钥 ${key.id} 没有 webhook 签名密钥，请管理员为来源系统登记 webhook 后重新发放密钥 / the key has no webhook secret to sign the callback`, 'callbackUrl');
  const url = new URL(callbackUrl);
  if (!allowPrivate && url.protocol !== 'https:') refuse(400, 'invalid', 'callbackUrl 须为 https 地址 / callbackUrl must be https', 'callbackUrl');
  const literal = url.hostname.replace(/^\[|\]$/g, '');
  if (!allowPrivate && isIP(literal) !== 0 && blockedAddress(literal)) refuse(400, 'invalid', `callbackUrl 是内部地址 ${literal} / callbackUrl is an internal address`, 'callbackUrl');
}

export function reportRoute(o: ReportRouteOptions): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    if (req.method !== 'POST') {
      req.resume();
      res.setHeader('Allow', 'POST');
      return send(res, 405, { code: 'method-not-allowed', message: `${API_V1_REPORTS_PATH} 只接受 POST / only POST` });
    }
    void (async () => {
      const check = await o.keys.sourceOf(req);
      if (!check.ok) {
        req.resume();
        return sendRefusal(res, check);
      }
      const { key } = check;
      if (!/^application\/json\b/i.test(req.headers['content-type'] ?? '')) {
        req.resume();
        refuse(415, 'unsupported-media-type', '请以 JSON 提交（Content-Type: application/json） / send application/json');
      }
      const text = await readBody(req, res, INGEST_MAX_BODY_BYTES);
      if (text === null) return; // 413 answered
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        refuse(400, 'invalid', '请求不是有效的 JSON / the body is not valid JSON', '(body)');
      }
      const report = parseReport(json);
      if (!o.state.get('rules', report.category)) refuse(400, 'invalid', `没有这个事件类别：${report.category} / unknown event category`, 'category');
      const actor = keyActor(key);
      for (const [i, id] of (report.attachments ?? []).entries()) {
        if (!(await o.store.attachmentUploadedBy(id, actor.id))) refuse(400, 'invalid', `附件 ${id.slice(0, 64)} 不存在或不是用此密钥上传的 / no attachment ${id.slice(0, 64)} uploaded with this key`, `attachments.${i}`);
      }
      if (report.cameraId !== undefined && !o.state.get('cameras', report.cameraId)) refuse(400, 'invalid', `没有这个摄像头：${report.cameraId} / no camera ${report.cameraId} in this city`, 'cameraId');
      if (report.callbackUrl !== undefined) checkCallback(report.callbackUrl, key, o.allowPrivate === true);
      const placed = o.placer.place(report.location ? [report.location.lon, report.location.lat] : undefined, report.address);
      if (!placed) refuse(422, 'location-outside', report.location ? `坐标 ${report.location.lon},${report.location.lat} 不在本市范围内 / the point is outside the city` : '城市没有网格，无法定位 / the city has no grids', 'location');
      const { location, resolved } = placed!;
      const description = report.occurredAt ? `${report.description}\n（发生时间 ${report.occurredAt}）`.slice(0, 4000) : report.description;
      const payload = {
        source: EVENT_SOURCE_OF_KEY[key.source as ApiKeySource] ?? 'hotline',
        category: report.category,
        severity: report.severity ?? 2,
        title: report.title,
        description,
        location,
        ...(report.address !== undefined ? { address: report.address } : {}),
        ...(report.reporter ? { reporter: report.reporter } : {}),
        ...(report.attachments?.length ? { attachments: report.attachments } : {}),
        ...(resolved ? {} : { locationUnresolved: true as const }),
        ...(report.cameraId !== undefined ? { cameraId: report.cameraId } : {}),
      };
      const answer = await o.submit(actor, reportCommandId(key.id, report.sourceId), 'event.report', payload);
      if (!answer.ack) {
        const error = (JSON.parse(answer.frame) as { payload?: { code?: string; message?: string } }).payload;
        return refuse(error?.code === 'internal' ? 500 : 422, error?.code ?? 'rejected', `上报未被受理：${error?.message ?? ''} / the report was refused`.slice(0, 2000));
      }
      const eventId = String((answer.ack.result as { eventId?: unknown } | undefined)?.eventId ?? '');
      // Queued (again: the same id changes nothing) on a replay too, in case the first answer was cut short before it.
      if (key.webhookUrl || report.callbackUrl) {
        const url = report.callbackUrl ?? null;
        await o.store.queueWebhook({ id: `${key.id}:${eventId}`, keyId: key.id, eventId, state: 'waiting', payload: { sourceId: report.sourceId }, attempts: 0, nextAt: null, deliveredAt: null, lastError: null, url, endedAt: null });
      }
      const event = o.state.get('events', eventId);
      const body: IngestAnswer = { eventId, duplicate: answer.ack.duplicate, locationResolved: answer.ack.duplicate ? event?.locationUnresolved !== true : resolved };
      send(res, answer.ack.duplicate ? 200 : 201, body);
    })().catch((e: unknown) => {
      req.resume();
      if (res.headersSent) return;
      if (e instanceof Refused) return send(res, e.status, e.body);
      send(res, 500, { code: 'internal', message: `接口出错 / the API failed: ${(e as Error).message.slice(0, 200)}` });
    });
  };
}
