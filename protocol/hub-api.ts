/**
 * The Hub API: what a renderer window may ask of the hub (the console's local brain, one per machine).
 * One method table is the single source for the TypeScript types, the runtime validators on both sides of a
 * bridge (Electron IPC or the browser host's WebSocket) and the JSON Schema in protocol/schema/.
 */
import { z } from 'zod';
import { CommandLevel, DisplayRole, Locale, Theme } from './vocabulary';
import { EventSource, EventStatus, type CollectionName, type CollectionTypes } from './model';
import { Collection, SipAccount, UserRole, type TypedCommand } from './wire-messages';
import type { HubMethodName } from './ipc-channels';

export const HUB_API_VERSION = 1;

const IsoTime = z.iso.datetime({ offset: true });

export const BackendUrl = z
  .string()
  .max(2048)
  .regex(/^wss?:\/\/[^\s]+$/, 'backend URL must start with ws:// or wss://');

const MapUrl = z.string().max(2048).regex(/^https?:\/\/[^\s/]+(\/[^\s]*)?$/, 'map source URLs start with http:// or https://');

/**
 * Real city map data by configuration (settings.json), no code change. Imagery: an XYZ template
 * ({z}/{x}/{y}, e.g. a city tile server or 天地图 with its tk= key), a TMS folder, or a WMTS endpoint;
 * terrain: a quantized-mesh server; a 3D Tiles tileset (倾斜摄影 oblique photography); grid boundaries as
 * GeoJSON (features with a 15-digit "code" property). null: the offline defaults (bundled NaturalEarthII, the
 * backend's synthetic buildings and grids).
 */
export const ImagerySource = z.discriminatedUnion('type', [
  z.object({ type: z.literal('xyz'), url: MapUrl, maximumLevel: z.number().int().min(1).max(22).optional(), subdomains: z.array(z.string().max(16)).max(8).optional(), credit: z.string().max(200).optional() }).strict(),
  z.object({ type: z.literal('tms'), url: MapUrl, maximumLevel: z.number().int().min(1).max(22).optional(), credit: z.string().max(200).optional() }).strict(),
  z
    .object({
      type: z.literal('wmts'),
      url: MapUrl,
      layer: z.string().max(128),
      style: z.string().max(128).default('default'),
      tileMatrixSetID: z.string().max(128),
      format: z.string().max(64).default('image/png'),
      maximumLevel: z.number().int().min(1).max(22).optional(),
      credit: z.string().max(200).optional(),
    })
    .strict(),
]);
export type ImagerySource = z.infer<typeof ImagerySource>;

export const MapSources = z
  .object({
    imagery: ImagerySource.nullable(),
    terrainUrl: MapUrl.nullable(),
    tilesetUrl: MapUrl.nullable(),
    gridsGeoJsonUrl: MapUrl.nullable(),
  })
  .strict();
export type MapSources = z.infer<typeof MapSources>;
export const DEFAULT_MAP_SOURCES: MapSources = { imagery: null, terrainUrl: null, tilesetUrl: null, gridsGeoJsonUrl: null };

