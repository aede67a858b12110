/**
 * Wire protocol v1 message set, on top of the envelope in wire.ts. Client → server: hello, ping, command, view.
 * Server → client: welcome, pong, snapshot.begin/chunk/end, delta, staff.positions, command.ack, error, notice.
 * Documented in docs/protocol.md; JSON Schema in protocol/schema/wire-v1.schema.json.
 */
import { z } from 'zod';
import { CommandLevel, UserRole } from './vocabulary';
import { ViewPayload } from './audit';
import { AttachmentIds } from './attachments';
import { AlarmKind, LevelProfile } from './duty';
import { PlanRemovePayload, PlanSavePayload } from './plans';
import { CallLogPayload } from './calls';
import { AdminLevel, COLLECTIONS, EventSource, IsoTime, LonLat, ResponsibilityRule, Satisfaction, Severity, StaffStatus } from './model';

export { UserRole } from './vocabulary';

export const ClientId = z.string().regex(/^[0-9A-Za-z_-]{8,64}$/);
const Seq = z.number().int().nonnegative();

// ── client → server ──────────────────────────────────────────────────────────────────────────────────────
export const HelloPayload = z.object({
  token: z.string().min(1).max(512),
  clientId: ClientId,
  protocolVersion: z.number().int(),
  /** Last sequence number applied by the client; null when it holds nothing (then a snapshot follows). */
  lastSeq: Seq.nullable(),
  /** Resume an interrupted snapshot: its id and the next chunk index the client needs. */
  resumeSnapshot: z.object({ snapshotId: z.string().max(64), nextIndex: z.number().int().nonnegative() }).optional(),
  clientName: z.string().max(100).optional(),
  /**
   * The welcome's `syncStamp` under which the client's records (up to lastSeq) were synced: deltas continue them
   * only when the user's area is still the same; otherwise (the administrator changed it, by the console or the
   * command line, on any instance) a fresh snapshot of the new area follows. Absent: a snapshot.
   */
  syncStamp: z.string().max(64).optional(),
  /**
   * Forms the client takes beyond JSON text frames; today only "positions-binary" (live positions as binary
   * frames, protocol/positions-binary.ts). Names the server does not know are ignored; without it, all JSON.
   */
  accept: z.array(z.string().max(64)).max(16).optional(),
});
export type HelloPayload = z.infer<typeof HelloPayload>;

export const PingPayload = z.object({ clientTime: IsoTime });

const EventRef = { eventId: z.string().min(1).max(64), baseVersion: z.number().int().positive().optional() };
const Text = (max: number) => z.string().trim().min(1).max(max);
/** A department code, an event category code, a liaison account: letters, digits and _ . - (as the import takes them). */
const Code = z.string().trim().regex(/^[\w.-]{1,40}$/, '只能含字母、数字和 _ . -，至多 40 个字符 (letters, digits and _ . -, at most 40 characters)');
/** A step limit: a positive whole number of minutes, at most a year (as the import takes them). */
const LimitMinutes = z.number().int().positive().max(366 * 24 * 60);

