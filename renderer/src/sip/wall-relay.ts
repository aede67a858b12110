/**
 * A call's video on the video wall (上墙): the window with the phone (desk, single-window console) relays the
 * far end's picture to the console's video-wall windows. A MediaStream cannot cross windows (in Electron each
 * window is its own renderer process), a peer connection can: one loopback RTCPeerConnection per wall,
 * signalled over a BroadcastChannel (every window of a console shares its origin, in Electron and in the
 * browser host). Video only: the conversation's sound stays with the dispatcher's headset.
 * Messages from other windows are validated like anything else crossing a process boundary.
 */
import { z } from 'zod';
import { validate } from '../../../protocol';

const CHANNEL = 'zongzhi-call-wall';
/** How long the desk waits for walls to answer before saying none is open. */
const WALL_ANSWER_MS = 1500;
const ICE_GATHERING_MS = 1000;

const Id = z.string().regex(/^[A-Za-z0-9_-]{1,80}$/);
const Sdp = z.string().min(10).max(100_000);
const RelayMessage = z.discriminatedUnion('type', [
  /** desk → walls: a call's picture is on offer. */
  z.object({ type: z.literal('offering'), callId: Id }).strict(),
  /** wall → desk: this wall takes it. */
  z.object({ type: z.literal('here'), callId: Id, wallId: Id }).strict(),
  z.object({ type: z.literal('offer'), callId: Id, wallId: Id, name: z.string().max(100), sdp: Sdp }).strict(),
  z.object({ type: z.literal('answer'), callId: Id, wallId: Id, sdp: Sdp }).strict(),
  /** desk → walls: the call ended or was taken off the wall. */
  z.object({ type: z.literal('end'), callId: Id }).strict(),
]);
type RelayMessage = z.infer<typeof RelayMessage>;

function openChannel(onMessage: (message: RelayMessage) => void): BroadcastChannel {
  const channel = new BroadcastChannel(CHANNEL);
  channel.onmessage = (event: MessageEvent<unknown>) => {
    const checked = validate(RelayMessage, event.data);
    if (checked.ok) onMessage(checked.value);
  };
  return channel;
}

/** Resolves once ICE gathering is complete (candidates travel in the SDP: no trickle between windows). */
function gathered(pc: RTCPeerConnection): Promise<void> {
  if (pc.iceGatheringState === 'complete') return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ICE_GATHERING_MS);
    pc.addEventListener('icegatheringstatechange', () => {
      if (pc.iceGatheringState !== 'complete') return;
      clearTimeout(timer);
      resolve();
    });
  });
}

/** The desk's side: offers calls' pictures to the walls. */
export class CallWallSender {
  private readonly channel: BroadcastChannel;
  /** callId → wallId → the connection to that wall; `answered` settles when the first wall takes it. */
  private readonly shared = new Map<string, { name: string; track: MediaStreamTrack; walls: Map<string, RTCPeerConnection>; answered: () => void }>();

  constructor() {
    this.channel = openChannel((message) => void this.onMessage(message));
  }

  /**
   * Offers the call's picture; resolves once a wall took it (true), or false when none answered in time
   * (no video wall open). Walls answering later still get it.
   */
  async share(callId: string, name: string, remote: MediaStream): Promise<boolean> {
    const track = remote.getVideoTracks()[0];
    if (!track) throw new Error('the call has no video to show');
    let timer: ReturnType<typeof setTimeout> | undefined;
    const taken = await new Promise<boolean>((resolve) => {
      this.shared.set(callId, { name, track, walls: new Map(), answered: () => resolve(true) });
      timer = setTimeout(() => resolve(false), WALL_ANSWER_MS);
      this.post({ type: 'offering', callId });
    });
    clearTimeout(timer);
    if (!taken) this.shared.delete(callId);
    return taken;
  }

  stop(callId: string): void {
    const entry = this.shared.get(callId);
    if (!entry) return;
    this.shared.delete(callId);
    for (const pc of entry.walls.values()) pc.close();
    this.post({ type: 'end', callId });
  }

  close(): void {
    for (const callId of [...this.shared.keys()]) this.stop(callId);
    this.channel.close();
  }

  private async onMessage(message: RelayMessage): Promise<void> {
    const entry = this.shared.get(message.callId);
    if (!entry) return;
    if (message.type === 'here' && !entry.walls.has(message.wallId)) {
      const pc = new RTCPeerConnection({ iceServers: [] });
      entry.walls.set(message.wallId, pc);
      entry.answered();
      // A wall window closed or reloaded: its connection fails; let it go (the call goes on).
      pc.onconnectionstatechange = () => {
        if (pc.connectionState !== 'failed') return;
        pc.close();
        if (entry.walls.get(message.wallId) === pc) entry.walls.delete(message.wallId);
      };
      pc.addTrack(entry.track, new MediaStream([entry.track]));
      await pc.setLocalDescription(await pc.createOffer());
      await gathered(pc);
      this.post({ type: 'offer', callId: message.callId, wallId: message.wallId, name: entry.name, sdp: pc.localDescription!.sdp });
    } else if (message.type === 'answer') {
      const pc = entry.walls.get(message.wallId);
      if (pc && pc.signalingState === 'have-local-offer') await pc.setRemoteDescription({ type: 'answer', sdp: message.sdp }).catch(() => undefined);
    }
  }

  private post(message: RelayMessage): void {
    this.channel.postMessage(message);
  }
}

export interface WallCallTile {
  callId: string;
  name: string;
  stream: MediaStream;
}

/** A video wall's side: takes every call picture on offer and lists them for the view. */
export class CallWallReceiver {
  private readonly channel: BroadcastChannel;
  private readonly wallId = `wall-${Math.random().toString(36).slice(2, 12)}`;
  private readonly connections = new Map<string, RTCPeerConnection>();
  private readonly tiles = new Map<string, WallCallTile>();

  constructor(private readonly onChange: (tiles: WallCallTile[]) => void) {
    this.channel = openChannel((message) => void this.onMessage(message));
  }

  /** Takes a picture off this wall only (the desk may still show it on others). */
  dismiss(callId: string): void {
    this.connections.get(callId)?.close();
    this.connections.delete(callId);
    if (this.tiles.delete(callId)) this.changed();
  }

  close(): void {
    for (const callId of [...this.connections.keys()]) this.dismiss(callId);
    this.channel.close();
  }

  private async onMessage(message: RelayMessage): Promise<void> {
    if (message.type === 'offering') {
      this.dismiss(message.callId);
      this.channel.postMessage({ type: 'here', callId: message.callId, wallId: this.wallId } satisfies RelayMessage);
    } else if (message.type === 'offer' && message.wallId === this.wallId) {
      this.dismiss(message.callId);
      const pc = new RTCPeerConnection({ iceServers: [] });
      this.connections.set(message.callId, pc);
      pc.ontrack = (event) => {
        this.tiles.set(message.callId, { callId: message.callId, name: message.name, stream: event.streams[0] ?? new MediaStream([event.track]) });
        this.changed();
      };
      try {
        await pc.setRemoteDescription({ type: 'offer', sdp: message.sdp });
        await pc.setLocalDescription(await pc.createAnswer());
        await gathered(pc);
        this.channel.postMessage({ type: 'answer', callId: message.callId, wallId: this.wallId, sdp: pc.localDescription!.sdp } satisfies RelayMessage);
      } catch {
        this.dismiss(message.callId);
      }
    } else if (message.type === 'end') {
      this.dismiss(message.callId);
    }
  }

  private changed(): void {
    this.onChange([...this.tiles.values()]);
  }
}