/** Every origin the configured map sources load from (the CSP allows exactly these). */
export function mapSourceOrigins(sources: MapSources): string[] {
  const urls = [sources.imagery?.url, sources.terrainUrl, sources.tilesetUrl, sources.gridsGeoJsonUrl].filter((u): u is string => typeof u === 'string');
  const origins = new Set<string>();
  for (const url of urls) {
    const subdomains = sources.imagery && 'subdomains' in sources.imagery && url === sources.imagery.url ? (sources.imagery.subdomains ?? []) : [];
    const variants = url.includes('{s}') && subdomains.length > 0 ? subdomains.map((sub) => url.replaceAll('{s}', sub)) : [url];
    for (const variant of variants) {
      const match = /^(https?:\/\/[^/?#]+)/i.exec(variant);
      if (match) origins.add(match[1]!.toLowerCase());
    }
  }
  return [...origins];
}

export const Settings = z.object({
  locale: Locale,
  theme: Theme,
  /** null: use the embedded backend started by the console itself. */
  backendUrl: BackendUrl.nullable(),
  map: MapSources,
});
export type Settings = z.infer<typeof Settings>;

export const DEFAULT_SETTINGS: Settings = { locale: 'zh-CN', theme: 'day', backendUrl: null, map: DEFAULT_MAP_SOURCES };

export const SettingsPatch = Settings.partial().strict();
export type SettingsPatch = z.infer<typeof SettingsPatch>;

export const ConnectionStatus = z.enum(['online', 'connecting', 'reconnecting', 'offline']);
export type ConnectionStatus = z.infer<typeof ConnectionStatus>;

/**
 * The embedded backend as the console's supervisor sees it. 'retrying': a start failed or the backend exited,
 * the next try is at nextRetryAt (the pause grows with each failure in a row). 'failed': the supervisor has
 * stopped trying — the backend said its data needs a person, or it failed too often in a row — until a person
 * has fixed the cause and asks for a start (restartBackend).
 */
export const EmbeddedBackendState = z.object({
  state: z.enum(['starting', 'running', 'retrying', 'failed']),
  /** Failed starts (or exits soon after a start) in a row; 0 once it has run a while. */
  failures: z.number().int().nonnegative(),
  nextRetryAt: IsoTime.nullable(),
  /**
   * Why the last try failed: the backend's own refusal code (database-empty, database-not-ours,
   * database-corrupt, database-newer, tokens-unreadable, port-in-use, start-failed) or the supervisor's
   * (exited, start-timeout, not-built). `message` is the technical detail in English; `path` the file concerned.
   */
  lastError: z.object({ code: z.string().max(64), message: z.string().max(4000), path: z.string().max(4096).nullable() }).nullable(),
});
export type EmbeddedBackendState = z.infer<typeof EmbeddedBackendState>;

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
  /** Who the hub is logged in as at the backend (from the last welcome); null before the first one. */
  user: z.object({ id: z.string(), name: z.string(), role: UserRole }).nullable(),
  districtScope: z.array(z.string()).nullable(),
  /** Server clock: serverNow = serverTime + (localNow - localTime) × clockRate (the backend may run faster). */
  serverClock: z.object({ serverTime: IsoTime, localTime: IsoTime, clockRate: z.number().positive() }).nullable(),
  /** Last applied sequence number and when the cache was last in step with the backend. */
  lastSeq: z.number().int().nonnegative(),
  lastSyncedAt: IsoTime.nullable(),
  /** A one-time message for the user (e.g. the cache was rebuilt); null when none. */
  notice: z.string().nullable(),
  /** The embedded backend's supervisor; null when the console links to a configured backend (or none). */
  embeddedBackend: EmbeddedBackendState.nullable(),
});
export type ConnectionState = z.infer<typeof ConnectionState>;

/** Server time now (ms) from the last welcome's clock; local time when none is known yet. */
export function serverNowMs(clock: ConnectionState['serverClock'], localNowMs: number = Date.now()): number {
  if (!clock) return localNowMs;
  return Date.parse(clock.serverTime) + (localNowMs - Date.parse(clock.localTime)) * clock.clockRate;
}

/** Which rows of a collection a window wants. Every condition given must hold. */
export const CollectionFilter = z
  .object({
    ids: z.array(z.string()).max(10_000).optional(),
    districtIds: z.array(z.string()).max(100).optional(),
    gridIds: z.array(z.string()).max(10_000).optional(),
    /** Timeline records of these events. */
    eventIds: z.array(z.string()).max(1000).optional(),
    statuses: z.array(EventStatus).optional(),
    sources: z.array(EventSource).optional(),
    categories: z.array(z.string()).max(100).optional(),
    /** Events: only those not closed or merged. */
    openOnly: z.boolean().optional(),
  })
  .strict();
