/**
 * Camera recording bench (复盘回放, backend/video/recorder.ts): what recording costs per camera, with real ffmpeg
 * encoders (640x360@15 H.264, 600 kbit/s) and the recorder tapping their MPEG-TS into 10-s segments.
 * - watched: BENCH_CAMERAS cameras each with a WebSocket viewer, measured once on a backend that does not record and
 *   once on one that does: the difference in the backend's CPU is what recording adds (the encoders run anyway);
 * - unwatched: the same number of cameras pinned by the recorder with nobody watching: their encoders are the
 *   recording's cost too.
 * CPU in % of a core (the backend's process, the encoders), MB written per camera-hour.
 * Run: npm run bench -- recording   (BENCH_SECONDS per phase, default 60; BENCH_CAMERAS, default 4)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocket } from 'ws';
import { startBackend, type RunningBackend } from '../backend/index';
import { hashToken } from '../backend/users';
import { cpuSeconds } from '../harness/procs';

const seconds = Number(process.env.BENCH_SECONDS ?? 60);
const count = Number(process.env.BENCH_CAMERAS ?? 4);
const dir = mkdtempSync(join(tmpdir(), 'zongzhi-recording-bench-'));
const token = 'bench-token-recording';

async function backendIn(name: string, record: boolean): Promise<RunningBackend> {
  return startBackend({
    dbFile: join(dir, name, 'backend.sqlite'),
    simulate: false,
    historyDays: 0,
    tokens: { dispatcher: token },
    tokensFile: null,
    alarms: false,
    ...(record ? { recording: { floorBytes: 0, max: count } } : {}),
  });
}

interface Phase {
  backendCpu: number;
  encoderCpu: number;
  /** Bytes per second of recording per camera (the segments' bytes over their length). */
  bytesPerSecond: number;
}

/** Runs the cameras for `seconds` (watched: a viewer each; else pinned) and measures. */
async function phase(backend: RunningBackend, ids: string[], watched: boolean): Promise<Phase> {
  const base = backend.url.replace(/\/ws$/, '');
  const ticket = backend.tickets.of(hashToken(token));
  const viewers = watched ? ids.map((id) => new WebSocket(`${base}/video/${id}?ticket=${ticket}`)) : [];
  for (const v of viewers) v.on('error', () => {});
  if (!watched) for (const id of ids) backend.video.pin(id, 'bench');
  await new Promise((r) => setTimeout(r, 3000)); // encoders up, first keyframes
  const pids = (): number[] => backend.video.running.filter((r) => ids.includes(r.cameraId)).map((r) => r.pid!);
  const encoders = pids();
  const cpu0 = process.cpuUsage();
  const enc0 = encoders.map((p) => cpuSeconds(p));
  await new Promise((r) => setTimeout(r, seconds * 1000));
  const cpu = process.cpuUsage(cpu0);
  const enc1 = encoders.map((p) => cpuSeconds(p));
  for (const v of viewers) v.close();
  if (!watched) for (const id of ids) backend.video.unpin(id, 'bench');
  // The segments open now close when the encoders stop (after their linger).
  await new Promise((r) => setTimeout(r, 5000));
  return {
    backendCpu: (cpu.user + cpu.system) / 1e6 / seconds,
    encoderCpu: enc1.reduce((s, c, i) => s + c - enc0[i]!, 0) / seconds,
    bytesPerSecond: recordedRate(backend, ids),
  };
}

function recordedRate(backend: RunningBackend, ids: string[]): number {
  const segments = backend.recorder?.index.withStatus('ok').filter((s) => ids.includes(s.cameraId)) ?? [];
  const bytes = segments.reduce((n, s) => n + s.bytes, 0);
  const wallSeconds = segments.reduce((n, s) => n + (s.endWallMs - s.startWallMs) / 1000, 0);
  return wallSeconds > 0 ? bytes / wallSeconds : 0;
}

const pct = (share: number): string => `${(share * 100).toFixed(2)} %`;
const mbPerHour = (bytesPerSecond: number): string => `${Math.round((bytesPerSecond * 3600) / 1024 / 1024)} MB`;

const plain = await backendIn('plain', false);
const cameras = [...plain.state.collections.cameras.values()].filter((c) => c.online && c.streams.some((s) => s.codec === 'h264')).map((c) => c.id);
const watchedIds = cameras.slice(0, count);
const unwatchedIds = cameras.slice(count, 2 * count);
const watchedPlain = await phase(plain, watchedIds, true);
await plain.close();
const recording = await backendIn('recording', true);
const watchedRecorded = await phase(recording, watchedIds, true);
const unwatched = await phase(recording, unwatchedIds, false);
await recording.close();
rmSync(dir, { recursive: true, force: true });

console.log(`recording bench: ${count} cameras, ${seconds} s per phase, 640x360@15 H.264 (600 kbit/s), 10-s segments; CPU per camera in % of a core`);
console.log('| | watched | unwatched |');
console.log('|---|---|---|');
console.log(`| recording's extra CPU per camera | ${pct((watchedRecorded.backendCpu - watchedPlain.backendCpu) / count)} (the tap and the writes; backend ${pct(watchedPlain.backendCpu)} → ${pct(watchedRecorded.backendCpu)} for ${count}) | ${pct((unwatched.encoderCpu + unwatched.backendCpu) / count)} (its encoder ${pct(unwatched.encoderCpu / count)} + the backend ${pct(unwatched.backendCpu / count)}) |`);
console.log(`| encoder CPU per camera (runs anyway when watched) | ${pct(watchedRecorded.encoderCpu / count)} | ${pct(unwatched.encoderCpu / count)} |`);
console.log(`| written per camera-hour | ${mbPerHour(watchedRecorded.bytesPerSecond)} | ${mbPerHour(unwatched.bytesPerSecond)} |`);
