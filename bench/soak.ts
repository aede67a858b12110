/**
 * Soak (issue 7, 24/7; issue 21, the show that runs itself): all four walls open in one Chromium (the video wall
 * playing four live cameras), against the real host, hub and embedded backend with the simulated city running at
 * accelerated time, for BENCH_MINUTES (default 30). With BENCH_SHOW=1 (the default) it is the 迎检 show: the
 * embedded backend runs its demo loop (an incident every BENCH_DEMO_LOOP wall minutes, worked to closure by the
 * simulated people), every screen is a masked demo screen, the map wall tours the incidents, and a fifth screen
 * rotates through the workspaces (playlist). Samples each page's JS heap (after a forced GC) every minute and
 * prints the growth after the warm-up, with what the show did. Heap snapshots at the end of the warm-up, half-way
 * and at the end split each wall's heap into compiled code, strings and objects. Not a test: prints figures.
 * Run: npm run bench -- soak   (BENCH_MINUTES, BENCH_WARMUP_MINUTES, BENCH_SPEED, BENCH_SHOW, BENCH_DEMO_LOOP)
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import type { Camera } from '../protocol';
import { launchChromium, startHostProcess } from '../harness/browser';
import { hubBridge, syncedRows } from '../harness/e2e';
import { heapSplit, type HeapSplit } from './support/heap-split';

const minutes = Number(process.env.BENCH_MINUTES ?? 30);
const warmup = Number(process.env.BENCH_WARMUP_MINUTES ?? 5);
const speed = Number(process.env.BENCH_SPEED ?? 60);
const show = process.env.BENCH_SHOW !== '0';
const demoLoop = Number(process.env.BENCH_DEMO_LOOP ?? 3);
const root = join(import.meta.dirname, '..');
execFileSync(process.execPath, [join(root, 'node_modules/electron-vite/bin/electron-vite.js'), 'build'], { cwd: root, stdio: 'ignore' });
const dir = mkdtempSync(join(tmpdir(), 'zongzhi-soak-'));
const host = await startHostProcess(join(dir, 'data'), ['--speed', String(speed), ...(show ? ['--demo-loop', String(demoLoop)] : [])]);
const browser = await launchChromium({ args: ['--js-flags=--expose-gc', '--enable-precise-memory-info'] });
const context = await browser.newContext({ viewport: { width: 1920, height: 1080 } });
// The video wall plays four live cameras for the whole run (real ffmpeg encoders, MPEG-TS over WebSocket).
const api = await hubBridge(host);
const cameras: Camera[] = await syncedRows(api, 'cameras');
const playing = cameras.filter((c) => c.online && c.streams[0]?.codec === 'h264').slice(0, 4).map((c) => c.id);
const walls = show ? ['map', 'kpi', 'video', 'dispatch', 'show'] : ['map', 'kpi', 'video', 'dispatch'];
const pages: Page[] = [];
for (const wall of walls) {
  const page = await context.newPage();
  page.on('crash', () => console.log(`  !! the ${wall} page crashed`));
  page.on('close', () => console.log(`  !! the ${wall} page closed`));
  // The show: masked demo screens; the map wall tours the incidents; the fifth screen rotates (and tours on its map).
  const role = wall === 'show' ? 'combined' : wall;
  const query = [...(show ? ['demo=1'] : []), ...(wall === 'map' && show ? ['tour=20'] : []), ...(wall === 'show' ? ['playlist=30'] : [])];
  const url = new URL(host.url.replace('role=combined', `role=${role}`));
  for (const q of query) url.searchParams.set(q.split('=')[0]!, q.split('=')[1]!);
  await page.goto(`${url.href}#/${wall === 'show' ? 'map' : wall}${wall === 'video' ? `?camera=${playing.join(',')}` : ''}`);
  pages.push(page);
}
/** What the show did: incidents toured by the map wall (distinct events it selected) and the alarms now. */
const toured = new Set<string>();
const showState = async (): Promise<string> => {
  if (!show) return '';
  const picked = await pages[0]!.evaluate(() => (globalThis as { zongzhiMap?: { selected: () => { layer: string; id: string } | null } }).zongzhiMap?.selected() ?? null);
  if (picked?.layer === 'events') toured.add(picked.id);
  const alarms = await syncedRows(api, 'alarms', 5_000).catch(() => []);
  const events = await syncedRows(api, 'events', 5_000).catch(() => []);
  const open = events.filter((e) => e.status !== 'closed').length;
  return ` · map on ${picked?.layer === 'events' ? picked.id : 'the city'} (${toured.size} toured) · ${alarms.length} alarms · ${open} open events`;
};
const heap = async (): Promise<number[]> =>
  Promise.all(
    pages.map((p) =>
      p.evaluate(() => {
        (globalThis as { gc?: () => void }).gc?.();
        return (performance as unknown as { memory: { usedJSHeapSize: number } }).memory.usedJSHeapSize;
      }),
    ),
  );