export type CollectionFilter = z.infer<typeof CollectionFilter>;

/** Subscribable topics: connection state, settings, any collection by filter, live positions, the outbox. */
export const Query = z.discriminatedUnion('topic', [
  z.object({ topic: z.literal('connection') }).strict(),
  z.object({ topic: z.literal('settings') }).strict(),
  z.object({ topic: z.literal('collection'), collection: Collection, filter: CollectionFilter.optional() }).strict(),
  z.object({ topic: z.literal('positions') }).strict(),
  z.object({ topic: z.literal('outbox') }).strict(),
  z.object({ topic: z.literal('wall') }).strict(),
  z.object({ topic: z.literal('sip') }).strict(),
  z.object({ topic: z.literal('calls') }).strict(),
]);
export type Query = z.infer<typeof Query>;

/** A command waiting in the hub's outbox, or refused by the backend and kept for the user to retry or discard. */
export const OutboxEntry = z.object({
  id: z.string(), // the command id
  type: z.string(),
  payload: z.record(z.string(), z.unknown()),
  status: z.enum(['pending', 'rejected', 'expired']),
  queuedAt: IsoTime,
  expiresAt: IsoTime.nullable(),
  attempts: z.number().int().nonnegative(),
  error: z.object({ code: z.string(), message: z.string() }).nullable(),
});
export type OutboxEntry = z.infer<typeof OutboxEntry>;

/**
 * One staff member's live position: [lon, lat], status code (index into STAFF_STATUS_CODES), and the server
 * time of the fix in ms (t), so a window can tell a stale dot from a live one.
 */
export const PositionRow = z.object({ id: z.string(), p: z.tuple([z.number(), z.number()]), s: z.number().int().min(0).max(3), t: z.number() });
export type PositionRow = z.infer<typeof PositionRow>;

/** A collection row as a window sees it: the entity, marked when it shows the guess of a pending command. */
export type ViewRow<C extends CollectionName> = CollectionTypes[C] & { pending?: true };

const SipUser = z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/);

/**
 * "Show this on the wall", from any window to the windows that show that wall: the desk asks, the map wall
 * flies there. The hub keeps the latest request; windows act only on requests made after they subscribed.
 */
export const WallRequest = z.discriminatedUnion('wall', [
  z.object({ wall: z.literal('map'), kind: z.enum(['event', 'grid', 'staff', 'camera']), id: z.string().min(1).max(200) }).strict(),
  /** Open these cameras in the video wall's tiles, first tile first. */
  z.object({ wall: z.literal('video'), cameraIds: z.array(z.string().min(1).max(64)).min(1).max(16) }).strict(),
  /** Call this person from the room's phone (a map wall has none: the desk's softphone places the call). */
  z
    .object({
      wall: z.literal('dispatch'),
      call: z.object({ sipUser: SipUser, name: z.string().max(100), video: z.boolean(), eventId: z.string().min(1).max(200).optional() }).strict(),
    })
    .strict(),
]);
export type WallRequest = z.infer<typeof WallRequest>;
export const WallRequestState = z.object({
  /** 0 before the first request; then one more per request. */
  seq: z.number().int().nonnegative(),
  at: IsoTime,
  request: WallRequest.nullable(),
  /** The asking window's display role. */
  from: DisplayRole.nullable(),
  /**
   * The display role that acts on the request: the wall's own role, except that a call goes to the desk
   * ('dispatch') and, when no desk is open, to a single-window console ('combined'), which has the phone too.
   */
  actBy: DisplayRole.nullable(),
});
export type WallRequestState = z.infer<typeof WallRequestState>;
export const ShowOnWallResult = z.object({
  /** How many other windows show that wall (0: the asking window should show it itself). */
  walls: z.number().int().nonnegative(),
});
export type ShowOnWallResult = z.infer<typeof ShowOnWallResult>;