/** Every command type and its payload. The server checks role and area scope for each. */
export const commandPayloads = {
  'event.report': z.object({
    source: EventSource,
    category: z.string().max(64),
    severity: Severity,
    title: Text(200),
    description: z.string().max(4000),
    location: LonLat,
    /** How sure the location is, in metres (a phone's GPS fix). */
    accuracy: z.number().nonnegative().max(100_000).optional(),
    address: z.string().max(200).optional(),
    reporter: z.object({ name: z.string().max(50), phone: z.string().max(30) }).optional(),
    cameraId: z.string().max(64).optional(),
    /** Attachments uploaded before (POST /attachments), by id: photos, a short video, a voice note. */
    attachments: AttachmentIds.optional(),
    /** 位置待核实: the address could not be placed (the ingest API places such a report at the city's centre). */
    locationUnresolved: z.literal(true).optional(),
  }),
  'event.accept': z.object({ ...EventRef }),
  'event.dispatch': z
    .object({ ...EventRef, departmentId: z.string().max(64).optional(), staffId: z.string().max(64).optional(), note: z.string().max(2000).optional() })
    .refine((p) => p.departmentId !== undefined || p.staffId !== undefined, { message: 'dispatch needs a department or a staff member' }),
  'event.reassign': z
    .object({ ...EventRef, departmentId: z.string().max(64).optional(), staffId: z.string().max(64).optional(), reason: Text(2000) })
    .refine((p) => p.departmentId !== undefined || p.staffId !== undefined, { message: 'reassign needs a department or a staff member' }),
  'event.cohandle.request': z.object({ ...EventRef, departmentId: z.string().max(64), reason: Text(2000) }),
  'event.cohandle.decide': z.object({ ...EventRef, requestId: z.string().max(64), approve: z.boolean(), note: z.string().max(2000).optional() }),
  'event.supervise': z.object({ ...EventRef, note: Text(2000) }),
  'event.escalate': z.object({ ...EventRef, reason: Text(2000) }),
  'event.sign': z.object({ ...EventRef }),
  'event.feedback': z.object({ ...EventRef, note: Text(4000), attachments: AttachmentIds.optional() }),
  /** 到场: the grid staff member is at the place (their phone's position and its accuracy in metres); may be repeated. */
  'event.arrive': z.object({ ...EventRef, position: LonLat, accuracy: z.number().nonnegative().max(100_000) }),
  /** 退回: the department says the event is not theirs (before feedback); it goes back to the dispatcher to re-dispatch. */
  'event.return': z.object({ ...EventRef, reason: Text(2000) }),
  /**
   * 核实位置: the desk sets where an event flagged 位置待核实 is — a WGS84 point (its current one: confirmed), or one
   * of the city's places (its position and address). The grid is resolved again and the flag cleared.
   */
  'event.locate': z
    .object({ ...EventRef, location: LonLat.optional(), placeId: z.string().min(1).max(64).optional(), address: z.string().trim().max(200).optional() })
    .refine((p) => (p.location === undefined) !== (p.placeId === undefined), { message: 'locate needs a location or a placeId (one of them)' }),
  /** 申请延期: more minutes for the current step (at most 30 days), with a reason; the dispatcher decides. */
  'event.extension.request': z.object({ ...EventRef, minutes: z.number().int().positive().max(30 * 24 * 60), reason: Text(2000) }),
  'event.extension.decide': z.object({ ...EventRef, requestId: z.string().max(64), approve: z.boolean(), note: z.string().max(2000).optional() }),
  'event.followup': z.object({ ...EventRef, note: Text(2000), reached: z.boolean() }),
  'event.close': z.object({ ...EventRef, satisfaction: Satisfaction, comment: z.string().max(2000) }),
  'event.reopen': z.object({ ...EventRef, reason: Text(2000) }),
  'event.merge': z.object({ ...EventRef, intoEventId: z.string().min(1).max(64) }),
  'event.comment': z.object({ ...EventRef, text: Text(2000) }),
  'event.assign': z.object({
    title: Text(200),
    instructions: Text(4000),
    category: z.string().max(64),
    severity: Severity,
    location: LonLat,
    departmentId: z.string().max(64).optional(),
  }),
  'level.set': z.object({ level: CommandLevel, reason: Text(500), incidentId: z.string().min(1).max(64).nullable().optional() }),
  /** What a level means (administrators): alarm policy, step-limit factors, walls first, 下沉干部 called. */
  'level.profile.save': LevelProfile.omit({ updatedAt: true, updatedBy: true }),
  'plan.tick': z.object({ itemId: z.string().min(1).max(64), done: z.boolean() }),
  'duty.handover': z.object({
    notes: z.string().max(8000),
    openItems: z.array(z.object({ text: Text(500), eventId: z.string().max(64).nullable() })).max(200),
    toUserId: z.string().max(64).nullable(),
    /** Every alarm still unacknowledged in the officer's area, handed over by id (one left out: refused). */
    alarmIds: z.array(z.string().max(80)).max(10_000).default([]),
  }),
  'duty.acknowledge': z.object({ handoverId: z.string().max(64) }),
  // 告警: raised, escalated and cleared by the backend (the system actor only); acknowledged by a person.
  'alarm.raise': z.object({ eventId: z.string().min(1).max(64), kind: AlarmKind, key: z.string().min(1).max(40), detail: z.string().max(500) }),
  'alarm.escalate': z.object({ alarmId: z.string().min(1).max(80), toRung: z.number().int().min(2).max(5) }),
  'alarm.clear': z.object({ alarmId: z.string().min(1).max(80) }),
  'alarm.acknowledge': z.object({ alarmId: z.string().min(1).max(80), note: z.string().max(500).optional() }),
  // 基础数据 (administrators): departments and the responsibility list, the same checks as their import.
  /** A new department (no id) or an edit of the department with this id. */
  'department.save': z.object({ id: z.string().min(1).max(64).optional(), code: Code, name: Text(100), liaison: Code.optional() }),
  'department.remove': z.object({ departmentId: z.string().min(1).max(64) }),
  /** The rule of one event category, new or replaced whole; new limits apply to new events and new steps. */
  'rule.save': z.object({
    category: Code,
    categoryName: Text(100),
    departmentId: z.string().min(1).max(64),
    limits: z.object({ report: LimitMinutes, dispatch: LimitMinutes, handle: LimitMinutes, followup: LimitMinutes, close: LimitMinutes }),
    handlingLevel: ResponsibilityRule.shape.handlingLevel,
  }),
  'rule.remove': z.object({ category: z.string().min(1).max(64) }),
  // 应急预案 (administrators): a plan, new or replaced whole; a plan removed (protocol/plans.ts).
  'plan.save': PlanSavePayload,
  'plan.remove': PlanRemovePayload,
  /**
   * 通话记录: a finished call of the console's softphone, to the backend (its calls, for replay and the 复盘 report);
   * about an event, an entry 'call' in its history. Sent by the hub with command id `call-log-<call id>` (once).
   */
  'call.log': CallLogPayload,
} as const;

