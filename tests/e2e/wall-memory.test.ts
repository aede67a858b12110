/**
 * Walls that remember, and a first start without chores, in Chromium against the real browser host, hub and
 * embedded backend: a first-time video wall tours the cameras nearest the console's area (never four empty
 * tiles), the page declares itself Chinese and not to be translated; two walls (?wall=left, ?wall=right) keep
 * their own layout, tiles and tour across a restart of the host on the same data dir; a named layout (预案布局)
 * saved on one wall is applied on the other; a corrupt or newer-version saved state is said in a notice and the
 * wall tours instead of going blank.
 */
import { SHOTS, hubBridge, syncedRows } from '../../harness/e2e';
import { describe, expect } from 'vitest';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { Page } from 'playwright-core';
import type { HostProcess } from '../../harness/browser';
import { it } from '../../harness/fixtures';
import { areaCentre, tourGroupCameras } from '../../renderer/src/video/wall-memory';

async function openWall(page: Page, host: HostProcess, wall: string | null): Promise<string[]> {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`${host.url.replace('role=combined', 'role=video')}#/video${wall ? `?wall=${wall}` : ''}`);
  await page.getByTestId('workspace-video').waitFor({ timeout: 30_000 });
  return errors;
}

const tileIds = (page: Page): Promise<Array<string | null>> =>
  page.locator('[data-testid="video-tile"]').evaluateAll((tiles) => tiles.map((t) => t.getAttribute('data-camera-id') || null));

/** The wall's state as the hub keeps it (what the page saved, after its short delay). */
async function savedWall(host: HostProcess, wall: string): Promise<unknown> {
  const api = await hubBridge(host);
  try {
    return (await api.getWall(wall)).state;
  } finally {
    api.close();
  }
}

