/**
 * The ingest API's OpenAPI 3.1 document (`GET /api/v1/openapi.json`), generated from the same zod schemas the
 * routes validate with (protocol/ingest.ts, protocol/api-keys.ts) by zod 4's own `z.toJSONSchema` (JSON Schema
 * draft 2020-12, which is OpenAPI 3.1's schema dialect): no second generator to keep in step with zod, and what
 * the document says is what the route checks. Schemas are the request's input shape (`io: 'input'`: optional
 * fields with defaults stay optional). Built once per process.
 */
import { z } from 'zod';
import { API_V1_OPENAPI_PATH, API_V1_REPORTS_PATH, API_V1_SOURCE_PATH, ApiRefusal, INGEST_MAX_BODY_BYTES, IngestAnswer, IngestReport, IngestWebhook, SourceIdentity } from '../../protocol';

/** Every route of /api/v1/ and its methods (the test checks the server answers exactly these). */
export const API_V1_ROUTES: Readonly<Record<string, readonly string[]>> = {
  [API_V1_SOURCE_PATH]: ['get'],
  [API_V1_REPORTS_PATH]: ['post'],
  [API_V1_OPENAPI_PATH]: ['get'],
};

const schemas = (): Record<string, unknown> => {
  const registry = z.registry<{ id: string }>();
  const named = { IngestReport, IngestAnswer, IngestWebhook, SourceIdentity, ApiRefusal } as const;
  for (const [id, schema] of Object.entries(named)) registry.add(schema, { id });
  const out = z.toJSONSchema(registry, { target: 'draft-2020-12', io: 'input', unrepresentable: 'any', uri: (id) => `#/components/schemas/${id}` }) as { schemas: Record<string, Record<string, unknown>> };
  const refusal = out.schemas.ApiRefusal!;
  // The refusal of a report with field errors carries each one.
  out.schemas.ApiRefusal = { ...refusal, properties: { ...(refusal.properties as object), issues: { type: 'array', items: { type: 'object', properties: { path: { type: 'string' }, message: { type: 'string' } }, required: ['path', 'message'] } } } };
  for (const s of Object.values(out.schemas)) delete s.$schema;
  return out.schemas;
};

const refusal = (description: string, example: { code: string; message: string; path?: string }, headers?: Record<string, unknown>): Record<string, unknown> => ({
  description,
  ...(headers ? { headers } : {}),
  content: { 'application/json': { schema: { $ref: '#/components/schemas/ApiRefusal' }, example } },
});

const KEY_ERRORS = {
  '401': refusal('没有或无效的接入密钥 / no or an unknown API key', { code: 'unauthorized', message: '接入密钥无效（不是本系统发放的密钥）' }),
  '403': refusal('密钥已吊销 / the key was revoked', { code: 'revoked', message: '接入密钥 Ab3dE6gH 已于 2026-03-01T08:00:00.000Z 吊销' }),
  '429': refusal('超过密钥的频率限制 / over the key\'s rate', { code: 'rate-limited', message: '请求过于频繁：此密钥每分钟至多 600 次，请 2 秒后再试' }, {
    'Retry-After': { description: '几秒后再试 / seconds to wait', schema: { type: 'integer' } },
  }),
};

