/**
 * The Hub API method table: one entry per method with its params and result schemas, the single source for
 * the TypeScript types, the validators on both sides of a bridge and the JSON Schema; the replies and the
 * browser host's framing; the interface both renderer bridges implement.
 */
import { z } from 'zod';
import { DisplayRole } from '../vocabulary';
import { IsoTime, type CollectionName } from '../model';
import type { HubMethodName } from '../ipc-channels';
import { Settings, SettingsPatch } from './settings';
import type { ConnectionState } from './connection';
import { Query, SubscriptionId, SubscriptionUpdate, type CollectionFilter, type OutboxEntry, type PositionRow, type ViewRow } from './rows';
import { CallLogEntry, ShowOnWallResult, WallRequest, type AlarmVoiceState, type CallLogState, type SipState, type WallRequestState } from './walls-and-calls';
import { WallMemory, WallName, WallPresetName, WallPresets, WallState, VideoLayout, VIDEO_WALL_MAX_TILES } from './wall-layouts';
import { HubErrorShape } from './errors';
import { REPLAY_SPEED_MAX, ReplayStartParams, ReplayState } from './replay';
import { HistoryTracks, TRACKS_MAX_STAFF } from '../history';
import { CALLS_LIMIT_MAX, CallsAnswer } from '../calls';
import { CommandId, CommandReceipt, CommandRequest, type TypedCommandRequest } from './commands';
import { KeyPersonsAnswer, RegisterLevel } from '../registers';
import { UserRole } from '../wire-messages';
import { AuditCsv, AuditPage, AuditQuery, type AuditFilters } from '../audit';
import { AdminUserList, AdminUserRow, CreateUserRequest, UpdateUserRequest, UserLogin } from '../users-admin';
import { API_KEY_ID_PATTERN, ApiKeyList, ApiKeyRow, CreateApiKeyRequest, CreatedApiKey } from '../api-keys';

export const HUB_API_VERSION = 1;

export interface TopicData {
  connection: ConnectionState;
  settings: Settings;
  wall: WallRequestState;
  sip: SipState;
  calls: CallLogState;
  voice: AlarmVoiceState;
  replay: ReplayState;
}
export type Topic = keyof TopicData;

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

/**
 * signIn's answer: the user signed in, or why not (lockedUntil with 'locked'), worded by the window by reason.
 * 'outbox-pending': another user than the one whose commands wait in the outbox (a seat switch): refused until
 * they are sent or discarded, so that nothing goes out in the incoming officer's name (pendingCommands says how many).
 */
export const SignInResult = z.discriminatedUnion('ok', [
  z.object({ ok: z.literal(true), user: z.object({ id: z.string(), name: z.string(), role: UserRole }), expiresAt: IsoTime }),
  z.object({
    ok: z.literal(false),
    reason: z.enum(['wrong-password', 'locked', 'disabled', 'wrong-app', 'unreachable', 'no-backend', 'refused', 'outbox-pending']),
    /** With 'outbox-pending': how many commands of the previous user wait. */
    pendingCommands: z.number().int().nonnegative().optional(),
    message: z.string().max(2000),
    lockedUntil: IsoTime.nullable(),
  }),
]);
export type SignInResult = z.infer<typeof SignInResult>;

/** The method table. Params are validated by the hub; results are validated by the client bridges. */
/**
 * Static city layers the map draws but the live protocol does not carry (they never change while running):
 * the synthetic city's building footprints. Columns, not objects: 50,000 buildings cross a bridge as six arrays.
 */
export const CityLayerName = z.enum(['buildings']);
export type CityLayerName = z.infer<typeof CityLayerName>;
export const BuildingsLayer = z.object({
  count: z.number().int().nonnegative().max(1_000_000),
  /** Footprint centres, degrees. */
  lon: z.array(z.number()),
  lat: z.array(z.number()),
  /** Metres: side along the rotation axis, side across it, height. */
  width: z.array(z.number()),
  depth: z.array(z.number()),
  height: z.array(z.number()),
  /** Degrees counter-clockwise from east. */
  rotation: z.array(z.number()),
}).refine((b) => [b.lon, b.lat, b.width, b.depth, b.height, b.rotation].every((column) => column.length === b.count), 'every column must have count entries');
export type BuildingsLayer = z.infer<typeof BuildingsLayer>;

