/**
 * One SIP phone over WebSocket (sip.js): registration that survives network drops, audio/video calls in and
 * out, mute, hold, blind and attended transfer, and the far end's REFER / Replaces for being transferred.
 * Shared by the console's softphone and the field client page (real staff, the simulated staff, the tests).
 *
 * Drop recovery (what no reference does well): when the SIP WebSocket drops, calls in progress go to
 * 'reconnecting' (media keeps flowing peer to peer meanwhile); the phone reconnects with backoff, registers
 * again, and re-INVITEs every call with an ICE restart, so the dialog learns the new connection and the media
 * path is renegotiated. The re-INVITE names the far end's address of record, so it also finds a far end that
 * reconnected itself (the SIP server restarted: both ends lost their connections and the server its
 * registrations); the caller re-INVITEs first, the callee only if none came (no glare). A call not back within
 * RECOVERY_LIMIT_MS is ended as failed.
 */
import {
  Invitation,
  Inviter,
  Registerer,
  RegistererState,
  SessionState,
  SIPExtension,
  UserAgent,
  type Session,
  type SessionDescriptionHandlerFactory,
  type URI,
  NameAddrHeader,
} from 'sip.js';
import { SessionDescriptionHandler, type SessionDescriptionHandlerOptions } from 'sip.js/lib/platform/web';
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

/** sip.js keeps a dialog's remote target in protected state and offers no setter. */
function setRemoteTarget(dialog: NonNullable<Session['dialog']>, target: URI): void {
  (dialog as unknown as { dialogState: { remoteTarget: URI } }).dialogState.remoteTarget = target;
}

export const RECOVERY_LIMIT_MS = 15_000;
const RECONNECT_DELAYS_MS = [250, 500, 1000, 2000, 3000];
/** How long a recovery waits for its REGISTER to be answered before reconnecting again. */
const REGISTER_TIMEOUT_MS = 5000;
/** How long the callee of a dropped call waits for the caller's recovery re-INVITE before sending its own. */
const CALLEE_REINVITE_DELAY_MS = 2500;
const SIP_USER = /^[A-Za-z0-9_.-]{1,64}$/;

interface CallRecord {
  info: CallInfo;
  session: Session;
  recoveryTimer: ReturnType<typeof setTimeout> | null;
  /** A REFER of ours is under way: the far end's BYE that follows means transferred, not hung up. */
  transferring: boolean;
}

export class SipPhone {
  status: PhoneStatus = 'off';
  failure: PhoneFailure | null = null;
  failureDetail = '';
  readonly calls = new Map<string, CallInfo>();
  private readonly records = new Map<string, CallRecord>();
  private readonly userAgent: UserAgent;
  private readonly registerer: Registerer;
  private stopped = false;
  private reconnecting = false;
  private counter = 0;

  constructor(private readonly options: PhoneOptions) {
    const { account } = options;
    const uri = UserAgent.makeURI(`sip:${account.username}@${account.domain}`);
    if (!uri) throw new Error(`invalid SIP account ${account.username}@${account.domain}`);
    const factory: SessionDescriptionHandlerFactory = (session, factoryOptions?: { iceGatheringTimeout?: number }) => {
      const media = (constraints: MediaStreamConstraints): Promise<MediaStream> => {
        const info = [...this.records.values()].find((r) => r.session === session)?.info;
        if (!info) return Promise.reject(new Error('media asked for an unknown call'));
        if (!constraints.audio && !constraints.video) return Promise.resolve(new MediaStream());
        return options.localMedia ? options.localMedia(constraints, info) : navigator.mediaDevices.getUserMedia(constraints);
      };
      return new SessionDescriptionHandler(session.userAgent.getLogger('sip.SessionDescriptionHandler'), media, {
        // With no STUN/TURN there is nothing to wait for beyond the host candidates.
        iceGatheringTimeout: factoryOptions?.iceGatheringTimeout ?? ((options.iceServers ?? []).length === 0 ? 500 : 3000),
        peerConnectionConfiguration: { bundlePolicy: 'balanced', rtcpMuxPolicy: 'require', iceServers: options.iceServers ?? [] },
      });
    };
    this.userAgent = new UserAgent({
      uri,
      displayName: options.displayName ?? account.username,
      authorizationUsername: account.username,
      authorizationPassword: account.password,
      transportOptions: { server: account.url, connectionTimeout: 5 },
      sessionDescriptionHandlerFactory: factory,
      sipExtensionReplaces: SIPExtension.Supported,
      // Reconnection is ours (below): sip.js's own gives up silently.
      reconnectionAttempts: 0,
      logBuiltinEnabled: false,
      logLevel: 'error',
      delegate: {
        onInvite: (invitation) => this.onInvite(invitation),
        onDisconnect: (error) => {
          if (error && !this.stopped) void this.recover();
        },
      },
    });
    this.registerer = new Registerer(this.userAgent, { expires: 300 });
    this.registerer.stateChange.addListener((state) => {
      if (state === RegistererState.Registered && !this.reconnecting) this.setStatus('registered');
    });
  }

