/** A call's media: the session description handler (local media from the app, ICE settings), streams, stats. */
import type { Session, SessionDescriptionHandlerFactory } from 'sip.js';
import { SessionDescriptionHandler } from 'sip.js/lib/platform/web';
import type { CallInfo, PhoneOptions } from './phone-types';

/** Handlers that ask the app for local media of the call they belong to (infoOf finds it). */
export function mediaHandlerFactory(options: PhoneOptions, infoOf: (session: Session) => CallInfo | undefined): SessionDescriptionHandlerFactory {
  return (session, factoryOptions?: { iceGatheringTimeout?: number }) => {
    const media = (constraints: MediaStreamConstraints): Promise<MediaStream> => {
      const info = infoOf(session);
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
}

export function handlerOf(session: Session | undefined): SessionDescriptionHandler | null {
  const handler = session?.sessionDescriptionHandler;
  return handler instanceof SessionDescriptionHandler ? handler : null;
}

/** Media actually received, from getStats (a call can be 'established' with no media at all). */
export async function receivedBytes(pc: RTCPeerConnection | null): Promise<{ audio: number; video: number }> {
  const totals = { audio: 0, video: 0 };
  const stats = await pc?.getStats();
  stats?.forEach((report: { type: string; kind?: string; bytesReceived?: number }) => {
    if (report.type === 'inbound-rtp' && (report.kind === 'audio' || report.kind === 'video')) totals[report.kind] += report.bytesReceived ?? 0;
  });
  return totals;
}

/**
 * What a call's element says about it for tests and diagnostics (the desk's call bar and the field page alike):
 * who, in which state, and how many audio and video bytes have arrived.
 */
export function callDataAttrs(call: { peer: string; state: string }, media: { audio: number; video: number } | undefined): Record<string, string | number> {
  return { 'data-peer': call.peer, 'data-state': call.state, 'data-audio-bytes': media?.audio ?? 0, 'data-video-bytes': media?.video ?? 0 };
}
