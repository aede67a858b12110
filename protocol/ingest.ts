/**
 * The ingest API (接入 API) for source systems (12345 hotline platform, video-AI platform, IoT sensors, the citizen
 * app, 110 linkage, 数字城管): `POST /api/v1/reports` hands the city one event, idempotent by the source's own id;
 * `GET /api/v1/openapi.json` is the OpenAPI 3.1 document generated from these schemas (backend/ingest/openapi.ts).
 * When an event a key reported is closed or merged into another, the key's webhook gets a signed POST (IngestWebhook). See
 * docs/protocol.md 接入 API and README 接入 API.
 */
import { z } from 'zod';
import { AttachmentIds } from './attachments';
import { ApiKeySource, WebhookUrl } from './api-keys';
import { EventSource, IsoTime, Satisfaction } from './model';

export const API_V1_REPORTS_PATH = '/api/v1/reports';
export const API_V1_OPENAPI_PATH = '/api/v1/openapi.json';
/** The most bytes of a report's body (413 above). */
export const INGEST_MAX_BODY_BYTES = 64 * 1024;
/** Headers of a webhook POST: the HMAC-SHA256 of `${timestamp}.${body}` with the key's webhook secret, and the timestamp (Unix seconds). */
export const WEBHOOK_SIGNATURE_HEADER = 'X-Zongzhi-Signature';
export const WEBHOOK_TIMESTAMP_HEADER = 'X-Zongzhi-Timestamp';

/**
 * The event source a key's reports carry. 110 linkage hands over calls (a phone report: 'hotline'); 数字城管's
 * reports come from its patrol inspectors on their devices, the same kind of report as a grid member's ('grid-app').
 * Who reported exactly is the timeline's first entry (the key's name).
 */
export const EVENT_SOURCE_OF_KEY: Readonly<Record<ApiKeySource, EventSource>> = {
  hotline: 'hotline',
  'video-ai': 'video-ai',
  sensor: 'sensor',
  'citizen-app': 'citizen-app',
  'linkage-110': 'hotline',
  'city-management': 'grid-app',
};

const Lon = z.number().min(-180).max(180).meta({ description: '经度（WGS84） / longitude' });
const Lat = z.number().min(-90).max(90).meta({ description: '纬度（WGS84） / latitude' });

export const IngestReport = z
  .object({
    sourceId: z.string().trim().min(1, '1–128 个字符').max(128, '1–128 个字符').meta({ description: '来源系统自己的编号（幂等键）：同一密钥同一编号只建一个事件 / the source system\'s own id (idempotency key)', examples: ['12345-20260301-000123'] }),
    category: z.string().min(1).max(64).meta({ description: '事件类别编码（城市的责任清单） / event category code', examples: ['road-damage'] }),
    severity: z.number().int().min(1).max(4).optional().meta({ description: '紧急程度 1 一般 … 4 特急，缺省 2 / 1 general … 4 critical, default 2' }),
    title: z.string().trim().min(1, '不能为空').max(200).meta({ examples: ['人行道井盖缺失'] }),
    description: z.string().max(4000).meta({ examples: ['市民来电：学校门口人行道井盖缺失，存在安全隐患。'] }),
    occurredAt: IsoTime.optional().meta({ description: '发生时间（ISO 8601，带时区） / when it happened' }),
    location: z.object({ lon: Lon, lat: Lat }).strict().optional().meta({ description: 'WGS84 坐标，须在城市范围内 / a WGS84 point inside the city' }),
    address: z.string().trim().min(1).max(200).optional().meta({ description: '地址文字：没有坐标时按城市的地点与网格名称解析 / address text, resolved against the city\'s places and grids when no point is given', examples: ['建设路 12 号'] }),
    reporter: z.object({ name: z.string().max(50), phone: z.string().max(30) }).strict().optional().meta({ description: '报告人（隐私数据） / the reporting citizen (private)' }),
    attachments: AttachmentIds.optional().meta({ description: '先用同一密钥 POST /attachments 上传的附件编号（同样的内容别人先传过也可：以本密钥再传一次） / ids of attachments uploaded before with the same key' }),
    cameraId: z.string().min(1).max(64).optional().meta({ description: '视频智能分析上报：发现事件的摄像头编号（须是城市登记的摄像头），事件详情可直接看该摄像头 / video-AI reports: the id of the city camera that saw it', examples: ['cam-0012'] }),
    callbackUrl: WebhookUrl.optional().meta({
      description:
        '本条上报的回调地址：事件结案或被合并时回调这里，而不是密钥登记的 webhook。须为 https（后端以 --webhooks-to-private 启动时也可 http）；用密钥的 webhook 签名密钥签名，所以密钥须登记过 webhook（有签名密钥），否则 400。每次发送前检查地址，不发往内网。重放同一 sourceId 不改变第一次的回调地址。 / this report\'s own callback URL, instead of the key\'s webhook; https (http too when the backend allows private webhooks); signed with the key\'s webhook secret, so the key must have been registered with a webhook (400 otherwise); checked before every try; a replay keeps the first report\'s',
      examples: ['https://12345.example/callback/000123'],
    }),
  })
  .strict()
  .refine((r) => r.location !== undefined || r.address !== undefined, { message: '需要坐标 location 或地址 address 之一 / a location or an address is required', path: ['location'] })
  .meta({ description: '一条上报 / one report' });
export type IngestReport = z.infer<typeof IngestReport>;

export const IngestAnswer = z
  .object({
    eventId: z.string(),
    /** true: this sourceId was reported before by this key; the event is that report's (the body now sent is not read). */
    duplicate: z.boolean(),
    /** false: neither the point nor the address placed it; it stands at the city's centre, flagged 位置待核实 for the dispatcher. */
    locationResolved: z.boolean(),
  })
  .meta({ examples: [{ eventId: 'E-20260301-0042', duplicate: false, locationResolved: true }] });
export type IngestAnswer = z.infer<typeof IngestAnswer>;

/** The body of the webhook POST when an event a key reported is closed (评价结案). */
export const IngestWebhookClosed = z
  .object({
    eventId: z.string(),
    sourceId: z.string(),
    status: z.literal('closed'),
    closedAt: IsoTime,
    satisfaction: Satisfaction.nullable(),
    /** 处置结果: the last 处置反馈's note, else the closing comment. */
    result: z.string(),
    /** The closing comment (评价意见). */
    comment: z.string(),
  })
  .meta({ description: '事件结案 / the event was closed' });

/**
 * The body when the dispatcher merged the reported event into another (a duplicate of it): the reported event
 * leaves the loop and will not be closed; `intoEventId` is the event that carries on (it is not told again).
 */
export const IngestWebhookMerged = z
  .object({
    eventId: z.string(),
    sourceId: z.string(),
    status: z.literal('merged'),
    /** The event it was merged into. */
    intoEventId: z.string(),
    mergedAt: IsoTime,
  })
  .meta({ description: '事件被合并到另一事件（重复上报），不会再结案 / merged into another event; it will not be closed' });

/** A webhook's body: once per reported event, when it is closed or merged (the first of the two). */
export const IngestWebhook = z.discriminatedUnion('status', [IngestWebhookClosed, IngestWebhookMerged]).meta({ description: '事件结案或被合并时回调的请求体 / the body of the webhook when the event is closed or merged' });
export type IngestWebhook = z.infer<typeof IngestWebhook>;