  get username(): string {
    return this.options.account.username;
  }

  /** Connects and registers; rejects with a PhoneFailure reason in the message when it cannot. */
  async start(): Promise<void> {
    this.stopped = false;
    this.setStatus('connecting');
    try {
      await this.userAgent.start();
    } catch (e) {
      this.fail('unreachable', (e as Error).message);
      throw new Error('unreachable');
    }
    await this.register();
  }

  private async register(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      let settled = false;
      const done = (error?: Error): void => {
        if (settled) return;
        settled = true;
        if (error) reject(error);
        else resolve();
      };
      this.registerer
        .register({
          requestDelegate: {
            onAccept: () => done(),
            onReject: (response) => {
              const code = response.message.statusCode ?? 0;
              const reason = `${code} ${response.message.reasonPhrase ?? ''}`.trim();
              this.fail(code === 401 || code === 403 || code === 407 ? 'auth' : 'other', reason);
              done(new Error(code === 401 || code === 403 || code === 407 ? 'auth' : 'other'));
            },
          },
        })
        .catch((e: Error) => done(e));
    });
    this.failure = null;
    this.failureDetail = '';
    this.setStatus('registered');
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const id of [...this.records.keys()]) this.hangup(id);
    try {
      if (this.registerer.state === RegistererState.Registered) await this.registerer.unregister();
    } catch {
      /* the server is gone: nothing to undo there */
    }
    await this.userAgent.stop().catch(() => undefined);
    this.setStatus('off');
  }

  // ── calls ────────────────────────────────────────────────────────────────────────────────────────────

  /** Calls a SIP user; the returned call is in `calls` and follows its state there. */
  call(user: string, options: { video: boolean; name?: string; tags?: Record<string, string>; extraHeaders?: string[] }): CallInfo {
    if (!SIP_USER.test(user)) throw new Error(`not a SIP user: ${user}`);
    if (this.status !== 'registered') throw new Error(`phone is ${this.status}`);
    const target = UserAgent.makeURI(`sip:${user}@${this.options.account.domain}`)!;
    const inviter = new Inviter(this.userAgent, target, {
      sessionDescriptionHandlerOptions: { constraints: { audio: true, video: options.video } },
      ...(options.name ? { params: { toDisplayName: options.name } } : {}),
      ...(options.extraHeaders ? { extraHeaders: options.extraHeaders } : {}),
    });
    const info = this.track(inviter, 'outgoing', user, options.name ?? '', options.video, options.tags ?? {});
    inviter
      .invite({
        requestDelegate: {
          onReject: (response) => {
            const code = response.message.statusCode ?? 0;
            this.end(info.id, code === 486 || code === 600 ? 'busy' : code === 603 ? 'declined' : code === 480 || code === 408 ? 'no-answer' : code === 404 ? 'unreachable' : code === 487 ? 'cancelled' : 'failed', `${code} ${response.message.reasonPhrase ?? ''}`.trim());
          },
        },
      })
      .catch((e: Error) => this.end(info.id, 'failed', e.message));
    return info;
  }

  answer(id: string, options: { video?: boolean } = {}): void {
    const record = this.records.get(id);
    if (!record || !(record.session instanceof Invitation) || record.info.state !== 'incoming') return;
    const video = options.video ?? record.info.video;
    record.info.video = video;
    record.session.accept({ sessionDescriptionHandlerOptions: { constraints: { audio: true, video } } }).catch((e: Error) => this.end(id, 'failed', e.message));
  }

  decline(id: string): void {
    const record = this.records.get(id);
    if (!record || !(record.session instanceof Invitation) || record.info.state !== 'incoming') return;
    record.session.reject({ statusCode: 603 }).catch(() => undefined);
    this.end(id, 'declined', '603 Decline');
  }

  /** Ends a call whatever its state: CANCEL while dialing, BYE once up, decline while ringing here. */
  hangup(id: string): void {
    const record = this.records.get(id);
    if (!record || record.info.state === 'ended') return;
    const { session } = record;
    if (session.state === SessionState.Established) {
      this.end(id, record.info.answeredAt ? 'answered' : 'cancelled', '');
      session.bye().catch(() => undefined);
    } else if (session instanceof Inviter && (session.state === SessionState.Initial || session.state === SessionState.Establishing)) {
      session.cancel().catch(() => undefined);
      this.end(id, 'cancelled', '');
    } else if (session instanceof Invitation && session.state === SessionState.Initial) {
      this.decline(id);
    } else {
      this.end(id, record.info.answeredAt ? 'answered' : 'cancelled', '');
    }
  }

  setMuted(id: string, muted: boolean): void {
    const record = this.records.get(id);
    if (!record) return;
    record.info.muted = muted;
    const pc = this.peerConnection(id);
    for (const sender of pc?.getSenders() ?? []) if (sender.track?.kind === 'audio') sender.track.enabled = !muted;
    this.changed();
  }

  /** Hold: re-INVITE with sendonly (the far end stops sending and hears nothing); resume: sendrecv again. */
  async setHeld(id: string, held: boolean): Promise<void> {
    const record = this.records.get(id);
    if (!record || record.session.state !== SessionState.Established || record.info.held === held) return;
    record.session.sessionDescriptionHandlerOptionsReInvite = { hold: held } as SessionDescriptionHandlerOptions;
    await new Promise<void>((resolve, reject) => {
      record.session
        .invite({ requestDelegate: { onAccept: () => resolve(), onReject: (r) => reject(new Error(`${r.message.statusCode} ${r.message.reasonPhrase}`)) } })
        .catch(reject);
    });
    record.info.held = held;
    // Our own sending stops too: the far end is on hold, not listening.
    for (const sender of this.peerConnection(id)?.getSenders() ?? []) if (sender.track) sender.track.enabled = !held && !(sender.track.kind === 'audio' && record.info.muted);
    this.changed();
  }

  /** Blind transfer: the far end calls `user` itself; this call ends when it accepts the REFER. */
  async transferBlind(id: string, user: string): Promise<void> {
    const record = this.records.get(id);
    if (!record || record.session.state !== SessionState.Established) throw new Error('no established call to transfer');
    if (!SIP_USER.test(user)) throw new Error(`not a SIP user: ${user}`);
    await this.refer(record, UserAgent.makeURI(`sip:${user}@${this.options.account.domain}`)!);
  }

  /**
   * Attended transfer (咨询转接): after the dispatcher talked to the colleague on `consultId`, the far end of
   * `id` is REFERred to them with Replaces, so it takes over the consultation call; both our calls end.
   */
  async transferAttended(id: string, consultId: string): Promise<void> {
    const record = this.records.get(id);
    const consult = this.records.get(consultId);
    if (!record || !consult || id === consultId) throw new Error('attended transfer needs two calls');
    if (record.session.state !== SessionState.Established || consult.session.state !== SessionState.Established) throw new Error('both calls must be established to transfer');
    const dialog = consult.session.dialog;
    if (!dialog || !SIP_USER.test(consult.info.peer)) throw new Error('the consultation call has no dialog to replace');
    // Refer-To names the colleague's address of record (sip.js would name their device's contact, which
    // the transferee then shows and logs as a random user), with Replaces for the consultation dialog.
    const target = UserAgent.makeURI(`sip:${consult.info.peer}@${this.options.account.domain}`)!;
    target.setHeader('Replaces', encodeURIComponent(`${dialog.callId};to-tag=${dialog.remoteTag};from-tag=${dialog.localTag}`));
    // A URI with headers must travel in name-addr form (<…>), which sip.js writes only for its own
    // contact-based Refer-To: this one writes itself so, with the colleague's name for the transferee's screen.
    const uri = target.toString();
    const name = consult.info.peerName.replace(/["\\\r\n]/g, '');
    target.toString = () => `${name ? `"${name}" ` : ''}<${uri}>`;
    // The colleague's BYE (their phone replaced our call with the transferred one) means transferred.
    consult.transferring = true;
    try {
      await this.refer(record, target);
    } catch (e) {
      consult.transferring = false;
      throw e;
    }
  }

  private async refer(record: CallRecord, target: Parameters<Session['refer']>[0]): Promise<void> {
    record.transferring = true;
    await new Promise<void>((resolve, reject) => {
      record.session
        .refer(target, {
          requestDelegate: {
            onAccept: () => resolve(),
            onReject: (r) => reject(new Error(`transfer refused: ${r.message.statusCode} ${r.message.reasonPhrase}`)),
          },
        })
        .catch(reject);
    }).catch((e: Error) => {
      record.transferring = false;
      throw e;
    });
    this.end(record.info.id, 'transferred', '');
    if (record.session.state === SessionState.Established) record.session.bye().catch(() => undefined);
  }

  remoteStream(id: string): MediaStream | null {
    const handler = this.records.get(id)?.session.sessionDescriptionHandler;
    return handler instanceof SessionDescriptionHandler ? handler.remoteMediaStream : null;
  }

  localStream(id: string): MediaStream | null {
    const handler = this.records.get(id)?.session.sessionDescriptionHandler;
    return handler instanceof SessionDescriptionHandler ? handler.localMediaStream : null;
  }

  peerConnection(id: string): RTCPeerConnection | null {
    const handler = this.records.get(id)?.session.sessionDescriptionHandler;
    return handler instanceof SessionDescriptionHandler ? (handler.peerConnection ?? null) : null;
  }

  /** Media actually received, from getStats (a call can be 'established' with no media at all). */
  async receivedBytes(id: string): Promise<{ audio: number; video: number }> {
    const totals = { audio: 0, video: 0 };
    const stats = await this.peerConnection(id)?.getStats();
    stats?.forEach((report: { type: string; kind?: string; bytesReceived?: number }) => {
      if (report.type === 'inbound-rtp' && (report.kind === 'audio' || report.kind === 'video')) totals[report.kind] += report.bytesReceived ?? 0;
    });
    return totals;
  }

  // ── internals ────────────────────────────────────────────────────────────────────────────────────────

  private track(session: Session, direction: CallInfo['direction'], peer: string, peerName: string, video: boolean, tags: Record<string, string>): CallInfo {
    const info: CallInfo = {
      id: `call-${Date.now().toString(36)}-${(this.counter++).toString(36)}`,
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
    const record: CallRecord = { info, session, recoveryTimer: null, transferring: false };
    this.records.set(info.id, record);
    this.calls.set(info.id, info);
    session.stateChange.addListener((state) => {
      if (state === SessionState.Established && info.state !== 'ended') {
        info.answeredAt ??= Date.now();
        if (info.state !== 'reconnecting') info.state = 'established';
        this.changed();
      } else if (state === SessionState.Terminated && info.state !== 'ended') {
        const settle = (): void => this.end(info.id, info.answeredAt ? 'answered' : direction === 'incoming' ? 'cancelled' : 'failed', info.answeredAt ? '' : 'terminated');
        // sip.js reports a rejected INVITE's status code (declined, busy…) just after this change: let it name
        // the result, or every unanswered call would be logged as failed.
        if (direction === 'outgoing' && !info.answeredAt) setTimeout(settle, 0);
        else settle();
      }
    });
    session.delegate = {
      // sip.js leaves answering a BYE to us; an unanswered BYE is retransmitted for 32 s.
      onBye: (bye) => {
        void bye.accept();
        this.end(info.id, record.transferring ? 'transferred' : info.answeredAt ? 'answered' : 'cancelled', '');
      },
      // The far end's recovery re-INVITE (it reconnected first): this call is back too.
      onInvite: (_request, _response, statusCode) => {
        if (statusCode === 200) this.recovered(record);
      },
      onRefer: (referral) => {
        // Transferred by the other end: call the target (with Replaces when attended), then leave this call.
        void referral.accept().then(() => {
          const inviter = referral.makeInviter({ sessionDescriptionHandlerOptions: { constraints: { audio: true, video: info.video } } });
          const target = inviter.remoteIdentity.uri.user ?? '';
          const next = this.track(inviter, 'outgoing', target, referral.referTo.displayName ?? '', info.video, { ...info.tags, transferredFrom: info.peer });
          void inviter.invite().catch((e: Error) => this.end(next.id, 'failed', e.message));
          this.options.onTransferred?.(next);
          this.end(info.id, 'transferred', '');
          if (session.state === SessionState.Established) session.bye().catch(() => undefined);
        });
      },
    };
    this.changed();
    return info;
  }

  private onInvite(invitation: Invitation): void {
    const peer = invitation.remoteIdentity.uri.user ?? '';
    const peerName = invitation.remoteIdentity.displayName ?? '';
    const body = invitation.body ?? '';
    const video = /\bm=video [1-9]/.test(body);
    // INVITE with Replaces (we are the target of an attended transfer): the new call takes the old one's place.
    const replaces = invitation.request.getHeader('replaces');
    const info = this.track(invitation, 'incoming', peer, peerName, video, {});
    if (replaces) {
      const callId = replaces.split(';')[0]!.trim();
      const replaced = [...this.records.values()].find((r) => r.session.dialog?.callId === callId && r.info.state !== 'ended');
      if (replaced) {
        info.tags = { ...replaced.info.tags, replaced: replaced.info.peer };
        // sip.js hangs up the replaced call itself once this one is answered (a BYE of ours first would
        // make its own fail, and with it the answer).
        this.answer(info.id, { video: replaced.info.video });
        this.end(replaced.info.id, 'transferred', '');
        this.options.onTransferred?.(info);
        return;
      }
      invitation.reject({ statusCode: 481 }).catch(() => undefined);
      this.end(info.id, 'failed', '481 Replaces: no such call');
      return;
    }
    this.options.onIncoming?.(info);
  }

  private end(id: string, result: CallResult, cause: string): void {
    const record = this.records.get(id);
    if (!record || record.info.state === 'ended') return;
    if (record.recoveryTimer) clearTimeout(record.recoveryTimer);
    record.info.state = 'ended';
    record.info.result = result;
    record.info.cause = cause;
    record.info.endedAt = Date.now();
    this.records.delete(id);
    // Local media (camera, microphone) released with the call.
    const handler = record.session.sessionDescriptionHandler;
    if (handler instanceof SessionDescriptionHandler) for (const track of handler.localMediaStream.getTracks()) track.stop();
    this.changed();
  }

  /** The WebSocket dropped: reconnect with backoff, register again, re-INVITE every call with an ICE restart. */
  private async recover(): Promise<void> {
    if (this.reconnecting) return;
    this.reconnecting = true;
    this.setStatus('reconnecting');
    const limit = this.options.recoveryLimitMs ?? RECOVERY_LIMIT_MS;
    for (const record of this.records.values()) {
      if (record.info.state !== 'established') continue;
      record.info.state = 'reconnecting';
      record.recoveryTimer = setTimeout(() => {
        this.end(record.info.id, 'failed', `no recovery within ${limit / 1000} s`);
        record.session.bye().catch(() => undefined);
      }, limit);
    }
    this.changed();
    for (let attempt = 0; !this.stopped; attempt++) {
      await new Promise((r) => setTimeout(r, RECONNECT_DELAYS_MS[Math.min(attempt, RECONNECT_DELAYS_MS.length - 1)]));
      if (this.stopped) break;
      try {
        await this.userAgent.reconnect();
        this.reconnecting = false;
        // A REGISTER whose connection dropped again gets no answer at all: try the next round instead.
        await Promise.race([this.register(), new Promise((_, reject) => setTimeout(() => reject(new Error('REGISTER unanswered')), REGISTER_TIMEOUT_MS))]);
        break;
      } catch (e) {
        this.reconnecting = true;
        this.failureDetail = (e as Error).message;
        if (this.failure === 'auth') return;
      }
    }
    this.reconnecting = false;
    if (this.stopped) return;
    for (const record of [...this.records.values()]) {
      if (record.info.state !== 'reconnecting') continue;
      // Both ends may be recovering (the SIP server restarted): the caller re-INVITEs at once, the callee
      // only if no re-INVITE reached it meanwhile, so the two do not cross (glare, 491).
      if (record.info.direction === 'outgoing') this.reInvite(record);
      else setTimeout(() => record.info.state === 'reconnecting' && !this.stopped && this.reInvite(record), CALLEE_REINVITE_DELAY_MS);
    }
  }

  /**
   * The recovery re-INVITE, with an ICE restart. It names the far end's address of record, not its contact:
   * the contact's alias names the connection it had, which is gone when the far end or the server
   * reconnected; the server finds the far end again by its registration (resources/sip/kamailio.cfg).
   * Retried while the far end is not registered again yet, until the recovery limit ends the call.
   */
  private reInvite(record: CallRecord): void {
    const dialog = record.session.dialog;
    if (!dialog || record.info.state !== 'reconnecting') return;
    setRemoteTarget(dialog, record.session.remoteIdentity.uri.clone());
    record.session.sessionDescriptionHandlerOptionsReInvite = { hold: record.info.held, offerOptions: { iceRestart: true } } as SessionDescriptionHandlerOptions;
    const retry = (ms: number): void => void setTimeout(() => this.reInvite(record), ms);
    record.session
      .invite({
        requestDelegate: {
          onAccept: (response) => {
            // The answer's Contact is where the far end is now (sip.js refreshes the target only as the
            // receiver of a re-INVITE): later requests, the BYE, go there, not to the address of record.
            const contact: unknown = response.message.parseHeader('contact');
            if (contact instanceof NameAddrHeader) setRemoteTarget(dialog, contact.uri);
            this.recovered(record);
          },
          onReject: (r) => {
            const code = r.message.statusCode ?? 0;
            if (code === 491) return retry(500 + Math.random() * 1500);
            // Not registered again yet, or its connection not up yet: try again shortly.
            if (code === 404 || code === 408 || code === 480 || code === 477 || code === 503) return retry(1000);
            this.end(record.info.id, 'failed', `re-INVITE refused: ${code} ${r.message.reasonPhrase}`);
            record.session.bye().catch(() => undefined);
          },
        },
      })
      .catch(() => retry(1000));
  }

  private recovered(record: CallRecord): void {
    if (record.recoveryTimer) clearTimeout(record.recoveryTimer);
    record.recoveryTimer = null;
    if (record.info.state !== 'reconnecting') return;
    record.info.state = 'established';
    record.info.recoveredAt = Date.now();
    record.info.recoveries++;
    this.changed();
  }

  private fail(failure: PhoneFailure, detail: string): void {
    this.failure = failure;
    this.failureDetail = detail;
    this.setStatus('failed');
  }

  private setStatus(status: PhoneStatus): void {
    this.status = status;
    this.changed();
  }

  private changed(): void {
    this.options.onChange?.();
  }
}
