/**
 * 视频墙 over WebRTC: the reference backend fronting Debian's Janus (streaming plugin), the built console in
 * Chromium, real ffmpeg RTP feeds. Janus ignores loopback, so this file runs itself inside a network
 * namespace with a veth pair that it makes (and deletes): run plainly, it makes the namespace and runs again
 * inside it (ZONGZHI_NETNS set), then reports each inner test as its own. Needs root and Janus; otherwise
 * skipped with the reason.
 */
import { afterAll, describe, expect } from 'vitest';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { JANUS_BINARY, startJanus, type RunningJanus } from '../../backend/video/janus';
import { PROJECT_ROOT, type HostProcess } from '../../harness/browser';
import { SHOTS } from '../../harness/e2e';
import { startJanusConsole, type JanusBackend } from '../../harness/janus-console';
import { createNetns, netnsUnavailable } from '../../harness/netns';
import { it } from '../../harness/fixtures';
import { WireClient } from '../../harness/wire-client';

const INSIDE = process.env.ZONGZHI_NETNS;
const TESTS = {
  plays: 'plays four cameras over WebRTC: the tiles say WebRTC, the pictures move, glass-to-glass under 400 ms',
  recovers: 'a camera feed killed mid-stream: the tile shows stalled and plays again by itself',
  fallback: 'Janus gone: a tile falls back to MPEG-TS by itself, and back on WebRTC when Janus returns',
  badInput: 'bad WHEP requests get clear refusals; the backend and the playing tiles carry on',
} as const;