describe('walls that remember, and a first start without chores', () => {
  it('first start tours nearby cameras; two walls keep their own layout and tour across a restart; a named layout applies; bad saved state is said, never blank', async ({ startHost, newPage, dataDir }) => {
    let host = await startHost({ name: 'console' });
    const api = await hubBridge(host);
    const cameras = await syncedRows(api, 'cameras');
    const connection = await new Promise<{ districtScope: string[] | null }>((resolve) => void api.subscribe({ topic: 'connection' }, (c) => c.user && resolve(c)));
    api.close();
    const nearby = tourGroupCameras('nearby', cameras, areaCentre(cameras, connection.districtScope, null));
    expect(nearby.length).toBeGreaterThanOrEqual(4);

    // ── first start: the wall tours the cameras nearest the area; the page says it is Chinese, not to translate.
    const left = await newPage();
    const leftErrors = await openWall(left, host, 'left');
    await left.getByTestId('tour-status').waitFor({ timeout: 30_000 });
    await expect(left.getByTestId('tour-status').textContent()).resolves.toContain('本辖区附近摄像头');
    expect(await tileIds(left)).toEqual(nearby.slice(0, 4));
    const page = await left.evaluate(() => ({
      lang: document.documentElement.lang,
      translate: document.documentElement.getAttribute('translate'),
      google: document.querySelector('meta[name="google"]')?.getAttribute('content'),
      language: document.querySelector('meta[http-equiv="Content-Language"]')?.getAttribute('content'),
    }));
    expect(page).toEqual({ lang: 'zh-CN', translate: 'no', google: 'notranslate', language: 'zh-CN' });
    expect(await left.getByTestId('reload-for-calls').count()).toBe(0);
    expect(await left.getByTestId('wall-problem').count()).toBe(0);
    // The pictures play (the screenshot shows a live first-start wall, not four spinners).
    for (let i = 0; i < 4; i++) await left.locator(`[data-testid="video-tile"][data-index="${i}"][data-state="playing"]`).waitFor({ timeout: 30_000 });
    await left.screenshot({ path: join(SHOTS, 'first-start-video-wall-1920x1080.png') });

    // ── left: the tour stopped on its page, 9 tiles, saved as a named layout.
    await left.getByTestId('tour-toggle').click();
    await left.getByTestId('layout-9').click();
    const leftTiles = (await tileIds(left)).slice(0, 9);
    await left.getByTestId('preset-name').fill('防汛预案');
    await left.getByTestId('preset-save').click();
    await expect.poll(() => left.getByTestId('video-notice').textContent()).toContain('已保存预案布局「防汛预案」');

    // ── right: 1+5, touring every online camera every 10 s.
    const right = await newPage();
    const rightErrors = await openWall(right, host, 'right');
    await right.getByTestId('tour-status').waitFor({ timeout: 30_000 });
    await right.getByTestId('tour-toggle').click();
    await right.getByTestId('tour-group').selectOption('online');
    await right.getByTestId('tour-interval').selectOption('10');
    await right.getByTestId('tour-toggle').click();
    await right.getByTestId('layout-1+5').click();
    await expect.poll(() => savedWall(host, 'right')).toMatchObject({ layout: '1+5', tour: { group: 'online', intervalSec: 10 } });
    await expect.poll(() => savedWall(host, 'left')).toMatchObject({ layout: '9', tour: null, tiles: [...leftTiles, ...Array.from({ length: 7 }, () => null)] });
    // The default wall (no name) is a third one, untouched by both.
    expect(await savedWall(host, 'default')).toBeNull();
    expect([...leftErrors, ...rightErrors]).toEqual([]);

    // ── the host restarts on the same data dir (another port): each wall comes back as it was.
    await host.stop();
    host = await startHost({ name: 'console' });
    const left2 = await newPage();
    await openWall(left2, host, 'left');
    await left2.locator('[data-testid="video-grid"][data-layout="9"]').waitFor({ timeout: 30_000 });
    await expect.poll(() => tileIds(left2)).toEqual(leftTiles);
    expect(await left2.getByTestId('tour-status').count()).toBe(0);
    const right2 = await newPage();
    await openWall(right2, host, 'right');
    await right2.locator('[data-testid="video-grid"][data-layout="1+5"]').waitFor({ timeout: 30_000 });
    await right2.getByTestId('tour-status').waitFor({ timeout: 30_000 });
    await expect(right2.getByTestId('tour-status').textContent()).resolves.toContain('全部在线摄像头');
    expect(await right2.getByTestId('tour-interval').inputValue()).toBe('10');
    await right2.screenshot({ path: join(SHOTS, 'wall-right-restored-1920x1080.png') });

    // ── the named layout saved on the left wall, applied on the right one: its layout and cameras, no tour.
    await right2.getByTestId('preset-select').focus();
    await right2.getByTestId('preset-select').selectOption('防汛预案');
    await right2.getByTestId('preset-apply').click();
    await right2.locator('[data-testid="video-grid"][data-layout="9"]').waitFor();
    expect(await tileIds(right2)).toEqual(leftTiles);
    expect(await right2.getByTestId('tour-status').count()).toBe(0);
    await expect.poll(() => savedWall(host, 'right')).toMatchObject({ layout: '9', tour: null });

    // ── bad saved state (a damaged row, a newer program's): said in a notice, and the wall tours, never blank.
    await host.stop();
    const cache = new Database(join(dataDir, 'console', 'cache.sqlite'));
    cache.prepare("UPDATE wall_layouts SET data = '{\"version\":1,\"layout\":' WHERE kind = 'wall' AND name = 'left'").run();
    cache.prepare("UPDATE wall_layouts SET data = ? WHERE kind = 'wall' AND name = 'right'").run(JSON.stringify({ version: 2, layout: '4x4', tiles: [], tour: null }));
    cache.close();
    host = await startHost({ name: 'console' });
    for (const [wall, code, words] of [['left', 'corrupt', '已损坏'], ['right', 'newer-version', '更新版本']] as const) {
      const again = await newPage();
      const errors = await openWall(again, host, wall);
      const notice = again.locator(`[data-testid="wall-problem"][data-code="${code}"]`);
      await notice.waitFor({ timeout: 30_000 });
      await expect(notice.textContent()).resolves.toContain(words);
      await again.getByTestId('tour-status').waitFor({ timeout: 30_000 });
      expect((await tileIds(again)).filter((id) => id !== null).length).toBe(4);
      if (wall === 'right') await again.screenshot({ path: join(SHOTS, 'wall-newer-version-notice-1920x1080.png') });
      expect(errors).toEqual([]);
    }
  }, 240_000);
});
