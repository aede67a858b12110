/**
 * The Hub API: what a renderer window may ask of the hub (the console's local brain, one per machine).
 * One method table is the single source for the TypeScript types, the runtime validators on both sides of a
 * bridge (Electron IPC or the browser host's WebSocket) and the JSON Schema in protocol/schema/.
 */
import { z } from 'zod';
import { CommandLevel, DisplayRole, Locale, Theme } from './domain';
import type { HubMethodName } from './ipc-channels';

export const HUB_API_VERSION = 1;

const IsoTime = z.iso.datetime({ offset: true });

export const BackendUrl = z
  .string()
  .max(2048)
  .regex(/^wss?:\/\/[^\s]+$/, 'backend URL must start with ws:// or wss://');

export const Settings = z.object({
  locale: Locale,
  theme: Theme,
  /** null: use the embedded backend started by the console itself. */
  backendUrl: BackendUrl.nullable(),
});
export type Settings = z.infer<typeof Settings>;

export const DEFAULT_SETTINGS: Settings = { locale: 'zh-CN', theme: 'day', backendUrl: null };

export const SettingsPatch = Settings.partial().strict();
export type SettingsPatch = z.infer<typeof SettingsPatch>;

export const ConnectionStatus = z.enum(['online', 'connecting', 'reconnecting', 'offline']);
export type ConnectionStatus = z.infer<typeof ConnectionStatus>;

/** The truth about the backend link, always visible in the status bar. */
export const ConnectionState = z.object({
  status: ConnectionStatus,
  /** When the current status began (e.g. offline since T). */
  since: IsoTime,
  /** Where the hub connects; null while no backend is configured or started. */
  backendUrl: z.string().nullable(),
  /** Commands written locally and not yet acknowledged by the backend. */
  pendingCommands: z.number().int().nonnegative(),
  /** Commands the backend refused that still wait for the user to retry or discard. */
  rejectedCommands: z.number().int().nonnegative(),
  reconnectAttempt: z.number().int().nonnegative(),
  nextRetryAt: IsoTime.nullable(),
  lastError: z.object({ code: z.string(), message: z.string() }).nullable(),
  /** Command level as last known from the backend; null when never received. */
  commandLevel: CommandLevel.nullable(),
});
export type ConnectionState = z.infer<typeof ConnectionState>;

/** Subscribable topics. Each later feature adds its own (events by filter, staff in view, KPIs...). */
export const Query = z.discriminatedUnion('topic', [
  z.object({ topic: z.literal('connection') }).strict(),
  z.object({ topic: z.literal('settings') }).strict(),
]);
export type Query = z.infer<typeof Query>;

export interface TopicData {
  connection: ConnectionState;
  settings: Settings;
}
export type Topic = keyof TopicData;

export const SubscriptionId = z.string().regex(/^sub-[0-9a-z-]{1,40}$/);

/**
 * An update pushed to a subscriber. "snapshot" replaces the whole result (first update, and whenever the
 * hub decides patching is not worth it); "patch" upserts/removes rows of keyed collections by id.
 */
export const SubscriptionUpdate = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('snapshot'), subscriptionId: SubscriptionId, topic: z.string(), data: z.unknown() }),
  z.object({
    kind: z.literal('patch'),
    subscriptionId: SubscriptionId,
    topic: z.string(),
    upserts: z.array(z.record(z.string(), z.unknown())),
    removes: z.array(z.string()),
  }),
  z.object({
    kind: z.literal('error'),
    subscriptionId: SubscriptionId,
    topic: z.string(),
    error: z.lazy(() => HubErrorShape),
  }),
]);
export type SubscriptionUpdate = z.infer<typeof SubscriptionUpdate>;

export const HubErrorCode = z.enum([
  'unknown-method',
  'invalid-params',
  'unauthorized',
  'not-found',
  'unavailable', // the capability exists in the contract but cannot serve right now (e.g. no backend link)
  'internal',
]);
export type HubErrorCode = z.infer<typeof HubErrorCode>;

export const HubErrorShape = z.object({
  code: HubErrorCode,
  /** Technical detail in English; the renderer shows a Chinese message chosen by code, with this one click away. */
  message: z.string().max(4000),
  issues: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
});
export type HubErrorShape = z.infer<typeof HubErrorShape>;

export class HubError extends Error {
  readonly code: HubErrorCode;
  readonly issues: HubErrorShape['issues'];
  constructor(code: HubErrorCode, message: string, issues?: HubErrorShape['issues']) {
    super(message);
    this.name = 'HubError';
    this.code = code;
    this.issues = issues;
  }
  toShape(): HubErrorShape {
    return this.issues ? { code: this.code, message: this.message, issues: this.issues } : { code: this.code, message: this.message };
  }
  static from(shape: HubErrorShape): HubError {
    return new HubError(shape.code, shape.message, shape.issues);
  }
}