export type CommandType = keyof typeof commandPayloads;
export const COMMAND_TYPES = Object.keys(commandPayloads) as CommandType[];
export type CommandPayload<T extends CommandType> = z.infer<(typeof commandPayloads)[T]>;
/** What a sender writes for a command of type T (optional fields may be left out). */
export type CommandInput<T extends CommandType> = z.input<(typeof commandPayloads)[T]>;
/**
 * A command as the console sends it, typed from the one table of payloads: a misspelt type or a payload of
 * another command is a type error (tests/unit/typed-commands.test.ts). Validated at every process boundary.
 */
export type TypedCommand = { [T in CommandType]: { type: T; payload: CommandInput<T> } }[CommandType];
/** A command after validation against its payload schema (what the hub queues and the handlers run). */
export type CheckedCommand = { [T in CommandType]: { type: T; payload: CommandPayload<T> } }[CommandType];
/** The same as arguments `(type, payload)`, checked against each other at every call. */
export type CommandArgs = { [T in CommandType]: [type: T, payload: CommandInput<T>] }[CommandType];
/** Commands about one event, as arguments without the event id (the caller adds the selected event's). */
export type EventCommandArgs = {
  [T in CommandType]: 'eventId' extends keyof CommandInput<T> ? [type: T, payload: Omit<CommandInput<T>, 'eventId' | 'baseVersion'>] : never;
}[CommandType];

/** A command id: generated by the client, 8–64 url-safe characters. */
export const COMMAND_ID_PATTERN = /^[0-9a-zA-Z_-]{8,64}$/;

/**
 * The command frame's schema at the boundary: the envelope fields are checked here; the type and its payload
 * are checked by the domain against the one table of payloads (an unknown type is refused as 'invalid' there,
 * naming the command), so a receiver validates with this and then runs the domain's check.
 */
