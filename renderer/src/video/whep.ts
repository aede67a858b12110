/**
 * WebRTC playback of one camera over WHEP: the standard form (the player offers, the server answers: RFC 9725;
 * ZLMediaKit, MediaMTX, Janus 1.2+) and the server-offer form (draft-murillo-whep-01: POST with no body gets
 * the server's offer, PATCH sends the answer; Janus 1.1 behind the reference backend). Video only (tiles are
 * muted). No trickle: the SDP carries all candidates, which on a LAN are gathered in milliseconds.
 */
import type { CameraStream } from '../../../protocol';

export interface WhepEvents {
  /** The connection failed or the server refused: the player decides (next protocol, or reconnect). */
  failed(detail: string): void;
}

export interface WhepSession {
  /** The connection's state in words, for the tile's technical detail. */
  describe(): string;
  /** Video bytes received so far (from getStats). */
  bytesReceived(): Promise<number>;
  destroy(): void;
}

/** How long ICE gathering may take before the SDP goes with the candidates found so far. */
const GATHER_MS = 2000;
/** A connection 'disconnected' this long is treated as failed (WebRTC may recover by itself before). */
const DISCONNECTED_MS = 3000;

function gathered(pc: RTCPeerConnection): Promise<void> {
  if (pc.iceGatheringState === 'complete') return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      pc.removeEventListener('icegatheringstatechange', check);
      resolve();
    };
    const check = (): void => void (pc.iceGatheringState === 'complete' && done());
    const timer = setTimeout(done, GATHER_MS);
    pc.addEventListener('icegatheringstatechange', check);
  });
}

async function httpError(response: Response, what: string): Promise<Error> {
  const text = (await response.text().catch(() => '')).slice(0, 200);
  return new Error(`WHEP ${what}: HTTP ${response.status}${text ? ` ${text}` : ''}`);
}

export function openWhep(url: string, offer: NonNullable<CameraStream['offer']>, video: HTMLVideoElement, events: WhepEvents, iceServers: RTCIceServer[] = []): WhepSession {
  const pc = new RTCPeerConnection({ iceServers, bundlePolicy: 'max-bundle' });
  let resource: string | null = null;
  let closed = false;
  let disconnectedTimer: ReturnType<typeof setTimeout> | null = null;
  const fail = (detail: string): void => {
    if (!closed) events.failed(detail);
  };

  pc.addEventListener('track', (event) => {
    if (event.track.kind !== 'video') return;
    video.srcObject = event.streams[0] ?? new MediaStream([event.track]);
    void video.play().catch(() => undefined); // muted: autoplay is allowed; a refusal shows as no progress
  });
  pc.addEventListener('connectionstatechange', () => {
    if (disconnectedTimer) clearTimeout(disconnectedTimer);
    disconnectedTimer = null;
    if (pc.connectionState === 'failed') fail('WebRTC connection failed (ICE/DTLS)');
    else if (pc.connectionState === 'disconnected') disconnectedTimer = setTimeout(() => fail('WebRTC connection lost'), DISCONNECTED_MS);
  });

  void (async () => {
    if (offer === 'client') {
      pc.addTransceiver('video', { direction: 'recvonly' });
      await pc.setLocalDescription(await pc.createOffer());
      await gathered(pc);
      const response = await fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/sdp' }, body: pc.localDescription!.sdp });
      if (response.status !== 201) throw await httpError(response, 'offer refused');
      resource = response.headers.get('Location');
      const answer = await response.text();
      if (closed) return;
      await pc.setRemoteDescription({ type: 'answer', sdp: answer });
    } else {
      const response = await fetch(url, { method: 'POST' });
      if (response.status !== 201) throw await httpError(response, 'no offer');
      resource = response.headers.get('Location');
      const serverOffer = await response.text();
      if (!resource) throw new Error('WHEP: the server sent no Location for the session');
      if (closed) return void release();
      await pc.setRemoteDescription({ type: 'offer', sdp: serverOffer });
      await pc.setLocalDescription(await pc.createAnswer());
      await gathered(pc);
      if (closed) return void release();
      const patched = await fetch(new URL(resource, url), { method: 'PATCH', headers: { 'Content-Type': 'application/sdp' }, body: pc.localDescription!.sdp });
      if (!patched.ok) throw await httpError(patched, 'answer refused');
    }
  })().catch((e: Error) => fail(e.message));

  /** Ends the session at the server (it stops the camera's feed when nobody else watches). */
  function release(): void {
    if (!resource) return;
    const at = new URL(resource, url).toString();
    resource = null;
    void fetch(at, { method: 'DELETE', keepalive: true }).catch(() => undefined);
  }

  return {
    describe: () => `WebRTC ICE ${pc.iceConnectionState}, connection ${pc.connectionState}, signalling ${resource ? 'done' : 'pending'}`,
    async bytesReceived() {
      let bytes = 0;
      (await pc.getStats()).forEach((report: { type: string; kind?: string; bytesReceived?: number }) => {
        if (report.type === 'inbound-rtp' && report.kind === 'video') bytes += report.bytesReceived ?? 0;
      });
      return bytes;
    },
    destroy() {
      closed = true;
      if (disconnectedTimer) clearTimeout(disconnectedTimer);
      pc.close();
      release();
      video.srcObject = null;
    },
  };
}