if (!INSIDE) {
  describe('video wall over WebRTC (Janus, in a network namespace the test makes)', () => {
    const why = netnsUnavailable() ?? (existsSync(JANUS_BINARY) ? null : 'Janus is not installed: apt-get install janus');
    const results = new Map<string, { status: string; failureMessages: string[] }>();
    let output = '';
    // The report in the file's temp dir (the `fileDir` fixture); the namespace is this file's own, removed here.
    it.beforeAll(async ({ fileDir }) => {
      if (why) return;
      const ns = createNetns(`rtc${process.pid}`);
      const report = join(fileDir, 'report.json');
      try {
        const child = spawn('ip', ['netns', 'exec', ns.name, process.execPath, join(PROJECT_ROOT, 'node_modules/vitest/vitest.mjs'), 'run', '--project', 'e2e', 'tests/e2e/webrtc.test.ts', '--reporter=json', `--outputFile=${report}`], {
          cwd: PROJECT_ROOT,
          env: { ...process.env, ZONGZHI_NETNS: ns.name, ZONGZHI_E2E_PREBUILT: '1' },
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        child.stdout.on('data', (d: Buffer) => (output += d.toString()));
        child.stderr.on('data', (d: Buffer) => (output += d.toString()));
        await new Promise((resolve) => child.once('exit', resolve));
        if (existsSync(report)) {
          const parsed = JSON.parse(readFileSync(report, 'utf8')) as { testResults: Array<{ assertionResults: Array<{ title: string; status: string; failureMessages: string[] }> }> };
          for (const file of parsed.testResults) for (const r of file.assertionResults) results.set(r.title, r);
        }
      } finally {
        ns.remove();
      }
    }, 300_000);

    for (const title of Object.values(TESTS)) {
      it.skipIf(why !== null)(title, () => {
        const result = results.get(title);
        if (!result) throw new Error(`the run inside the namespace did not report this test:\n${output.slice(-3000)}`);
        if (result.status !== 'passed') throw new Error(result.failureMessages.join('\n') || result.status);
      });
    }
    if (why) it.skip(`(skipped: ${why})`, () => {});
  });
} else {
  // The file's Chromium (the `browser` fixture, with loopback allowed for WebRTC) and temp dir come from the fixtures,
  // each page from newPage (closed after its test); Janus, the backend fronting it and the console stay explicit.
  it.override('chromiumOptions', { args: ['--allow-loopback-in-peer-connection'] });
  let janus: RunningJanus;
  let backend: JanusBackend;
  let host: HostProcess;
  const backendHttp = (): string => `http://127.0.0.1:${backend.ready.port}`;
  /** The dispatcher's viewer ticket (its welcome's): what opens the backend's streams. */
  let ticket = '';
  /** A camera's WHEP address as a console opens it: with the viewer's ticket. */
  const whep = (id: string): string => `/video/${id}/whep?ticket=${ticket}`;

  async function startOurJanus(same?: RunningJanus): Promise<RunningJanus> {
    // ICE on the namespace's veth ends only (named zz…); a restart comes back where the backend expects it.
    return startJanus({ iceInterfaces: 'zz', ...(same ? { port: same.port, apiSecret: same.apiSecret } : {}) });
  }

  it.beforeAll(async ({ fileDir }) => {
    janus = await startOurJanus();
    ({ backend, host } = await startJanusConsole(fileDir, janus));
    const list = await fetch(`${backendHttp()}/healthz`);
    expect(list.ok).toBe(true);
    const tokens = JSON.parse(readFileSync(backend.ready.tokensFile, 'utf8')) as Record<string, string>;
    const client = new WireClient({ url: backend.ready.url, token: tokens.dispatcher! });
    await client.waitSynced();
    ticket = client.welcome!.streamTicket!;
    client.close();
  }, 120_000);
  afterAll(async () => {
    await host?.stop();
    await backend?.stop();
    await janus?.stop();
  });

  async function openWall(newPage: () => Promise<Page>, ids: string[]): Promise<{ page: Page; errors: string[]; close: () => Promise<void> }> {
    const page = await newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
    await page.goto(`${host.url.replace('role=combined', 'role=video')}#/video?camera=${ids.join(',')}`);
    await page.getByTestId('workspace-video').waitFor();
    return { page, errors, close: () => page.context().close() };
  }
  const tile = (page: Page, i: number, state?: string) => page.locator(`[data-testid="video-tile"][data-index="${i}"]${state ? `[data-state="${state}"]` : ''}`);
  /** Camera ids that offer WebRTC (the backend lists them first when Janus is configured). */
  const webrtcCameras = async (): Promise<string[]> => {
    const ids: string[] = [];
    for (let n = 1; ids.length < 6 && n < 60; n++) {
      const id = `cam${String(n).padStart(4, '0')}`;
      // An offer means the camera is online and offers WebRTC; the session is released at once.
      const r = await fetch(`${backendHttp()}${whep(id)}`, { method: 'POST' });
      if (r.status === 201) {
        ids.push(id);
        await fetch(new URL(r.headers.get('Location')!, backendHttp()), { method: 'DELETE' });
      }
    }
    return ids;
  };
  /** The glass-to-glass latency of a tile, read from the clock strip burnt into its picture (ms). */
  const latencyOf = (page: Page, i: number): Promise<number | null> =>
    page.evaluate((index) => {
      const video = document.querySelector<HTMLVideoElement>(`[data-testid="video-tile"][data-index="${index}"] video`);
      if (!video || video.videoWidth === 0) return null;
      const canvas = document.createElement('canvas');
      canvas.width = 640;
      canvas.height = 360;
      const g = canvas.getContext('2d', { willReadFrequently: true })!;
      g.drawImage(video, 0, 0, 640, 360);
      const now = Date.now();
      let value = 0;
      for (let k = 0; k < 22; k++) {
        const [r, gg, b] = g.getImageData(24 + k * 26 + 8, 338 + 8, 1, 1).data;
        const luma = 0.299 * r! + 0.587 * gg! + 0.114 * b!;
        if (luma > 60 && luma < 190) return null;
        if (luma >= 190) value += 2 ** k;
      }
      const period = 2 ** 22;
      return (((now % period) - value) % period + period) % period;
    }, i);

  let ids: string[] = [];

  describe('video wall over WebRTC (inside the namespace)', () => {
    it(TESTS.plays, async ({ newPage }) => {
      ids = await webrtcCameras();
      expect(ids.length).toBeGreaterThanOrEqual(5);
      const { page, errors } = await openWall(newPage, ids.slice(0, 4));
      for (let i = 0; i < 4; i++) await tile(page, i, 'playing').waitFor({ timeout: 30_000 });
      for (let i = 0; i < 4; i++) expect(await tile(page, i).getAttribute('data-protocol'), (await tile(page, i).getAttribute('data-fallback')) ?? '').toBe('webrtc');
      const frames = (): Promise<number[]> => page.evaluate(() => [...document.querySelectorAll<HTMLVideoElement>('[data-testid="video-tile"] video')].map((v) => v.getVideoPlaybackQuality().totalVideoFrames));
      const before = await frames();
      await page.waitForTimeout(2000);
      const after = await frames();
      after.forEach((n, i) => expect(n).toBeGreaterThan(before[i]! + 15));
      const latencies: number[] = [];
      for (let k = 0; k < 10; k++) {
        const ms = await latencyOf(page, k % 4);
        if (ms !== null) latencies.push(ms);
        await page.waitForTimeout(100);
      }
      latencies.sort((a, b) => a - b);
      expect(latencies.length).toBeGreaterThan(5);
      expect(latencies[Math.floor(latencies.length / 2)]).toBeLessThan(400);
      await expect(tile(page, 0).locator('.proto').textContent()).resolves.toBe('WEBRTC');
      await page.screenshot({ path: join(SHOTS, 'video-wall-webrtc-4.png') });
      expect(errors).toEqual([]);
    }, 90_000);

    it(TESTS.recovers, async ({ newPage }) => {
      const { page, errors } = await openWall(newPage, [ids[0]!]);
      await tile(page, 0, 'playing').waitFor({ timeout: 30_000 });
      const pid = Number(execFileSync('pgrep', ['-f', `zongzhi-camera:${ids[0]}`], { encoding: 'utf8' }).trim().split('\n')[0]);
      process.kill(pid, 'SIGKILL');
      await tile(page, 0, 'stalled').waitFor({ timeout: 10_000 });
      await tile(page, 0, 'playing').waitFor({ timeout: 30_000 });
      expect(await tile(page, 0).getAttribute('data-protocol')).toBe('webrtc');
      expect(errors, errors.join('\n')).toEqual([]);
    }, 90_000);

    it(TESTS.fallback, async ({ newPage }) => {
      const before = janus;
      await janus.stop();
      const down = await openWall(newPage, [ids[1]!]);
      await tile(down.page, 0, 'playing').waitFor({ timeout: 30_000 });
      expect(await tile(down.page, 0).getAttribute('data-protocol')).toBe('mpegts');
      // Chromium itself logs the refused WHEP request (503); nothing else may go wrong.
      expect(down.errors.filter((e) => !/Failed to load resource.*503/.test(e))).toEqual([]);
      await down.close(); // before Janus returns (had an expectation failed, newPage closes it after the test)
      janus = await startOurJanus(before);
      const up = await openWall(newPage, [ids[1]!]);
      await tile(up.page, 0, 'playing').waitFor({ timeout: 30_000 });
      expect(await tile(up.page, 0).getAttribute('data-protocol')).toBe('webrtc');
      expect(up.errors).toEqual([]);
    }, 120_000);

    it(TESTS.badInput, async () => {
      const base = backendHttp();
      // No ticket (a camera asked for by id), or a forged one: refused before anything else.
      const unknown = await fetch(`${base}/video/cam-nope/whep`, { method: 'POST' });
      expect(unknown.status).toBe(403);
      const bad = await fetch(`${base}/video/${encodeURIComponent('../../etc')}/whep`, { method: 'POST' });
      expect(bad.status).toBe(403);
      const forged = await fetch(`${base}/video/${ids[3]}/whep?ticket=${ticket.slice(0, -1)}${ticket.endsWith('A') ? 'B' : 'A'}`, { method: 'POST' });
      expect(forged.status).toBe(403);
      const noSession = await fetch(`${base}/video/${ids[2]}/whep/AAAAAAAAAAAAAAAAAAAAAA`, { method: 'PATCH', headers: { 'Content-Type': 'application/sdp' }, body: 'v=0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\n' });
      expect(noSession.status).toBe(404);
      await expect(noSession.text()).resolves.toMatch(/no such WHEP session/);
      // A real session, answered with nonsense, then with an answer Janus cannot use.
      const offered = await fetch(`${base}${whep(ids[2]!)}`, { method: 'POST' });
      expect(offered.status, await offered.clone().text()).toBe(201);
      const session = new URL(offered.headers.get('Location')!, base);
      const notSdp = await fetch(session, { method: 'PATCH', headers: { 'Content-Type': 'application/sdp' }, body: 'hello' });
      expect(notSdp.status).toBe(400);
      const wrongType = await fetch(session, { method: 'PATCH', headers: { 'Content-Type': 'text/plain' }, body: 'v=0' });
      expect(wrongType.status).toBe(415);
      const unusable = await fetch(session, { method: 'PATCH', headers: { 'Content-Type': 'application/sdp' }, body: 'v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\n' });
      expect(unusable.status).toBe(400);
      await expect(unusable.text()).resolves.toMatch(/answer was refused/);
      expect((await fetch(session, { method: 'DELETE' })).status).toBe(200);
      // Ending a session twice is harmless (players end what the server may have ended already); never made is not.
      expect((await fetch(session, { method: 'DELETE' })).status).toBe(200);
      expect((await fetch(`${base}/video/${ids[2]}/whep/BBBBBBBBBBBBBBBBBBBBBB`, { method: 'DELETE' })).status).toBe(404);
      const wrongMethod = await fetch(`${base}/video/${ids[2]}/whep`, { method: 'PUT' });
      expect(wrongMethod.status).toBe(405);
      const health = await fetch(`${base}/healthz`);
      expect(health.ok).toBe(true);
    }, 60_000);
  });
}
