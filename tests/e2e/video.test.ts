/**
 * 视频墙 in Chromium against the real host, hub, embedded backend and its real ffmpeg cameras (MPEG-TS over
 * WebSocket into mpegts.js): tiles play (time advances, frames decoded), a frozen stream shows "stalled" and
 * recovers by itself, a tour rotates, an H.265-only camera says why it cannot play, the layout is remembered.
 */
import { SHOTS, hubBridge, syncedRows } from '../../harness/e2e';
import { describe, expect } from 'vitest';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import type { Camera } from '../../protocol';
import type { HostProcess } from '../../harness/browser';
import { it } from '../../harness/fixtures';

let cameras: Camera[] = [];

// The file's host (one for the wall's tests) starts here, with the hook's time to sync its cameras.
it.beforeAll(async ({ host }) => {
  const api = await hubBridge(host);
  cameras = await syncedRows(api, 'cameras');
  api.close();
}, 90_000);

/** The pid of this host's encoder for a camera (another console on the machine may run the same camera). */
function encoderOf(host: HostProcess, cameraId: string): number {
  const parentOf = (pid: number): number => Number(readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')[1]);
  const descends = (pid: number): boolean => {
    for (let p = pid; p > 1; p = parentOf(p)) if (p === host.process.pid) return true;
    return false;
  };
  const pids = execFileSync('pgrep', ['-f', `zongzhi-camera:${cameraId}`], { encoding: 'utf8' }).trim().split('\n').map(Number);
  const mine = pids.find(descends);
  if (!mine) throw new Error(`no encoder of ${cameraId} under this host`);
  return mine;
}
const playable = (): Camera[] => cameras.filter((c) => c.online && c.streams[0]?.codec === 'h264');
const tileState = (page: Page, index: number): Promise<string | null> => page.locator(`[data-testid="video-tile"][data-index="${index}"]`).getAttribute('data-state');
/** currentTime and decoded frames of every tile's video. */
const playback = (page: Page): Promise<Array<{ time: number; frames: number }>> =>
  page.evaluate(() => [...document.querySelectorAll<HTMLVideoElement>('[data-testid="video-tile"] video')].map((v) => ({ time: v.currentTime, frames: v.getVideoPlaybackQuality().totalVideoFrames })));

/** Opens the wall on the test's page; returns the errors it logs. */
async function openWall(page: Page, host: HostProcess, query: string): Promise<string[]> {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
  await page.goto(`${host.url.replace('role=combined', 'role=video')}#/video${query}`);
  await page.getByTestId('workspace-video').waitFor();
  return errors;
}

describe('video wall (视频墙)', () => {
  it('plays four live cameras; a frozen stream shows stalled and recovers by itself', async ({ host, page }) => {
    const ids = playable().slice(0, 4).map((c) => c.id);
    const errors = await openWall(page, host, `?camera=${ids.join(',')}`);
    for (let i = 0; i < 4; i++) await page.locator(`[data-testid="video-tile"][data-index="${i}"][data-state="playing"]`).waitFor({ timeout: 30_000 });
    const before = await playback(page);
    await page.waitForTimeout(2000);
    const after = await playback(page);
    after.forEach((p, i) => {
      expect(p.time).toBeGreaterThan(before[i]!.time + 1);
      expect(p.frames).toBeGreaterThan(before[i]!.frames + 10);
    });
    await page.screenshot({ path: join(SHOTS, 'video-wall-4-1920x1080.png') });

    // Freeze the encoder of the first tile's camera: the tile says so, and plays again without anyone acting.
    process.kill(encoderOf(host, ids[0]!), 'SIGSTOP');
    await page.locator('[data-testid="video-tile"][data-index="0"][data-state="stalled"]').waitFor({ timeout: 10_000 });
    await expect(page.locator('[data-testid="video-tile"][data-index="0"] [data-testid="video-tile-message"]').textContent()).resolves.toContain('画面中断');
    await page.locator('[data-testid="video-tile"][data-index="0"][data-state="playing"]').waitFor({ timeout: 30_000 });
    // The other tiles never stopped.
    for (let i = 1; i < 4; i++) expect(await tileState(page, i)).toBe('playing');

    // Enlarged (double-click): the tiles out of sight stop decoding; Esc brings them back.
    await page.locator('[data-testid="video-tile"][data-index="0"]').dblclick();
    for (let i = 1; i < 4; i++) await page.locator(`[data-testid="video-tile"][data-index="${i}"][data-state="hidden"]`).waitFor({ state: 'attached', timeout: 5_000 });
    expect(await tileState(page, 0)).toBe('playing');
    await page.keyboard.press('Escape');
    for (let i = 1; i < 4; i++) await page.locator(`[data-testid="video-tile"][data-index="${i}"][data-state="playing"]`).waitFor({ timeout: 20_000 });
    expect(errors).toEqual([]);
  }, 120_000);

  it('tours a camera group, says why an H.265 camera cannot play, and remembers the layout', async ({ host, page }) => {
    const h265 = cameras.find((c) => c.online && c.streams[0]?.codec === 'h265')!;
    expect(h265).toBeDefined();
    const errors = await openWall(page, host, `?camera=${h265.id}`);
    await page.locator('[data-testid="video-tile"][data-index="0"][data-state="unsupported-codec"]').waitFor({ timeout: 15_000 });
    await expect(page.locator('[data-testid="video-tile"][data-index="0"] [data-testid="video-tile-message"]').textContent()).resolves.toContain('H.265');

    // 轮巡 every 10 s through all online cameras, 4 at a time.
    await page.getByTestId('layout-4').click();
    await page.getByTestId('tour-interval').selectOption('10');
    await page.getByTestId('tour-toggle').click();
    await page.getByTestId('tour-status').waitFor();
    const first = await page.locator('[data-testid="video-tile"]').evaluateAll((tiles) => tiles.map((t) => t.getAttribute('data-camera-id')));
    await page.waitForFunction((ids) => [...document.querySelectorAll('[data-testid="video-tile"]')].map((t) => t.getAttribute('data-camera-id')).join() !== ids.join(), first, { timeout: 15_000 });
    const second = await page.locator('[data-testid="video-tile"]').evaluateAll((tiles) => tiles.map((t) => t.getAttribute('data-camera-id')));
    expect(second).toHaveLength(4);
    expect(second).not.toEqual(first);
    await page.getByTestId('tour-toggle').click();

    // Drag a camera from the list onto the second tile.
    const item = page.getByTestId('camera-item').nth(3);
    const dragged = (await item.getAttribute('data-camera-id'))!;
    await item.dragTo(page.locator('[data-testid="video-tile"][data-index="1"]'));
    await page.locator(`[data-testid="video-tile"][data-index="1"][data-camera-id="${dragged}"]`).waitFor({ timeout: 5_000 });

    // Layout 1+5 is remembered for the window.
    await page.getByTestId('layout-1+5').click();
    await page.reload();
    await page.locator('[data-testid="video-grid"][data-layout="1+5"]').waitFor();
    expect(await page.locator('[data-testid="video-tile"]').count()).toBe(6);
    expect(errors).toEqual([]);
  }, 90_000);

  it('plays HLS (hls.js) when that is the protocol to use', async ({ host, page }) => {
    const id = playable()[5]!.id;
    const errors = await openWall(page, host, `?camera=${id}&protocol=hls`);
    await page.locator('[data-testid="video-tile"][data-index="0"][data-state="playing"][data-protocol="hls"]').waitFor({ timeout: 30_000 });
    const before = await playback(page);
    await page.waitForTimeout(2000);
    expect((await playback(page))[0]!.time).toBeGreaterThan(before[0]!.time + 1);
    expect(errors).toEqual([]);
  }, 60_000);

  it('the dispatch desk opens the cameras nearest an event (V); with no video wall open, in its own window', async ({ host, newPage }) => {
    const page = await newPage({ viewport: { width: 1600, height: 900 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${host.url.replace('role=combined', 'role=dispatch')}#/dispatch`);
    await page.getByTestId('queue-row').first().waitFor({ timeout: 30_000 });
    await page.getByTestId('queue-row').first().click();
    await page.keyboard.press('v');
    await page.getByTestId('workspace-video').waitFor({ timeout: 10_000 });
    await page.locator('[data-testid="video-tile"]:not([data-camera-id=""])').first().waitFor({ timeout: 10_000 });
    const assigned = await page.locator('[data-testid="video-tile"]:not([data-camera-id=""])').count();
    expect(assigned).toBeGreaterThan(0);
    expect(page.url()).toMatch(/#\/video\?camera=cam\d+/);
    expect(errors).toEqual([]);
  }, 60_000);
});

describe('video wall opened before the embedded backend is up', () => {
  it('plays by itself once the backend is up, without a reload: the page names the embedded backend\'s loopback from its first load', async ({ newPage, startHost }) => {
    const late = await startHost();
    const page = await newPage({ viewport: { width: 1280, height: 800 } });
    let loads = 0;
    page.on('load', () => loads++);
    // At once: the backend is still generating its city, its port not known yet.
    await page.goto(`${late.url.replace('role=combined', 'role=video')}#/video?camera=cam0001,cam0002,cam0003,cam0004`);
    await page.locator('[data-testid="video-tile"][data-state="playing"]').first().waitFor({ timeout: 90_000 });
    expect(loads).toBe(1);
  }, 120_000);
});