console.log(`soak: ${walls.length} walls, simulated clock ×${speed}, ${minutes} min (warm-up ${warmup} min)${show ? `, the 迎检 show (an incident every ${demoLoop} min, masked, map touring, one screen rotating)` : ''}`);
const samples: Array<{ minute: number; mb: number[] }> = [];
/** At the end of the warm-up, half-way and at the end: each wall's heap split into compiled code and objects. */
const middle = Math.round((warmup + minutes) / 2);
const splits = new Map<number, HeapSplit[]>();
for (let minute = 0; minute <= minutes; minute++) {
  if (minute > 0) await new Promise((r) => setTimeout(r, 60_000));
  const mb = (await heap()).map((b) => Math.round((b / 1024 / 1024) * 10) / 10);
  samples.push({ minute, mb });
  const tiles = await pages[2]!.locator('[data-testid="video-tile"][data-state="playing"]').count();
  console.log(`  min ${String(minute).padStart(3)}: ${walls.map((w, i) => `${w} ${mb[i]} MiB`).join(' · ')} · ${tiles} tiles playing${await showState()}`);
  if (minute === warmup || minute === middle || minute === minutes) {
    const split: HeapSplit[] = [];
    for (const page of pages) split.push(await heapSplit(page));
    splits.set(minute, split);
  }
}
const base = samples.find((s) => s.minute === warmup) ?? samples[0]!;
const last = samples.at(-1)!;
// The video wall's heap swings with its media buffers and GC timing: averages of three samples are steadier.
const mean3 = (from: number, i: number): number => {
  const window = samples.filter((s) => s.minute >= from && s.minute < from + 3);
  return window.reduce((sum, s) => sum + s.mb[i]!, 0) / Math.max(1, window.length);
};
console.log('');
console.log(`growth after warm-up (minute ${warmup} → ${last.minute}; and the mean of 3 samples at each end):`);
walls.forEach((w, i) => {
  const a = mean3(warmup, i);
  const b = mean3(last.minute - 2, i);
  console.log(`  ${w}: ${base.mb[i]} → ${last.mb[i]} MiB (${(((last.mb[i]! - base.mb[i]!) / base.mb[i]!) * 100).toFixed(1)} %); 3-sample means ${a.toFixed(1)} → ${b.toFixed(1)} MiB (${(((b - a) / a) * 100).toFixed(1)} %)`);
});
console.log(`the second half (3-sample means, minute ${middle} → ${last.minute}):`);
walls.forEach((w, i) => {
  const a = mean3(middle, i);
  const b = mean3(last.minute - 2, i);
  console.log(`  ${w}: ${a.toFixed(1)} → ${b.toFixed(1)} MiB (${(((b - a) / a) * 100).toFixed(1)} %)`);
});
const mib = (b: number): string => (b / 1024 / 1024).toFixed(2);
const pct = (a: number, b: number): string => `${b >= a ? '+' : ''}${(((b - a) / a) * 100).toFixed(1)} %`;
for (const from of [warmup, middle]) {
  const a = splits.get(from);
  const b = splits.get(minutes);
  if (!a || !b || from === minutes) continue;
  console.log('');
  console.log(`heap snapshots, minute ${from} → ${minutes}: compiled code (V8's JIT warming up) apart from the page's objects and strings:`);
  walls.forEach((w, i) => {
    const [x, y] = [a[i]!, b[i]!];
    console.log(`  ${w}: code ${mib(x.code)} → ${mib(y.code)} MiB (${pct(x.code, y.code)}); objects ${mib(x.objects)} → ${mib(y.objects)} MiB (${pct(x.objects, y.objects)}); strings ${mib(x.strings)} → ${mib(y.strings)} MiB (${pct(x.strings, y.strings)})`);
  });
}
api.close();
await browser.close();
await host.stop();
rmSync(dir, { recursive: true, force: true });
process.exit(0);
