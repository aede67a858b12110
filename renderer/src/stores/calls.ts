/**
 * The console's softphone (音视频调度): registers with the user's SIP account (from the backend through the
 * hub, memory only), calls staff from the desk, the map and the roster (a map wall asks the desk's phone),
 * takes incoming calls, blind and attended transfers, runs group calls with the
 * console as the mixing focus (see sip/conference.ts), and logs every finished call with the hub (its cache, and
 * the backend through its outbox: hub/call-log.ts), with the recording of this side when the setting recordCalls
 * is on (sip/call-recorder.ts).
 * Only the desk (dispatch) and single-window (combined) consoles carry a phone: the walls never ring.
 */
import { defineStore } from 'pinia';
import { computed, markRaw, reactive, ref, shallowRef, watch } from 'vue';
import type { CallLogEntry, SipAccount } from '../../../protocol';
import { SipPhone, type CallInfo, type PhoneFailure, type PhoneStatus } from '../sip/phone';
import { ConferenceMixer, GROUP_CALL_LIMIT } from '../sip/conference';
import { CallWallSender } from '../sip/wall-relay';
import { CallRecorder } from '../sip/call-recorder';
import { uploadAttachment } from '../data/attachments';
import { REPLAY_ERROR_CODE, useHubStore } from './hub';
import { useReplayStore } from './replay';
import { REPLAY_REFUSAL } from '../../../protocol';

/**
 * reload: the page's security policy does not name the SIP server (a configured one that moved while the page
 * was open): one click reloads. The embedded backend's is named from the first load (hub/media-origins.ts).
 */
export type SoftphoneStatus = PhoneStatus | 'unavailable' | 'disabled' | 'reload';
export interface CallTarget {
  sipUser: string;
  name: string;
}
/** Ended calls stay on the call bar this long, with how they ended. */
const ENDED_LINGER_MS = 4000;

function sameOrigin(a: string, b: string): boolean {
  try {
    return new URL(a).host === new URL(b).host && new URL(a).protocol === new URL(b).protocol;
  } catch {
    return false;
  }
}