/** How a call ended (音视频调度 call log). */
export const CallResult = z.enum(['answered', 'declined', 'busy', 'no-answer', 'unreachable', 'cancelled', 'failed', 'transferred']);
export type CallResult = z.infer<typeof CallResult>;

/** One call in the console's call log (kept in the hub cache; shown in the event's timeline when about one). */
export const CallLogEntry = z
  .object({
    id: z.string().regex(/^call-[0-9a-z-]{1,60}$/),
    direction: z.enum(['outgoing', 'incoming']),
    peer: SipUser,
    peerName: z.string().max(100),
    video: z.boolean(),
    startedAt: IsoTime,
    answeredAt: IsoTime.nullable(),
    endedAt: IsoTime,
    /** Talk time in seconds (answer to hang-up); 0 when never answered. */
    durationS: z.number().nonnegative().max(7 * 86_400),
    result: CallResult,
    /** SIP status or reason behind a failed result. */
    cause: z.string().max(300),
    /** The event the call was about, when made from one. */
    eventId: z.string().max(64).nullable(),
    /** Set for the calls of one group call (点对多 / 多方会商). */
    groupId: z.string().max(64).nullable(),
    /** Who made or took it at this console. */
    userId: z.string().max(64),
  })
  .strict()
  .refine((e) => Date.parse(e.endedAt) >= Date.parse(e.startedAt), 'a call cannot end before it started');
export type CallLogEntry = z.infer<typeof CallLogEntry>;
export const CALL_LOG_LIMIT = 500;
/** The newest calls first (at most CALL_LOG_LIMIT). */
export const CallLogState = z.object({ entries: z.array(CallLogEntry) });
export type CallLogState = z.infer<typeof CallLogState>;

/** The window's SIP account for calls, from the backend via the hub (memory only). */
export const SipState = z.object({ account: SipAccount.nullable() });
export type SipState = z.infer<typeof SipState>;

export interface TopicData {
  connection: ConnectionState;
  settings: Settings;
  wall: WallRequestState;
  sip: SipState;
  calls: CallLogState;
}
export type Topic = keyof TopicData;

export const SubscriptionId = z.string().regex(/^sub-[0-9a-z-]{1,40}$/);

/**
 * An update pushed to a subscriber. "snapshot" replaces the whole result (first update, and whenever the
 * hub decides patching is not worth it); "patch" upserts/removes rows of keyed collections by id.
 */
export const SubscriptionUpdate = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('snapshot'),
    subscriptionId: SubscriptionId,
    topic: z.string(),
    data: z.unknown(),
    /** A large result of rows comes in pages: true on all but the last; the client joins them into one result. */
    more: z.literal(true).optional(),
  }),
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
  /** Time-sensitive commands are not sent after this (marked expired instead). */
  expiresAt: IsoTime.optional(),
});
export type CommandRequest = z.infer<typeof CommandRequest>;
/** A command request as a window writes it: the type and its payload checked against each other at compile time. */
export type TypedCommandRequest = TypedCommand & { commandId: string; expiresAt?: string };

export const CommandReceipt = z.object({
  commandId: CommandId,
  status: z.enum(['pending', 'acked', 'rejected', 'expired']),
  queuedAt: IsoTime,
  /** False when the hub could not predict the effect locally (the backend still decides). */
  predicted: z.boolean(),
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
  /** Asks the windows that show a wall to show something (see WallRequest). */
  showOnWall: { params: WallRequest, result: ShowOnWallResult },
  /** Adds a finished call to the call log (hub cache); the same id twice is kept once. */
  logCall: { params: CallLogEntry, result: Empty },
  /**
   * Starts the embedded backend again now, with a fresh count of failures (the 重试 button, once a person has
   * fixed what stopped it). 'unavailable' when the console uses a configured backend instead.
   */
  restartBackend: { params: Empty, result: Empty },
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
  showOnWall(request: WallRequest): Promise<ShowOnWallResult>;
  logCall(entry: CallLogEntry): Promise<void>;
  restartBackend(): Promise<void>;
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