export const CommandId = z.string().regex(/^[0-9a-zA-Z_-]{8,64}$/, 'command id must be 8-64 url-safe characters');

export const CommandRequest = z.object({
  commandId: CommandId,
  /** Command type from the wire protocol's command set, e.g. "event.dispatch". */
  type: z.string().regex(/^[a-z]+(\.[a-z-]+)+$/),
  payload: z.record(z.string(), z.unknown()),
});
export type CommandRequest = z.infer<typeof CommandRequest>;

export const CommandReceipt = z.object({
  commandId: CommandId,
  status: z.enum(['pending', 'acked', 'rejected', 'expired']),
  queuedAt: IsoTime,
});
export type CommandReceipt = z.infer<typeof CommandReceipt>;

export const HelloParams = z.object({ displayRole: DisplayRole.optional() }).strict();
export const HelloResult = z.object({
  apiVersion: z.literal(HUB_API_VERSION),
  hubVersion: z.string(),
  bridge: z.enum(['ipc', 'websocket']),
  /** The display role this window should take (from the window's display, or the URL in the browser host). */
  displayRole: DisplayRole,
  hubStartedAt: IsoTime,
});
export type HelloResult = z.infer<typeof HelloResult>;

const Empty = z.object({}).strict();

/** The method table. Params are validated by the hub; results are validated by the client bridges. */
export const hubMethods = {
  hello: { params: HelloParams, result: HelloResult },
  getSettings: { params: Empty, result: Settings },
  updateSettings: { params: SettingsPatch, result: Settings },
  subscribe: { params: z.object({ query: Query }).strict(), result: z.object({ subscriptionId: SubscriptionId }) },
  unsubscribe: { params: z.object({ subscriptionId: SubscriptionId }).strict(), result: Empty },
  submitCommand: { params: CommandRequest, result: CommandReceipt },
} as const;

export type HubMethod = keyof typeof hubMethods;
export type HubParams<M extends HubMethod> = z.input<(typeof hubMethods)[M]['params']>;
export type HubResult<M extends HubMethod> = z.output<(typeof hubMethods)[M]['result']>;
export const HUB_METHOD_NAMES = Object.keys(hubMethods) as HubMethod[];

export function isHubMethod(name: unknown): name is HubMethod {
  return typeof name === 'string' && Object.prototype.hasOwnProperty.call(hubMethods, name);
}

/** What a call returns across a bridge: never a thrown error (IPC would flatten it to a string). */
export const HubReply = z.discriminatedUnion('ok', [
  z.object({ ok: z.literal(true), result: z.unknown() }),
  z.object({ ok: z.literal(false), error: HubErrorShape }),
]);
export type HubReply = z.infer<typeof HubReply>;

/** Browser-host WebSocket framing (IPC uses one channel per method instead). */
export const HUB_WS_PATH = '/hub';
export const HubWsRequest = z.object({ id: z.number().int().nonnegative(), method: z.string().max(64), params: z.unknown() });
export type HubWsRequest = z.infer<typeof HubWsRequest>;
export const HubWsServerMessage = z.union([
  z.object({ id: z.number().int().nonnegative(), reply: HubReply }),
  z.object({ update: SubscriptionUpdate }),
]);
export type HubWsServerMessage = z.infer<typeof HubWsServerMessage>;
/** The hub refuses browser-host frames above this size (they carry calls, not bulk data). */
export const HUB_WS_MAX_FRAME_BYTES = 256 * 1024;

// The preload's channel list must name exactly the methods of the table (checked both ways at compile time).
type SameKeys<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const methodListMatchesTable: SameKeys<HubMethod, HubMethodName> = true;
void methodListMatchesTable;

export type UpdateListener<T extends Topic> = (data: TopicData[T]) => void;

/**
 * The interface both renderer bridges implement and the conformance suite checks.
 * subscribe resolves once the first snapshot was delivered to the listener.
 */
export interface HubApi {
  readonly bridge: 'ipc' | 'websocket';
  hello(params?: HubParams<'hello'>): Promise<HelloResult>;
  getSettings(): Promise<Settings>;
  updateSettings(patch: SettingsPatch): Promise<Settings>;
  submitCommand(command: CommandRequest): Promise<CommandReceipt>;
  subscribe<T extends Topic>(query: Extract<Query, { topic: T }>, listener: UpdateListener<T>): Promise<() => Promise<void>>;
  close(): void;
}

/** Raw calls both bridges are built on: the preload's explicit methods, or the WebSocket request/response. */
export interface HubTransport {
  call(method: HubMethod, params: unknown): Promise<HubReply>;
  onUpdate(listener: (update: SubscriptionUpdate) => void): () => void;
  close(): void;
}
