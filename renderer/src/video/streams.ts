/** Which of a camera's streams this machine can play, best first (pure: no player library loaded). */
import type { Camera, CameraStream } from '../../../protocol';

const CODEC_MIME: Record<CameraStream['codec'], string> = {
  h264: 'video/mp4; codecs="avc1.42E01E"',
  h265: 'video/mp4; codecs="hvc1.1.6.L93.B0"',
};
const WEBRTC_CODEC: Record<CameraStream['codec'], string> = { h264: 'video/H264', h265: 'video/H265' };
/** Best first: WebRTC (WHEP, tens of ms) → MPEG-TS / FLV over MSE (~0.3 s) → HLS (~1.5 s). */
const PROTOCOL_ORDER: ReadonlyArray<CameraStream['protocol']> = ['webrtc', 'mpegts', 'flv', 'hls'];

/** Whether this machine decodes `codec` over `protocol` (WebRTC and MSE have different decoders). */
export function canDecode(codec: CameraStream['codec'], protocol: CameraStream['protocol'] = 'mpegts'): boolean {
  if (protocol === 'webrtc') {
    if (typeof RTCRtpReceiver === 'undefined') return false;
    return (RTCRtpReceiver.getCapabilities('video')?.codecs ?? []).some((c) => c.mimeType.toLowerCase() === WEBRTC_CODEC[codec].toLowerCase());
  }
  return typeof MediaSource !== 'undefined' && MediaSource.isTypeSupported(CODEC_MIME[codec]);
}

/** The camera's streams this machine can play, best first. */
export function playableStreams(camera: Camera, decodable: (codec: CameraStream['codec'], protocol: CameraStream['protocol']) => boolean = canDecode): CameraStream[] {
  return camera.streams.filter((s) => PROTOCOL_ORDER.includes(s.protocol) && decodable(s.codec, s.protocol)).sort((a, b) => PROTOCOL_ORDER.indexOf(a.protocol) - PROTOCOL_ORDER.indexOf(b.protocol));
}
