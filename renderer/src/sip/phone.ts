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
import { Invitation, Inviter, Registerer, RegistererState, SessionState, SIPExtension, UserAgent, type Session } from 'sip.js';
import { CALLEE_REINVITE_DELAY_MS, RECONNECT_DELAYS_MS, RECOVERY_LIMIT_MS, REGISTER_TIMEOUT_MS, SIP_USER, newCallInfo, type CallInfo, type CallRecord, type CallResult, type PhoneFailure, type PhoneOptions, type PhoneStatus } from './phone-types';
import { handlerOf, mediaHandlerFactory, receivedBytes } from './call-media';
import { holdReInvite, reInvite, refer, replacingReferTo, type DialogHooks } from './call-dialog';

export { RECOVERY_LIMIT_MS, type CallInfo, type CallResult, type CallState, type PhoneFailure, type PhoneOptions, type PhoneStatus } from './phone-types';

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
  private readonly hooks: DialogHooks = { end: (id, result, cause) => this.end(id, result, cause), recovered: (record) => this.recovered(record) };

  constructor(private readonly options: PhoneOptions) {
    const { account } = options;
    const uri = UserAgent.makeURI(`sip:${account.username}@${account.domain}`);
    if (!uri) throw new Error(`invalid SIP account ${account.username}@${account.domain}`);
    this.userAgent = new UserAgent({
      uri,
      displayName: options.displayName ?? account.username,
      authorizationUsername: account.username,
      authorizationPassword: account.password,
      transportOptions: { server: account.url, connectionTimeout: 5 },
      sessionDescriptionHandlerFactory: mediaHandlerFactory(options, (session) => [...this.records.values()].find((r) => r.session === session)?.info),
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
    for (const sender of this.peerConnection(id)?.getSenders() ?? []) if (sender.track?.kind === 'audio') sender.track.enabled = !muted;
    this.changed();
  }

  /** Hold: re-INVITE with sendonly (the far end stops sending and hears nothing); resume: sendrecv again. */
  async setHeld(id: string, held: boolean): Promise<void> {
    const record = this.records.get(id);
    if (!record || record.session.state !== SessionState.Established || record.info.held === held) return;
    await holdReInvite(record.session, held);
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
    await refer(record, UserAgent.makeURI(`sip:${user}@${this.options.account.domain}`)!, this.hooks);
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
    const target = replacingReferTo(consult.info, dialog, this.options.account.domain);
    // The colleague's BYE (their phone replaced our call with the transferred one) means transferred.
    consult.transferring = true;
    try {
      await refer(record, target, this.hooks);
    } catch (e) {
      consult.transferring = false;
      throw e;
    }
  }

  remoteStream(id: string): MediaStream | null {
    return handlerOf(this.records.get(id)?.session)?.remoteMediaStream ?? null;
  }

  localStream(id: string): MediaStream | null {
    return handlerOf(this.records.get(id)?.session)?.localMediaStream ?? null;
  }

  peerConnection(id: string): RTCPeerConnection | null {
    return handlerOf(this.records.get(id)?.session)?.peerConnection ?? null;
  }

  /** Media actually received, from getStats (a call can be 'established' with no media at all). */
  receivedBytes(id: string): Promise<{ audio: number; video: number }> {
    return receivedBytes(this.peerConnection(id));
  }

  // ── internals ────────────────────────────────────────────────────────────────────────────────────────

  private track(session: Session, direction: CallInfo['direction'], peer: string, peerName: string, video: boolean, tags: Record<string, string>): CallInfo {
    const info = newCallInfo(`call-${Date.now().toString(36)}-${(this.counter++).toString(36)}`, session, direction, peer, peerName, video, tags);
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
    for (const track of handlerOf(record.session)?.localMediaStream.getTracks() ?? []) track.stop();
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
      if (record.info.direction === 'outgoing') reInvite(record, this.hooks);
      else setTimeout(() => record.info.state === 'reconnecting' && !this.stopped && reInvite(record, this.hooks), CALLEE_REINVITE_DELAY_MS);
    }
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