export const hubMethods = {
  hello: { params: HelloParams, result: HelloResult },
  getSettings: { params: Empty, result: Settings },
  updateSettings: { params: SettingsPatch, result: Settings },
  subscribe: { params: z.object({ query: Query }).strict(), result: z.object({ subscriptionId: SubscriptionId }) },
  unsubscribe: { params: z.object({ subscriptionId: SubscriptionId }).strict(), result: Empty },
  submitCommand: { params: CommandRequest, result: CommandReceipt },
  /** Sends a rejected or expired command again, as a new command (a new id: the old one has its answer). */
  retryCommand: { params: z.object({ commandId: CommandId }).strict(), result: CommandReceipt },
  /** Drops a rejected, expired or still pending command from the outbox. */
  discardCommand: { params: z.object({ commandId: CommandId }).strict(), result: Empty },
  /** A static city layer from the backend, cached by the hub so the map draws it offline too. */
  getCityLayer: { params: z.object({ layer: CityLayerName }).strict(), result: BuildingsLayer },
  /**
   * The 重点人员 register of one area, fetched from the backend for each call (never cached: personal data);
   * masked unless the signed-in role may see it, and always on a demo screen. Every call is audited there.
   */
  keyPersons: { params: z.object({ target: z.object({ level: RegisterLevel, id: z.string().min(1).max(64) }).strict() }).strict(), result: KeyPersonsAnswer },
  /**
   * The audit log (审计), one page newest first, from the backend for each call (never cached); leaders and
   * administrators of the whole city only, and the read is itself audited there.
   */
  readAudit: { params: AuditQuery, result: AuditPage },
  /** The same entries as a CSV file (BOM, formula cells neutralised), for 导出. */
  exportAudit: { params: AuditQuery, result: AuditCsv },
  /**
   * This window opened an event's detail: the hub tells the backend (the wire's view frame), which audits who saw
   * it and whether the reporter's personal data was shown (the hub decides: never on a demo screen or account).
   * Once per opening; kept in memory while offline (bounded) and sent when the link is back.
   */
  /** `summary`: the window showed the event's card (title, address, status: never its reporter), not its detail. */
  recordView: { params: z.object({ what: z.literal('event'), id: z.string().min(1).max(64), summary: z.boolean().optional() }).strict(), result: Empty },
  /** Asks the windows that show a wall to show something (see WallRequest). */
  showOnWall: { params: WallRequest, result: ShowOnWallResult },
  /**
   * What a video wall remembers (wall-layouts.ts), kept in the hub cache: its saved layout, tiles and tour, and
   * the console's named layouts (预案布局). saveWall replaces the wall's state; a preset saved under an existing
   * name replaces it; both preset methods answer the whole list.
   */
  getWall: { params: z.object({ wall: WallName }).strict(), result: WallMemory },
  saveWall: { params: z.object({ wall: WallName, state: WallState }).strict(), result: Empty },
  saveWallPreset: {
    params: z.object({ name: WallPresetName, layout: VideoLayout, tiles: z.array(z.string().regex(/^[A-Za-z0-9_-]{1,64}$/).nullable()).max(VIDEO_WALL_MAX_TILES) }).strict(),
    result: WallPresets,
  },
  deleteWallPreset: { params: z.object({ name: WallPresetName }).strict(), result: WallPresets },
  /** Adds a finished call to the call log (hub cache); the same id twice is kept once. */
  logCall: { params: CallLogEntry, result: Empty },
  /**
   * Starts the embedded backend again now, with a fresh count of failures (the 重试 button, once a person has
   * fixed what stopped it). 'unavailable' when the console uses a configured backend instead.
   */
  restartBackend: { params: Empty, result: Empty },
  /**
   * Signs this console in with a user name and password (the hub calls the backend's /auth/login; the password
   * goes nowhere else): every window then works as that user. A refusal is an answer, not an error.
   */
  signIn: { params: z.object({ user: z.string().trim().min(1).max(64), password: z.string().min(1).max(256) }).strict(), result: SignInResult },
  /** Signs the console's user out (the session ends at the backend, the link closes; the cache stays). */
  signOut: { params: Empty, result: Empty },
  /**
   * 用户管理 (city-wide administrators; the backend decides and audits): the users, a new user with an initial
   * password, a change (name, role, scope, disabled, a reset password). From the backend for each call, never cached.
   */
  listUsers: { params: Empty, result: AdminUserList },
  createUser: { params: CreateUserRequest, result: AdminUserRow },
  updateUser: { params: z.object({ id: UserLogin, change: UpdateUserRequest }).strict(), result: AdminUserRow },
  /**
   * 接入密钥 (city-wide administrators; the backend decides and audits): source systems' API keys, a new one (its
   * key in this answer only, never kept by the hub), a revocation. From the backend for each call, never cached.
   */
  listApiKeys: { params: Empty, result: ApiKeyList },
  createApiKey: { params: CreateApiKeyRequest, result: CreatedApiKey },
  revokeApiKey: { params: z.object({ id: z.string().regex(API_KEY_ID_PATTERN) }).strict(), result: ApiKeyRow },
  /**
   * 复盘回放 (replay.ts): every window of the console moves to the city as it stood at a past time. replayStart
   * (a range, or an event's with a margin) opens it at its start, paused; replaySeek moves T; replayPlay plays at
   * a speed (0: pause); replayStop goes back to live. Each answers the replay topic's state after the move (a
   * refusal of the backend's history is its `error`, in Chinese, the replay staying where it was).
   */
  replayStart: { params: ReplayStartParams, result: ReplayState },
  replaySeek: { params: z.object({ at: IsoTime }).strict(), result: ReplayState },
  replayPlay: { params: z.object({ speed: z.number().int().min(0).max(REPLAY_SPEED_MAX) }).strict(), result: ReplayState },
  replayStop: { params: Empty, result: ReplayState },
  /** Staff tracks over a range (the backend's GET /history/tracks, at most 24 h), for the map during replay. */
  replayTracks: {
    params: z.object({ from: IsoTime, to: IsoTime, staffIds: z.array(z.string().min(1).max(64)).min(1).max(TRACKS_MAX_STAFF).optional() }).strict(),
    result: HistoryTracks,
  },
  /**
   * 复盘报告: the calls about one event begun in [from, to) city time, from the backend's call log (GET /calls,
   * scoped and audited there), masked for a demo screen. Live or in replay alike (it acts on nothing).
   */
  eventCalls: {
    params: z
      .object({ eventId: z.string().min(1).max(64), from: IsoTime, to: IsoTime, limit: z.number().int().min(1).max(CALLS_LIMIT_MAX).optional() })
      .strict()
      .refine((q) => Date.parse(q.from) < Date.parse(q.to), { message: 'from must be before to', path: ['to'] }),
    result: CallsAnswer,
  },
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
/**
 * Attachments reach windows over HTTP, not the Hub API's frames (media elements load them by URL, with Range
 * requests to seek): `GET <path>/<id>` and `GET <path>/<id>/thumb`, served by the hub from its cache (fetched
 * from the backend once), and `POST <path>` (multipart/form-data, one part `file`) uploads through the hub,
 * answering an AttachmentRef. The browser host serves it on its origin (with `?token=`, as the WebSocket), the
 * Electron main process on app://console; errors answer JSON `{code, message}` with a HubErrorCode.
 */
export const HUB_ATTACHMENTS_PATH = '/hub/attachments';
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
export interface RowsChange<R> {
  upserts: R[];
  removes: string[];
  /** True for the first (whole) result. */
  reset: boolean;
}
export type RowsListener<R> = (rows: ReadonlyMap<string, R>, change: RowsChange<R>) => void;

export interface HubApi {
  readonly bridge: 'ipc' | 'websocket';
  hello(params?: HubParams<'hello'>): Promise<HelloResult>;
  getSettings(): Promise<Settings>;
  updateSettings(patch: SettingsPatch): Promise<Settings>;
  submitCommand(command: TypedCommandRequest): Promise<CommandReceipt>;
  retryCommand(commandId: string): Promise<CommandReceipt>;
  discardCommand(commandId: string): Promise<void>;
  getCityLayer(layer: CityLayerName): Promise<BuildingsLayer>;
  keyPersons(target: { level: RegisterLevel; id: string }): Promise<KeyPersonsAnswer>;
  readAudit(query: AuditFilters): Promise<AuditPage>;
  exportAudit(query: AuditFilters): Promise<AuditCsv>;
  recordView(view: { what: 'event'; id: string; summary?: boolean }): Promise<void>;
  showOnWall(request: WallRequest): Promise<ShowOnWallResult>;
  logCall(entry: CallLogEntry): Promise<void>;
  getWall(wall: string): Promise<WallMemory>;
  saveWall(wall: string, state: WallState): Promise<void>;
  saveWallPreset(preset: HubParams<'saveWallPreset'>): Promise<WallPresets>;
  deleteWallPreset(name: string): Promise<WallPresets>;
  restartBackend(): Promise<void>;
  signIn(credentials: { user: string; password: string }): Promise<SignInResult>;
  signOut(): Promise<void>;
  listUsers(): Promise<AdminUserList>;
  createUser(user: CreateUserRequest): Promise<AdminUserRow>;
  updateUser(id: string, change: UpdateUserRequest): Promise<AdminUserRow>;
  listApiKeys(): Promise<ApiKeyList>;
  createApiKey(key: CreateApiKeyRequest): Promise<CreatedApiKey>;
  revokeApiKey(id: string): Promise<ApiKeyRow>;
  replayStart(params: ReplayStartParams): Promise<ReplayState>;
  replaySeek(at: string): Promise<ReplayState>;
  /** 0: pause. */
  replayPlay(speed: number): Promise<ReplayState>;
  replayStop(): Promise<ReplayState>;
  replayTracks(query: HubParams<'replayTracks'>): Promise<HistoryTracks>;
  eventCalls(query: HubParams<'eventCalls'>): Promise<CallsAnswer>;
  subscribe<T extends Topic>(query: Extract<Query, { topic: T }>, listener: UpdateListener<T>): Promise<() => Promise<void>>;
  /** Rows of a collection (by filter), of live positions, or of the outbox: the whole result, then patches. */
  subscribeRows<C extends CollectionName>(query: { topic: 'collection'; collection: C; filter?: CollectionFilter }, listener: RowsListener<ViewRow<C>>): Promise<() => Promise<void>>;
  subscribeRows(query: { topic: 'positions' }, listener: RowsListener<PositionRow>): Promise<() => Promise<void>>;
  subscribeRows(query: { topic: 'outbox' }, listener: RowsListener<OutboxEntry>): Promise<() => Promise<void>>;
  close(): void;
}

/** Raw calls both bridges are built on: the preload's explicit methods, or the WebSocket request/response. */
export interface HubTransport {
  call(method: HubMethod, params: unknown): Promise<HubReply>;
  onUpdate(listener: (update: SubscriptionUpdate) => void): () => void;
  close(): void;
}
