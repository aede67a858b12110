/**
 * What windows pass to each other through the hub (show this on the wall) and the call log of 音视频调度,
 * with the SIP account a window calls with.
 */
import { z } from 'zod';
import { DisplayRole } from '../vocabulary';
import { IsoTime } from '../model';
import { SipAccount } from '../wire-messages';
import { KpiPeriod } from '../kpi';
import { CallLogEntry, SipUser } from '../calls';


/**
 * "Show this on the wall", from any window to the windows that show that wall: the desk asks, the map wall
 * flies there. The hub keeps the latest request; windows act only on requests made after they subscribed.
 */
/** The district KPIs the map can be coloured by (考核指标上图): the ranking's columns. */
export const MapKpiKey = z.enum(['closureRate', 'satisfactionRate', 'overdue', 'score']);
export type MapKpiKey = z.infer<typeof MapKpiKey>;
/** Colour the map's districts by this KPI of this period. */
export const MapKpiLayer = z.object({ key: MapKpiKey, period: KpiPeriod }).strict();
export type MapKpiLayer = z.infer<typeof MapKpiLayer>;

export const WallRequest = z.discriminatedUnion('wall', [
  /**
   * Fly to a thing (event, grid, staff, camera), a district (its id) or the whole city ('city'); with `kpi`, the
   * KPI wall's drill-down: colour the districts by that KPI as well.
   */
  z.object({ wall: z.literal('map'), kind: z.enum(['event', 'grid', 'staff', 'camera', 'district', 'city']), id: z.string().min(1).max(200), kpi: MapKpiLayer.optional() }).strict(),
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

// The call log's entry and how a call ends live with the calls' other contracts (protocol/calls.ts).
export { CallResult, CallLogEntry } from '../calls';
export const CALL_LOG_LIMIT = 500;
/** The newest calls first (at most CALL_LOG_LIMIT). */
export const CallLogState = z.object({ entries: z.array(CallLogEntry) });
export type CallLogState = z.infer<typeof CallLogState>;

/**
 * Whether this window sounds the console's alarms: one window per console does (the desk, else a single-window
 * console, else a wall; a demo screen last), so several windows never ring the same alarm at once.
 */
export const AlarmVoiceState = z.object({ voice: z.boolean(), windows: z.number().int().min(0) });
export type AlarmVoiceState = z.infer<typeof AlarmVoiceState>;

/** The window's SIP account for calls, from the backend via the hub (memory only). */
export const SipState = z.object({ account: SipAccount.nullable() });
export type SipState = z.infer<typeof SipState>;
