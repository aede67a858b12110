/**
 * Video wall bench (issue 8): the real host with its embedded backend and real ffmpeg cameras, the real video
 * wall in Debian's Chromium. For 1, 4, 9 and 16 tiles: glass-to-glass latency (the wall clock the encoder
 * burnt into each frame as a bit strip, read off the displayed picture, against the page's clock), decoded
 * and dropped frames per tile, and CPU of Chromium (all its processes) and of the ffmpeg encoders.
 * MPEG-TS over WebSocket (mpegts.js) at 1/4/9/16 tiles, HLS (hls.js, 0.5 s segments) at 1/4, WebRTC (WHEP
 * through the backend to Janus's streaming plugin) at 1/4/9/16. Janus ignores loopback, so the WebRTC runs
 * happen inside a network namespace with a veth pair this bench makes (root; otherwise they are skipped, said).
 * Run: npm run bench -- video   (BENCH_SECONDS per run, default 20; BENCH_TILES, default 1,4,9,16;
 * BENCH_HLS_TILES, default 1,4; BENCH_WEBRTC_TILES, default 1,4,9,16)
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Camera } from '../protocol';
import { CLOCK_BITS, CLOCK_STRIP } from '../protocol';
import { launchChromium, startHostProcess, type HostProcess } from '../harness/browser';
import { hubBridge, syncedRows } from '../harness/e2e';
import { startJanusConsole, type JanusBackend } from '../harness/janus-console';
import { createNetns, netnsUnavailable } from '../harness/netns';
import { JANUS_BINARY, startJanus, type RunningJanus } from '../backend/video/janus';
import { cpuSeconds, percentile } from '../harness/procs';

const seconds = Number(process.env.BENCH_SECONDS ?? 20);
const inNetns = process.env.ZONGZHI_NETNS !== undefined;
const tilesOf = (name: string, fallback: string): number[] => (process.env[name] ?? fallback).split(',').filter(Boolean).map(Number);
const webrtcTiles = tilesOf('BENCH_WEBRTC_TILES', '1,4,9,16');
const runs = inNetns
  ? webrtcTiles.map((tiles) => ({ protocol: 'webrtc', tiles }))
  : [...tilesOf('BENCH_TILES', '1,4,9,16').map((tiles) => ({ protocol: 'mpegts', tiles })), ...tilesOf('BENCH_HLS_TILES', '1,4').map((tiles) => ({ protocol: 'hls', tiles }))];
const root = join(import.meta.dirname, '..');
if (!inNetns) execFileSync(process.execPath, [join(root, 'node_modules/electron-vite/bin/electron-vite.js'), 'build'], { cwd: root, stdio: 'ignore' });
const dir = mkdtempSync(join(tmpdir(), 'zongzhi-video-bench-'));
let janus: RunningJanus | null = null;
let backend: JanusBackend | null = null;
let host: HostProcess;
if (inNetns) {
  // Inside the namespace: Janus on its veth ends, a backend fronting it, a console linked to that backend.
  janus = await startJanus({ iceInterfaces: 'zz' });
  ({ backend, host } = await startJanusConsole(dir, janus));
} else host = await startHostProcess(join(dir, 'data'));
const api = await hubBridge(host);
const cameras: Camera[] = await syncedRows(api, 'cameras');
api.close();
const playable = cameras.filter((c) => c.online && c.streams[0]?.codec === 'h264');

// BENCH_CHROMIUM_FLAGS (e.g. "--use-angle=swiftshader" or "--disable-gpu") compares other software paths with
// the llvmpipe GL the tests use.
const browser = await launchChromium({ args: (process.env.BENCH_CHROMIUM_FLAGS ?? '').split(' ').filter(Boolean) });
const pids = (pattern: string): number[] => {
  try {
    return execFileSync('pgrep', ['-f', pattern], { encoding: 'utf8' }).trim().split('\n').filter(Boolean).map(Number);
  } catch {
    return [];
  }
};
const cpuOf = (list: number[]): number => list.reduce((sum, pid) => {
  try {
    return sum + cpuSeconds(pid);
  } catch {
    return sum; // exited meanwhile
  }
}, 0);

if (!inNetns) {
  console.log(`video bench: 640x360@15 H.264 baseline cameras, ${seconds} s per run, Chromium ${browser.version()}, glass-to-glass = clock in the picture vs page clock`);
  console.log('protocol | tiles | latency p50 / p95 (ms) | fps per tile (min–max) | dropped | Chromium CPU | encoders CPU');
}
for (const { protocol, tiles: n } of runs) {
  const context = await browser.newContext({ viewport: { width: 1920, height: 1080 } });
  const page = await context.newPage();
  const ids = playable.slice(0, n).map((c) => c.id);
  await page.goto(`${host.url.replace('role=combined', 'role=video')}#/video?camera=${ids.join(',')}&protocol=${protocol}`);
  await page.waitForFunction((count) => document.querySelectorAll('[data-testid="video-tile"][data-state="playing"]').length >= count, n, { timeout: 60_000 });
  await page.waitForTimeout(5000);
  const chromium = pids('chromium');
  const encoders = [...pids('zongzhi-camera:'), ...(janus?.process.pid ? [janus.process.pid] : [])];
  const quality = (): Promise<Array<{ totalVideoFrames: number; droppedVideoFrames: number }>> =>
    page.evaluate(() => [...document.querySelectorAll<HTMLVideoElement>('[data-testid="video-tile"]:not([data-camera-id=""]) video')].map((v) => v.getVideoPlaybackQuality()).map((q) => ({ totalVideoFrames: q.totalVideoFrames, droppedVideoFrames: q.droppedVideoFrames })));
  const frames0 = await quality();
  const cpu0 = { chromium: cpuOf(chromium), encoders: cpuOf(encoders), at: performance.now() };
  const latencies: number[] = [];
  const until = Date.now() + seconds * 1000;
  while (Date.now() < until) {
    // Each tile's current picture, drawn at the stream's own size, its clock strip decoded, against now.
    const sample = await page.evaluate(
      ({ strip, bits }) => {
        const canvas = document.createElement('canvas');
        canvas.width = strip.width;
        canvas.height = strip.height;
        const g = canvas.getContext('2d', { willReadFrequently: true })!;
        const out: number[] = [];
        for (const v of document.querySelectorAll<HTMLVideoElement>('[data-testid="video-tile"]:not([data-camera-id=""]) video')) {
          if (v.videoWidth !== strip.width) continue;
          g.drawImage(v, 0, 0);
          const now = Date.now();
          const px = g.getImageData(0, strip.y, strip.width, strip.box).data;
          let value = 0;
          let ok = true;
          for (let k = 0; k < bits; k++) {
            const x = strip.x0 + k * strip.pitch + strip.box / 2;
            const i = ((strip.box / 2) * strip.width + x) * 4;
            const luma = 0.299 * px[i]! + 0.587 * px[i + 1]! + 0.114 * px[i + 2]!;
            if (luma > 60 && luma < 190) ok = false;
            if (luma >= 190) value += 2 ** k;
          }
          const period = 2 ** bits;
          if (ok) out.push((((now % period) - value) % period + period) % period);
        }
        return out;
      },
      { strip: CLOCK_STRIP, bits: CLOCK_BITS },
    );
    latencies.push(...sample.filter((ms) => ms < 10_000));
    await page.waitForTimeout(500);
  }
  const wall = (performance.now() - cpu0.at) / 1000;
  const cpu = { chromium: ((cpuOf(chromium) - cpu0.chromium) / wall) * 100, encoders: ((cpuOf(encoders) - cpu0.encoders) / wall) * 100 };
  const frames1 = await quality();
  const fps = frames1.map((f, i) => (f.totalVideoFrames - frames0[i]!.totalVideoFrames) / wall);
  const dropped = frames1.reduce((s, f, i) => s + f.droppedVideoFrames - frames0[i]!.droppedVideoFrames, 0);
  latencies.sort((a, b) => a - b);
  console.log(
    `${protocol.padEnd(8)} | ${String(n).padStart(5)} | ${percentile(latencies, 50).toFixed(0)} / ${percentile(latencies, 95).toFixed(0)} (${latencies.length} readings) | ${Math.min(...fps).toFixed(1)}–${Math.max(...fps).toFixed(1)} | ${dropped} | ${cpu.chromium.toFixed(0)} % of a core | ${cpu.encoders.toFixed(0)} % (${encoders.length - (janus ? 1 : 0)} ffmpeg${janus ? ' + Janus' : ''})`,
  );
  await context.close();
  await new Promise((r) => setTimeout(r, protocol === 'hls' ? 12_000 : 4000)); // encoders stop after their linger / idle time
}
await browser.close();
await host.stop();
await backend?.stop();
await janus?.stop();
rmSync(dir, { recursive: true, force: true });

// WebRTC: this bench again, inside a network namespace it makes (Janus ignores loopback).
if (!inNetns && webrtcTiles.length > 0) {
  const why = netnsUnavailable() ?? (existsSync(JANUS_BINARY) ? null : 'Janus is not installed (apt-get install janus)');
  if (why) console.log(`webrtc   | skipped: ${why}`);
  else {
    const ns = createNetns(`bench${process.pid}`);
    try {
      spawnSync('ip', ['netns', 'exec', ns.name, process.execPath, '--import', 'tsx', join(root, 'bench/video.ts')], { cwd: root, stdio: 'inherit', env: { ...process.env, ZONGZHI_NETNS: ns.name } });
    } finally {
      ns.remove();
    }
  }
}
process.exit(0);