export const CommandFrame = z.object({
  commandId: z.string().regex(COMMAND_ID_PATTERN),
  type: z.string().max(64),
  payload: z.unknown(),
  issuedAt: IsoTime,
  /** Time-sensitive commands (e.g. a dispatch decided on stale data) are refused after this. */
  expiresAt: IsoTime.optional(),
});
/** What a sender writes: the envelope fields and a command whose type and payload fit each other. */
export type CommandFrame = Omit<z.infer<typeof CommandFrame>, 'type' | 'payload'> & TypedCommand;

// ── server → client ──────────────────────────────────────────────────────────────────────────────────────
/** The signed-in user's SIP account for audio/video calls (SIP over WebSocket); kept in memory only. */
export const SipAccount = z
  .object({
    /** ws:// or wss:// address of the SIP server's WebSocket listener. */
    url: z.string().regex(/^wss?:\/\/[^\s/?#]+(\/[^\s?#]*)?$/i).max(500),
    username: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/),
    password: z.string().min(1).max(128),
    realm: z.string().min(1).max(64),
    /** The host part of SIP URIs (sip:user@domain). */
    domain: z.string().regex(/^[A-Za-z0-9.-]{1,255}$/),
  })
  .strict();
export type SipAccount = z.infer<typeof SipAccount>;

/**
 * Which backend instance answered: several may serve one database, any of them takes any console and a
 * console resumes on any of them by seq. `id` is new with every start of the instance; `name` is for people.
 */
export const BackendInstance = z.object({ id: z.string().min(1).max(64), name: z.string().min(1).max(128) });
export type BackendInstance = z.infer<typeof BackendInstance>;

/**
 * A user's area scope as admin units of any level (分级授权): districts, streets or communities. A unit the city
 * does not have (a scope set before an import replaced the districts) is listed with level null, named by its id.
 */
export const AreaScope = z.object({
  units: z.array(z.object({ id: z.string().max(64), level: AdminLevel.nullable(), code: z.string().max(16).nullable(), name: z.string().max(128) })).max(256),
});
export type AreaScope = z.infer<typeof AreaScope>;

export const WelcomePayload = z.object({
  sessionId: z.string(),
  user: z.object({ id: z.string(), name: z.string(), role: UserRole }),
  /**
   * The admin unit ids this user may see and act on; null = the whole city. The name is historic: the ids were
   * districts only; they may now be streets and communities too (areaScope says which is which).
   */
  districtScope: z.array(z.string()).nullable(),
  /** The same scope described (level and name of each unit), null = the whole city; absent from older backends. */
  areaScope: AreaScope.nullable().optional(),
  serverTime: IsoTime,
  /** Simulated clock speed (1 = real time): clients run countdowns on server time. */
  clockRate: z.number().positive(),
  currentSeq: Seq,
  sync: z.enum(['snapshot', 'deltas', 'resume-snapshot']),
  heartbeatIntervalMs: z.number().int().positive(),
  limits: z.object({ maxFrameBytes: z.number().int(), commandsPerSecond: z.number(), framesPerSecond: z.number() }),
  /** null: no SIP server configured (calls unavailable, and the console says so). */
  sip: SipAccount.nullable().default(null),
  /** Absent from backends that do not say (older ones): the console then shows the address alone. */
  instance: BackendInstance.optional(),
  /**
   * What opens this backend's own camera streams (`/video/…`) for this connection: added as `?ticket=` to every
   * backend-relative stream URL the console plays (resolveStreamUrl). Made from the hash of the token this
   * connection signed in with — not the token: it cannot sign anyone in — and honoured while that session or
   * static token is current, for cameras in the user's current area scope. Absent from older backends.
   */
  streamTicket: z.string().max(128).optional(),
  /** What the records this session sends are filtered by (the user's area), for the next hello (HelloPayload.syncStamp). */
  syncStamp: z.string().max(64).optional(),
});
export type WelcomePayload = z.infer<typeof WelcomePayload>;

export const Collection = z.enum(COLLECTIONS);

export const SnapshotBegin = z.object({
  snapshotId: z.string(),
  seq: Seq,
  chunkCount: z.number().int().nonnegative(),
  counts: z.record(z.string(), z.number().int().nonnegative()),
  /** Index of the first chunk that follows (non-zero when resuming). */
  fromIndex: z.number().int().nonnegative(),
});
export const SnapshotChunk = z.object({
  snapshotId: z.string(),
  index: z.number().int().nonnegative(),
  collection: Collection,
  items: z.array(z.unknown()),
});
export const SnapshotEnd = z.object({ snapshotId: z.string(), seq: Seq });

export const Change = z.discriminatedUnion('op', [
  z.object({ op: z.literal('upsert'), collection: Collection, id: z.string(), data: z.unknown() }),
  z.object({ op: z.literal('remove'), collection: Collection, id: z.string() }),
]);
export type Change = z.infer<typeof Change>;

/**
 * One committed batch. Every seq reaches every client, in order: a client whose area scope hides all of a
 * batch's changes still gets it with an empty list, so a missing seq always means a gap.
 */
export const DeltaPayload = z.object({
  seq: z.number().int().positive(),
  at: IsoTime,
  changes: z.array(Change),
  /**
   * A batch too large for one frame comes as consecutive parts with the same seq (index 0 … count-1), each
   * within the frame limit; the client applies the batch whole, once its last part has arrived.
   */
  part: z
    .object({ index: z.number().int().nonnegative(), count: z.number().int().min(2).max(10_000) })
    .refine((p) => p.index < p.count, { message: 'part index must be below the count' })
    .optional(),
});
export type DeltaPayload = z.infer<typeof DeltaPayload>;

/** Status codes in position frames (compact: 10,000 staff at 1 Hz). */
export const STAFF_STATUS_CODES = StaffStatus.options;
/**
 * Live staff positions: ephemeral presence, not sequenced (the snapshot carries the latest). This JSON frame is
 * the readable form; a client whose hello accepts "positions-binary" gets the same content as binary frames
 * (protocol/positions-binary.ts, laid out byte by byte in docs/protocol.md) and must still take this one.
 */
export const PositionsPayload = z
  .object({
    at: IsoTime,
    /** [staffId, lon, lat, statusCode index into STAFF_STATUS_CODES] */
    items: z.array(z.tuple([z.string(), z.number(), z.number(), z.number().int().min(0).max(3)])),
  })
  .describe(
    'Live staff positions (not sequenced). The readable form; a client whose hello has accept: ["positions-binary"] gets the same content as WebSocket binary frames (see binaryFrames and docs/protocol.md) and must still accept this JSON frame.',
  );
export type PositionsPayload = z.infer<typeof PositionsPayload>;

export const CommandAck = z.object({
  commandId: z.string(),
  /** Sequence number of the change it made (the client applies the delta of that seq). */
  seq: z.number().int().positive(),
  result: z.record(z.string(), z.unknown()),
  /** True when this command id was applied before: this is the first answer again, nothing changed. */
  duplicate: z.boolean(),
});
export type CommandAck = z.infer<typeof CommandAck>;

export const NoticePayload = z.object({ level: z.enum(['info', 'warning']), message: z.string() });

export const wireFrames = {
  clientToServer: { hello: HelloPayload, ping: PingPayload, command: CommandFrame, view: ViewPayload },
  serverToClient: {
    welcome: WelcomePayload,
    pong: z.object({ clientTime: IsoTime, serverTime: IsoTime }),
    'snapshot.begin': SnapshotBegin,
    'snapshot.chunk': SnapshotChunk,
    'snapshot.end': SnapshotEnd,
    delta: DeltaPayload,
    'staff.positions': PositionsPayload,
    'command.ack': CommandAck,
    notice: NoticePayload,
  },
} as const;