export const useCallsStore = defineStore('calls', () => {
  const hub = useHubStore();
  const replay = useReplayStore();
  const account = shallowRef<SipAccount | null>(null);
  const status = ref<SoftphoneStatus>('disabled');
  const failure = ref<PhoneFailure | null>(null);
  const failureDetail = ref('');
  const calls = ref<CallInfo[]>([]);
  const media = reactive<Record<string, { audio: number; video: number; kbps: number }>>({});
  const log = shallowRef<CallLogEntry[]>([]);
  /** The last call action that could not be carried out (technical detail; the bar says it in words). */
  const actionError = ref('');
  let actionErrorTimer: ReturnType<typeof setTimeout> | null = null;
  function actionFailed(e: unknown): void {
    actionError.value = e instanceof Error ? e.message : String(e);
    if (actionErrorTimer) clearTimeout(actionErrorTimer);
    actionErrorTimer = setTimeout(() => (actionError.value = ''), 8000);
  }
  /** Bumped on every phone change so views re-read streams. */
  const version = ref(0);
  let phone: SipPhone | null = null;
  let mixer: ConferenceMixer | null = null;
  let wallSender: CallWallSender | null = null;
  /** Calls whose picture is on the video wall (上墙). */
  const onWall = ref<string[]>([]);
  /** Said for a few seconds after 上墙 found no video wall open. */
  const noWall = ref(false);
  const logged = new Set<string>();
  /** This console's side of each call, while the setting recordCalls is on (sip/call-recorder.ts). */
  const recorder = new CallRecorder();
  const stops: Array<() => Promise<void>> = [];
  let statsTimer: ReturnType<typeof setInterval> | null = null;
  let groupCounter = 0;

  // The phone is the desk's; the administrator (base data only) has none, so no notice about it covers their tables.
  const enabled = computed(() => (hub.hello?.displayRole === 'dispatch' || hub.hello?.displayRole === 'combined') && hub.connection?.user?.role !== 'admin');
  const active = computed(() => calls.value.filter((c) => c.state !== 'ended'));
  const incoming = computed(() => calls.value.filter((c) => c.state === 'incoming'));

  function sync(): void {
    if (!phone) return;
    status.value = phone.status;
    failure.value = phone.failure;
    failureDetail.value = phone.failureDetail;
    const now = Date.now();
    for (const [id, call] of phone.calls) {
      if (call.state === 'established' && hub.settings?.recordCalls && !recorder.has(id)) {
        const local = phone.localStream(id);
        if (local) recorder.start(id, local);
      }
      if (call.state !== 'ended') continue;
      if (!logged.has(id)) {
        logged.add(id);
        mixer?.remove(id);
        takeOffWall(id);
        void record(call);
        // A consultation that did not become a transfer: back to the call on hold.
        const held = call.tags.consultFor ? phone.calls.get(call.tags.consultFor) : undefined;
        if (held?.held && held.state === 'established' && call.result !== 'transferred') void phone.setHeld(held.id, false).catch(() => undefined);
      }
      if (call.endedAt !== null && now - call.endedAt > ENDED_LINGER_MS) {
        phone.calls.delete(id);
        delete media[id];
      }
    }
    calls.value = [...phone.calls.values()].map((c) => ({ ...c, tags: { ...c.tags } }));
    version.value++;
  }

  async function record(call: CallInfo): Promise<void> {
    // The recording of this side goes up first (offline or refused: the call is logged without it).
    const file = await recorder.stop(call.id);
    const recording = file ? await uploadAttachment(file).then((ref) => ref.id, () => null) : null;
    const entry: CallLogEntry = {
      id: call.id,
      direction: call.direction,
      peer: call.peer || 'unknown',
      peerName: call.peerName.slice(0, 100),
      video: call.video,
      startedAt: new Date(call.startedAt).toISOString(),
      answeredAt: call.answeredAt ? new Date(call.answeredAt).toISOString() : null,
      endedAt: new Date(call.endedAt ?? Date.now()).toISOString(),
      durationS: call.answeredAt ? Math.round(((call.endedAt ?? Date.now()) - call.answeredAt) / 1000) : 0,
      result: call.result ?? 'failed',
      cause: call.cause.slice(0, 300),
      eventId: call.tags.eventId ?? null,
      groupId: call.tags.groupId ?? null,
      userId: account.value?.username ?? '',
      ...(recording ? { attachments: [recording] } : {}),
    };
    try {
      await hub.api?.logCall(entry);
    } catch {
      /* the hub is gone with the window: nothing to keep it in */
    }
  }

  async function start(): Promise<void> {
    try {
      await subscribeToHub();
    } catch {
      // The hub went away while subscribing (host quitting, link lost): the shell already says so, and the
      // next 'ready' starts again from nothing.
      await Promise.allSettled(stops.splice(0).map((s) => s()));
      if (statsTimer) clearInterval(statsTimer);
      statsTimer = null;
    }
  }

  async function subscribeToHub(): Promise<void> {
    if (!hub.api || stops.length > 0) return;
    stops.push(await hub.api.subscribe({ topic: 'calls' }, (value) => (log.value = value.entries)));
    // A SIP server that comes up after this page (the embedded backend's, at first start) is connected to as
    // soon as the hub has its account: the page's security policy names it from the first load.
    stops.push(
      await hub.api.subscribe({ topic: 'sip' }, (value) => {
        const next = value.account;
        if (JSON.stringify(next) === JSON.stringify(account.value)) return;
        account.value = next;
        void connect();
      }),
    );
    statsTimer = setInterval(() => void updateStats(), 1000);
  }

  // A SIP server the page's policy does not name refuses the connection: say so with one click to reload
  // (reloading by itself would throw away the dispatcher's work).
  if (typeof document !== 'undefined') {
    document.addEventListener('securitypolicyviolation', (e) => {
      const url = account.value?.url;
      if (e.effectiveDirective !== 'connect-src' || !url || !enabled.value || !sameOrigin(e.blockedURI, url)) return;
      const old = phone;
      phone = null;
      void old?.stop();
      status.value = 'reload';
    });
  }

  async function connect(): Promise<void> {
    const old = phone;
    phone = null;
    await old?.stop();
    if (!enabled.value) return void (status.value = 'disabled');
    if (!account.value) return void (status.value = 'unavailable');
    const current = account.value;
    const next = new SipPhone({
      account: current,
      displayName: hub.connection?.user?.name ?? current.username,
      iceServers: [],
      onChange: () => phone === next && sync(),
      localMedia: (constraints, call) => {
        if (call.tags.groupId) return (mixer ??= new ConferenceMixer((c) => navigator.mediaDevices.getUserMedia(c))).streamFor(call.id, constraints);
        return navigator.mediaDevices.getUserMedia(constraints);
      },
    });
    phone = markRaw(next);
    try {
      await next.start();
    } catch {
      sync();
    }
  }

  async function updateStats(): Promise<void> {
    if (!phone) return;
    for (const call of phone.calls.values()) {
      if (call.state === 'ended' || call.state === 'incoming') continue;
      const bytes = await phone.receivedBytes(call.id);
      const before = media[call.id];
      const kbps = before ? Math.max(0, Math.round(((bytes.audio + bytes.video - before.audio - before.video) * 8) / 1000)) : 0;
      media[call.id] = { ...bytes, kbps };
      // A group member's voice joins the mix once it arrived.
      if (call.tags.groupId && call.state === 'established' && mixer) {
        const remote = phone.remoteStream(call.id);
        if (remote) mixer.addVoice(call.id, remote);
      }
    }
    // Ended calls leave the bar after the linger time even when nothing else changes.
    if (calls.value.some((c) => c.state === 'ended')) sync();
  }

  function call(target: CallTarget, options: { video: boolean; eventId?: string; tags?: Record<string, string> }): CallInfo | null {
    if (!phone) return null;
    if (replayRefused()) return null;
    try {
      return phone.call(target.sipUser, { video: options.video, name: target.name, tags: { ...options.tags, ...(options.eventId ? { eventId: options.eventId } : {}) } });
    } catch (e) {
      // Not registered or a bad SIP user from the data: said in the bar, nothing placed.
      actionFailed(e);
      return null;
    }
  }

  /**
   * A call from any window: here when this window has the phone (desk, single-window console), else the
   * room's desk places it (a map wall has no phone). 'none': no window with a phone is open.
   */
  /** 复盘回放: no call is placed from the past's rows (the hub refuses them too, with the same words). */
  function replayRefused(): boolean {
    if (!replay.active) return false;
    hub.error = { code: REPLAY_ERROR_CODE, detail: REPLAY_REFUSAL };
    return true;
  }

  async function placeCall(target: CallTarget, options: { video: boolean; eventId?: string }): Promise<'here' | 'desk' | 'none'> {
    if (replayRefused()) return 'none';
    if (enabled.value) return call(target, options) ? 'here' : 'none';
    try {
      const { walls } = (await hub.api?.showOnWall({ wall: 'dispatch', call: { sipUser: target.sipUser, name: target.name.slice(0, 100), video: options.video, ...(options.eventId ? { eventId: options.eventId } : {}) } })) ?? { walls: 0 };
      return walls > 0 ? 'desk' : 'none';
    } catch {
      return 'none';
    }
  }

  /** 咨询转接, first half: the call on `id` waits on hold while the dispatcher talks to the colleague. */
  async function consult(id: string, target: CallTarget): Promise<void> {
    const original = phone?.calls.get(id);
    if (!phone || !original || original.state !== 'established') return;
    try {
      if (!original.held) await phone.setHeld(id, true);
    } catch (e) {
      return actionFailed(e);
    }
    call(target, { video: original.video, tags: { ...(original.tags.eventId ? { eventId: original.tags.eventId } : {}), consultFor: id } });
  }

  /** Calls every member at once (点对多); answered members talk with the dispatcher and each other. */
  function groupCall(members: CallTarget[], options: { video: boolean; eventId?: string }): string | null {
    if (!phone || members.length === 0) return null;
    const groupId = `group-${Date.now().toString(36)}-${groupCounter++}`;
    for (const member of members.slice(0, GROUP_CALL_LIMIT)) {
      phone.call(member.sipUser, { video: options.video, name: member.name, tags: { groupId, ...(options.eventId ? { eventId: options.eventId } : {}) } });
    }
    return groupId;
  }

  const withPhone = <A extends unknown[]>(fn: (p: SipPhone, ...args: A) => unknown) => (...args: A): void => {
    if (!phone) return;
    try {
      void Promise.resolve(fn(phone, ...args)).catch(actionFailed);
    } catch (e) {
      actionFailed(e);
    }
  };
  const answer = withPhone((p, id: string, video?: boolean) => p.answer(id, video === undefined ? {} : { video }));
  const decline = withPhone((p, id: string) => p.decline(id));
  const hangup = withPhone((p, id: string) => p.hangup(id));
  const hangupGroup = withPhone((p, groupId: string) => {
    for (const c of p.calls.values()) if (c.tags.groupId === groupId) p.hangup(c.id);
  });
  const toggleMute = withPhone((p, id: string) => {
    const current = p.calls.get(id);
    if (!current) return;
    p.setMuted(id, !current.muted);
    if (current.tags.groupId) mixer?.setMicMuted(!current.muted);
  });
  const toggleHold = withPhone((p, id: string) => p.setHeld(id, !p.calls.get(id)?.held));
  const transferBlind = withPhone((p, id: string, user: string) => p.transferBlind(id, user));
  /** 咨询转接, second half: the caller on hold takes over the consultation call; the dispatcher leaves both. */
  const completeTransfer = withPhone((p, consultId: string) => {
    const original = p.calls.get(consultId)?.tags.consultFor;
    if (!original) throw new Error('not a consultation call');
    return p.transferAttended(original, consultId);
  });

  function takeOffWall(id: string): void {
    wallSender?.stop(id);
    if (onWall.value.includes(id)) onWall.value = onWall.value.filter((c) => c !== id);
  }

  /** 上墙: the call's picture on the console's video wall windows, or off again. */
  async function toggleWall(id: string): Promise<void> {
    if (onWall.value.includes(id)) return takeOffWall(id);
    const current = phone?.calls.get(id);
    const remote = phone?.remoteStream(id);
    if (!current || !remote) return;
    try {
      const taken = await (wallSender ??= new CallWallSender()).share(id, current.peerName || current.peer, remote);
      if (taken) onWall.value = [...onWall.value, id];
      else {
        noWall.value = true;
        setTimeout(() => (noWall.value = false), 5000);
      }
    } catch (e) {
      actionFailed(e);
    }
  }

  function remoteStream(id: string): MediaStream | null {
    return phone?.remoteStream(id) ?? null;
  }
  function localStream(id: string): MediaStream | null {
    return phone?.localStream(id) ?? null;
  }

  async function stop(): Promise<void> {
    if (statsTimer) clearInterval(statsTimer);
    await Promise.allSettled(stops.splice(0).map((s) => s()));
    await phone?.stop();
    phone = null;
    recorder.stopAll();
    mixer?.close();
    mixer = null;
    wallSender?.close();
    wallSender = null;
    onWall.value = [];
  }

  // The window's role arrives with hello: a desk that became one starts its phone.
  watch(enabled, () => void connect());

  return { account, status, failure, failureDetail, actionError, calls, active, incoming, media, log, version, enabled, start, stop, call, placeCall, groupCall, answer, decline, hangup, hangupGroup, toggleMute, toggleHold, onWall, noWall, toggleWall, transferBlind, consult, completeTransfer, remoteStream, localStream };
});
