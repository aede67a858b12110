/**
 * The synthetic camera's encoder command: ffmpeg renders a test picture with the camera's name, a millisecond
 * wall clock and the same clock as a bit strip (for latency measurement), as low-latency H.264 baseline (or H.265
 * for the cameras that only offer that), to a pipe (MPEG-TS over WebSocket), HLS segments, or RTP (Janus).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { CLOCK_BITS, CLOCK_STRIP, type Camera } from '../../protocol';

const FONT_CANDIDATES = ['/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc', '/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf'];

/** The font the overlay uses: CJK when installed (camera names are Chinese), else DejaVu, else none. */
export function defaultFontFile(): string | null {
  return FONT_CANDIDATES.find((f) => existsSync(f)) ?? null;
}

/** What burns the camera's name into the picture: letters, digits and a few separators, nothing ffmpeg parses. */
function overlayText(name: string): string {
  return name.replace(/[^\p{L}\p{N} ()（）·_-]/gu, '').slice(0, 40);
}

/** Where an encoder writes: MPEG-TS to its stdout (WebSocket viewers), or an HLS playlist with 0.5 s segments. */
export type EncoderOutput = { kind: 'pipe' } | { kind: 'hls'; dir: string } | { kind: 'rtp'; host: string; port: number };

export function ffmpegArgs(camera: Camera, fontFile: string | null, utcOffsetSeconds: number, output: EncoderOutput = { kind: 'pipe' }): string[] {
  const { x0, y, box, pitch, width, height } = CLOCK_STRIP;
  const filters = [
    // Frame time := the wall clock (µs) when the frame is made; restored to a regular 15 fps below.
    'settb=1/1000000',
    'setpts=RTCTIME',
    `drawbox=x=0:y=${y - 6}:w=${width}:h=${height - y + 6}:color=black:t=fill`,
    ...Array.from({ length: CLOCK_BITS }, (_, k) => `drawbox=x=${x0 + k * pitch}:y=${y}:w=${box}:h=${box}:color=white:t=fill:enable='mod(floor(t*1000/${2 ** k}),2)'`),
  ];
  if (fontFile) {
    filters.push(
      `drawtext=fontfile=${fontFile}:text='${overlayText(camera.name)}':x=12:y=34:fontsize=22:fontcolor=white:box=1:boxcolor=black@0.55:boxborderw=6`,
      `drawtext=fontfile=${fontFile}:text='%{pts\\:hms\\:${utcOffsetSeconds}\\:24HH}':x=12:y=70:fontsize=26:fontcolor=yellow:box=1:boxcolor=black@0.55:boxborderw=6`,
    );
  }
  filters.push('setpts=N/(15*TB)');
  const h265 = camera.streams.every((s) => s.codec === 'h265') && camera.streams.length > 0;
  // A keyframe every second for WebSocket viewers (the GOP cache starts joiners there), every half second for
  // HLS (each 0.5 s segment must start with one).
  const gop = output.kind === 'hls' ? 8 : 15;
  const codec = h265
    ? ['-c:v', 'libx265', '-preset', 'ultrafast', '-tune', 'zerolatency', '-x265-params', `keyint=${gop}:min-keyint=${gop}:log-level=error`]
    : ['-c:v', 'libx264', '-profile:v', 'baseline', '-preset', 'ultrafast', '-tune', 'zerolatency', '-g', String(gop), '-keyint_min', String(gop), '-sc_threshold', '0'];
  const sink =
    output.kind === 'rtp'
      ? // H.264 in RTP to a media server's mountpoint (Janus streaming), SPS/PPS in-band with every keyframe.
        ['-f', 'rtp', '-payload_type', '96', `rtp://${output.host}:${output.port}?pkt_size=1200`]
      : output.kind === 'hls'
      ? ['-f', 'hls', '-hls_time', '0.5', '-hls_list_size', '6', '-hls_flags', 'delete_segments+independent_segments+omit_endlist', '-hls_segment_filename', join(output.dir, 'seg%05d.ts'), join(output.dir, 'index.m3u8')]
      : ['-f', 'mpegts', '-flush_packets', '1', '-muxdelay', '0', '-muxpreload', '0', 'pipe:1'];
  return [
    '-hide_banner',
    '-loglevel', 'error',
    '-nostdin',
    '-re',
    '-f', 'lavfi',
    '-i', `testsrc2=size=${width}x${height}:rate=15`,
    '-vf', filters.join(','),
    ...codec,
    '-b:v', '600k', '-maxrate', '800k', '-bufsize', '400k',
    '-pix_fmt', 'yuv420p',
    '-threads', '1',
    // Marks the process as this camera's encoder (ps, tests).
    '-metadata', `title=zongzhi-camera:${camera.id}`,
    ...sink,
  ];
}
