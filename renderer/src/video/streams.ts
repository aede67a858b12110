/** Which of a camera's streams this machine can play, best first (pure: no player library loaded). */
import type { Camera, CameraStream } from '../../../protocol';

const CODEC_MIME: Record<CameraStream['codec'], string> = {
  h264: 'video/mp4; codecs="avc1.42E01E"',
  h265: 'video/mp4; codecs="hvc1.1.6.L93.B0"',
};
/** Best first; WebRTC (WHEP) is left for the deployment work (it needs a media server to test against). */
const PROTOCOL_ORDER: ReadonlyArray<CameraStream['protocol']> = ['mpegts', 'flv', 'hls'];

export function canDecode(codec: CameraStream['codec']): boolean {
  return typeof MediaSource !== 'undefined' && MediaSource.isTypeSupported(CODEC_MIME[codec]);
}

/** The camera's streams this machine can play, best first. */
export function playableStreams(camera: Camera, decodable: (codec: CameraStream['codec']) => boolean = canDecode): CameraStream[] {
  return camera.streams.filter((s) => PROTOCOL_ORDER.includes(s.protocol) && decodable(s.codec)).sort((a, b) => PROTOCOL_ORDER.indexOf(a.protocol) - PROTOCOL_ORDER.indexOf(b.protocol));
}
