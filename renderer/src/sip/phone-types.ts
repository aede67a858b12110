/** The phone's vocabulary: its status and failures, a call as the app sees it, the options, the timings. */
import type { Session } from 'sip.js';
import type { SipAccount } from '../../../protocol/wire-messages';

export type PhoneStatus = 'off' | 'connecting' | 'registered' | 'reconnecting' | 'failed';
/** Why the phone is not registered: the user sees a Chinese message for each. */
export type PhoneFailure = 'auth' | 'unreachable' | 'media' | 'other';

export type CallState = 'dialing' | 'incoming' | 'established' | 'reconnecting' | 'ended';
export type CallResult = 'answered' | 'declined' | 'busy' | 'no-answer' | 'unreachable' | 'cancelled' | 'failed' | 'transferred';

export interface CallInfo {
  id: string;
  direction: 'outgoing' | 'incoming';
  /** The other end's SIP user. */
  peer: string;
  /** The other end's display name when it sent one. */
  peerName: string;
  /** Who was called on this side (incoming calls): the To user and name; the simulated staff answer as them. */
  localUser: string;
  localName: string;
  video: boolean;
  state: CallState;
  startedAt: number;
  answeredAt: number | null;
  endedAt: number | null;
  muted: boolean;
  held: boolean;
  /** Set when the call ends. */
  result: CallResult | null;
  /** The SIP status or reason behind a failed result, for the detail line. */
  cause: string;
  /** Free-form context the app attaches (event id, group id). */
  tags: Record<string, string>;
  /** When the last successful recovery finished (ms), for the UI and tests. */
  recoveredAt: number | null;
  recoveries: number;
}

export interface PhoneOptions {
  account: SipAccount;
  displayName?: string;
  /** TURN/STUN for deployments behind NAT; [] on loopback (the tests). */
  iceServers?: RTCIceServer[];
  /** Local media for a call (default: getUserMedia); the console mixes group calls, the simulator draws. */
  localMedia?: (constraints: MediaStreamConstraints, call: CallInfo) => Promise<MediaStream>;
  /** Called for every change of the phone's or a call's state. */
  onChange?: () => void;
  /** An incoming call (already in `calls`, state 'incoming'). */
  onIncoming?: (call: CallInfo) => void;
  /** A transfer the far end asked for was carried out: the new call. */
  onTransferred?: (call: CallInfo) => void;
  /** ms a dropped call may take to come back (default 15 s). */
  recoveryLimitMs?: number;
}

export const RECOVERY_LIMIT_MS = 15_000;
export const RECONNECT_DELAYS_MS = [250, 500, 1000, 2000, 3000];
/** How long a recovery waits for its REGISTER to be answered before reconnecting again. */
export const REGISTER_TIMEOUT_MS = 5000;
/** How long the callee of a dropped call waits for the caller's recovery re-INVITE before sending its own. */
export const CALLEE_REINVITE_DELAY_MS = 2500;
export const SIP_USER = /^[A-Za-z0-9_.-]{1,64}$/;

export interface CallRecord {
  info: CallInfo;
  session: Session;
  recoveryTimer: ReturnType<typeof setTimeout> | null;
  /** A REFER of ours is under way: the far end's BYE that follows means transferred, not hung up. */
  transferring: boolean;
}

/** A new call's record as the app sees it, before its first state change. */
export function newCallInfo(id: string, session: Session, direction: CallInfo['direction'], peer: string, peerName: string, video: boolean, tags: Record<string, string>): CallInfo {
  return {
    id,
    direction,
    peer,
    peerName,
    localUser: session.localIdentity.uri.user ?? '',
    localName: session.localIdentity.displayName ?? '',
    video,
    state: direction === 'incoming' ? 'incoming' : 'dialing',
    startedAt: Date.now(),
    answeredAt: null,
    endedAt: null,
    muted: false,
    held: false,
    result: null,
    cause: '',
    tags,
    recoveredAt: null,
    recoveries: 0,
  };
}