function build(): Record<string, unknown> {
  return {
    openapi: '3.1.0',
    info: {
      title: '综治指挥调度台 接入 API',
      version: '1.0.0',
      description: '来源系统（12345 热线平台、视频智能分析平台、物联感知平台、随手拍、110 联动、数字城管）上报事件。每个来源系统一个接入密钥；同一密钥同一 sourceId 只建一个事件；事件结案或被合并到另一事件时回调一次（签名见 IngestWebhook）：回调到本条上报的 callbackUrl，没有时到密钥登记的 webhook；callbackUrl 用密钥的 webhook 签名密钥签名，所以只有登记过 webhook 的密钥可以用。',
    },
    servers: [{ url: '/' }],
    security: [{ bearerKey: [] }, { headerKey: [] }],
    paths: {
      [API_V1_SOURCE_PATH]: {
        get: {
          operationId: 'whoAmI',
          summary: '密钥持有者是谁 / the key\'s holder',
          responses: { '200': { description: '密钥的来源系统', content: { 'application/json': { schema: { $ref: '#/components/schemas/SourceIdentity' }, example: { keyId: 'Ab3dE6gH', name: '12345 热线平台', source: 'hotline', ratePerMinute: 600 } } } }, ...KEY_ERRORS },
        },
      },
      [API_V1_REPORTS_PATH]: {
        post: {
          operationId: 'report',
          summary: '上报一个事件 / report an event',
          description: `幂等：同一密钥同一 sourceId 再次上报回答 200 与第一次的事件编号（duplicate: true），不建第二个事件，此时请求体不再读取（第一次的内容为准）。请求体至多 ${INGEST_MAX_BODY_BYTES} 字节。`,
          requestBody: {
            required: true,
            content: {
              'application/json': {
                schema: { $ref: '#/components/schemas/IngestReport' },
                examples: {
                  point: { summary: '带坐标', value: { sourceId: '12345-20260301-000123', category: 'road-damage', severity: 2, title: '人行道井盖缺失', description: '市民来电：学校门口人行道井盖缺失。', location: { lon: 116.397, lat: 39.909 }, reporter: { name: '张三', phone: '13800000000' } } },
                  address: { summary: '只有地址', value: { sourceId: '12345-20260301-000124', category: 'road-damage', title: '路灯不亮', description: '小区门口路灯连续三晚不亮。', address: '建设路 12 号' } },
                },
              },
            },
          },
          responses: {
            '201': { description: '已建事件 / the event was made', content: { 'application/json': { schema: { $ref: '#/components/schemas/IngestAnswer' }, example: { eventId: 'E-20260301-0042', duplicate: false, locationResolved: true } } } },
            '200': { description: '重复上报：第一次的事件 / a replay: the first report\'s event', content: { 'application/json': { schema: { $ref: '#/components/schemas/IngestAnswer' }, example: { eventId: 'E-20260301-0042', duplicate: true, locationResolved: true } } } },
            '400': refusal('字段缺失或类型不符（path 指出字段）/ a field is missing or wrong', { code: 'invalid', message: '上报内容有误：title 不能为空', path: 'title' }),
            ...KEY_ERRORS,
            '413': refusal('请求体过大 / the body is too large', { code: 'too-large', message: `请求过大（至多 ${INGEST_MAX_BODY_BYTES} 字节）` }),
            '415': refusal('不是 JSON / not JSON', { code: 'unsupported-media-type', message: '请以 JSON 提交（Content-Type: application/json）' }),
            '422': refusal('坐标不在本市 / the point is outside the city', { code: 'location-outside', message: '坐标 0,0 不在本市范围内', path: 'location' }),
          },
        },
      },
      [API_V1_OPENAPI_PATH]: {
        get: { operationId: 'openapi', summary: '本文档 / this document', security: [], responses: { '200': { description: 'OpenAPI 3.1', content: { 'application/json': { schema: { type: 'object' } } } } } },
      },
    },
    webhooks: {
      eventClosed: {
        post: {
          summary: '事件结案回调 / an event a key reported was closed',
          description: 'POST 到上报的 callbackUrl，没有时到密钥登记的 webhook 地址（每次发送前解析并检查地址，不发往内网）。X-Zongzhi-Timestamp: Unix 秒；X-Zongzhi-Signature: sha256=<hex(HMAC-SHA256(webhook 密钥, `${timestamp}.${body}`))>。回答 2xx 即送达；否则按 10 秒、1 分钟、5 分钟、30 分钟、2 小时重试，之后放弃（审计）。',
          requestBody: { content: { 'application/json': { schema: { $ref: '#/components/schemas/IngestWebhook' }, example: { eventId: 'E-20260301-0042', sourceId: '12345-20260301-000123', status: 'closed', closedAt: '2026-03-02T10:00:00.000Z', satisfaction: 'satisfied', result: '已补装井盖', comment: '市民满意' } } } },
          responses: { '200': { description: '已收到 / received' } },
        },
      },
      eventMerged: {
        post: {
          summary: '事件被合并回调 / an event a key reported was merged into another',
          description: '调度员把上报的事件合并到另一事件（重复上报）：该事件不会再结案，只回调这一次（status merged，intoEventId 为继续处置的事件）。地址、签名与重试同结案回调。',
          requestBody: { content: { 'application/json': { schema: { $ref: '#/components/schemas/IngestWebhook' }, example: { eventId: 'E-20260301-0043', sourceId: '12345-20260301-000124', status: 'merged', intoEventId: 'E-20260301-0042', mergedAt: '2026-03-01T09:30:00.000Z' } } } },
          responses: { '200': { description: '已收到 / received' } },
        },
      },
    },
    components: {
      schemas: schemas(),
      securitySchemes: {
        bearerKey: { type: 'http', scheme: 'bearer', description: 'Authorization: Bearer zk_…' },
        headerKey: { type: 'apiKey', in: 'header', name: 'X-Api-Key' },
      },
    },
  };
}

let document: Record<string, unknown> | null = null;
export const openApiDocument = (): Record<string, unknown> => (document ??= build());
