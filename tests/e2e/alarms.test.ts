/**
 * 值守 in Chromium, two consoles (two browser hosts, each with its hub) on one backend whose wall clock is a fake
 * one the test moves: a console started over three overdue events rings for them; two windows open on a console
 * and on the other, the chain climbs once per rung (one 督办 each, by the backend); 交接班 lists the alarms still
 * ringing and will not be written until each is handed over; a serious video-AI alarm opens its camera on a video
 * wall; an acknowledgement at console A silences console B and is in the audit.
 */
import { describe, expect } from 'vitest';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { SHOTS } from '../../harness/e2e';
import { it } from '../../harness/fixtures';
import { TEST_TOKENS } from '../../harness/backend';
import { WireClient, until } from '../../harness/wire-client';
import type { HostProcess } from '../../harness/browser';
import type { SqliteStore } from '../../backend/store/sqlite-store';
import type { Alarm, Grid, TimelineRecord } from '../../protocol';

const MIN = 60_000;

async function openConsole(browser: Browser, host: HostProcess, route = '#/dispatch'): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1920, height: 1080 } });
  const page = await context.newPage();
  await page.goto(`${host.url}${route}`);
  await page.locator('[data-testid="connection-status"][data-status="online"]').waitFor({ timeout: 30_000 });
  return page;
}
const alarmsShown = (page: Page) => page.getByTestId('alarm').count();

describe('值守: alarms that cannot be missed', () => {
  it('rings at start, climbs once per rung whatever the windows, hands over, and one acknowledgement silences every console', async ({ browser, startBackend, startHost }) => {
    let wall = Date.parse('2026-11-30T13:00:00Z');
    const backend = await startBackend({ wallClock: () => wall, startAtMs: wall, historyDays: 0 });
    const wire = new WireClient({ url: backend.url, token: TEST_TOKENS.dispatcher });
    await wire.waitSynced();
    const grid = wire.all<Grid>('grids')[0]!;
    const ids: string[] = [];
    for (const title of ['路灯不亮', '井盖缺失', '占道经营']) {
      ids.push((await wire.command('event.report', { source: 'hotline', category: 'road-facility', severity: 2, title: `值守测试：${title}`, description: '', location: grid.center })).result.eventId as string);
    }
    // A day later nothing was done: each is past its deadline when the consoles start.
    wall += 24 * 60 * MIN;
    await backend.alarms.run();
    await until(() => wire.all<Alarm>('alarms').length === 3, 'three alarms');

    const hostA = await startHost({ name: 'console-a', backend: { url: backend.url, token: TEST_TOKENS.dispatcher } });
    const hostB = await startHost({ name: 'console-b', backend: { url: backend.url, token: TEST_TOKENS.duty } });
    const [a1, a2, b] = [await openConsole(browser, hostA), await openConsole(browser, hostA, '#/map'), await openConsole(browser, hostB)];
    for (const page of [a1, a2, b]) await page.locator('[data-testid="alarm-bar"][data-count="3"]').waitFor({ timeout: 20_000 });
    await expect(a1.getByTestId('alarm').first().textContent()).resolves.toContain('超期告警');
    await b.locator('[data-testid="alarm-bar"][data-sound="playing"]').waitFor({ timeout: 5000 });
    // Console A has two windows: its desk rings, its map wall shows the alarms silently (one tone per console).
    await a1.locator('[data-testid="alarm-bar"][data-sound="playing"]').waitFor({ timeout: 5000 });
    expect(await a2.getByTestId('alarm-bar').getAttribute('data-sound')).toBe('silent');
    await b.screenshot({ path: join(SHOTS, 'alarms-at-start.png') });

    // Three windows watch, the backend climbs: one 督办 per event per rung, whatever the windows.
    wall += 3 * MIN + 1000;
    await backend.alarms.run();
    await backend.alarms.run();
    await b.locator('[data-testid="alarm"][data-rung="2"]').first().waitFor({ timeout: 10_000 });
    await expect(b.getByTestId('alarm').first().textContent()).resolves.toContain('已升级至值班长');
    await until(() => wire.seq === backend.state.seq, 'the wire client up to date');
    for (const id of ids) {
      const supervised = wire.all<TimelineRecord>('timeline').filter((t) => t.eventId === id && t.action === 'supervise');
      expect(supervised.map((t) => [t.actor, t.note])).toEqual([['system:alarms', '告警 3 分钟未确认，升级至值班长督办（第 2 级）']]);
    }

    // 交接班 at console B (the duty officer): the three alarms are listed; it cannot be written until each is ticked.
    await b.getByTestId('open-handover').click();
    await b.getByTestId('handover-notes').fill('夜班：三处超期未处置');
    await expect(b.getByTestId('handover-alarm').count()).resolves.toBe(3);
    await expect(b.getByTestId('handover-submit').isDisabled()).resolves.toBe(true);
    await expect(b.getByTestId('handover-alarms-left').textContent()).resolves.toContain('还有 3 条未确认告警未勾选');
    for (const box of await b.getByTestId('handover-alarm').all()) await box.check();
    await b.screenshot({ path: join(SHOTS, 'handover-alarms.png') });
    await b.getByTestId('handover-submit').click();
    await b.getByTestId('handover-alarms').first().waitFor({ timeout: 10_000 });
    await expect(b.getByTestId('handover-alarms').first().textContent()).resolves.toContain('移交未确认告警 3 条');
    await b.keyboard.press('Escape');

    // A serious video-AI report: its alarm opens the camera on the video wall of a console that has one.
    const wallPage = await openConsole(browser, hostA, '#/video?wall=alarm-test');
    await wallPage.getByTestId('video-tile').first().waitFor({ timeout: 20_000 });
    const camera = wire.all<{ id: string; online: boolean; position: [number, number] }>('cameras').find((c) => c.online)!;
    await wire.command('event.report', { source: 'video-ai', category: 'fire-hazard', severity: 4, title: '值守测试：仓库冒烟', description: '视频分析发现浓烟', location: camera.position, cameraId: camera.id });
    await backend.alarms.run();
    await wallPage.locator(`[data-testid="video-tile"][data-camera-id="${camera.id}"]`).waitFor({ timeout: 15_000 });
    await wallPage.context().close();
    await until(() => wire.all<Alarm>('alarms').filter((x) => x.ackedAt === null).length === 4, 'four ringing');
    await a1.locator('[data-testid="alarm-bar"][data-count="4"]').waitFor({ timeout: 10_000 });
    const videoAlarm = wire.all<Alarm>('alarms').find((x) => x.title === '值守测试：仓库冒烟')!.id;
    await wire.command('alarm.acknowledge', { alarmId: videoAlarm });
    for (const page of [a1, b]) await page.locator('[data-testid="alarm-bar"][data-count="3"]').waitFor({ timeout: 10_000 });

    // Console A acknowledges all three (the button, then F2): console B falls silent.
    await a1.getByTestId('alarm-ack').first().click();
    await b.locator('[data-testid="alarm-bar"][data-count="2"]').waitFor({ timeout: 10_000 });
    await a1.keyboard.press('F2');
    await a1.locator('[data-testid="alarm-bar"][data-count="1"]').waitFor({ timeout: 10_000 });
    await a1.keyboard.press('F2');
    for (const page of [b, a2]) await page.locator('[data-testid="alarm-bar"][data-count="0"][data-sound="silent"]').waitFor({ timeout: 10_000 });
    expect(await alarmsShown(b)).toBe(0);
    await expect(b.getByTestId('alarm-none').textContent()).resolves.toBe('无未确认告警');
    const acks = (backend.store as SqliteStore).auditLog(1000).filter((l) => l.kind === 'command' && l.detail.type === 'alarm.acknowledge');
    expect(acks.map((l) => l.userId)).toEqual(['dispatcher', 'dispatcher', 'dispatcher', 'dispatcher']);
    for (const l of acks.filter((x) => (x.detail.payload as { alarmId: string }).alarmId !== videoAlarm)) expect(String(l.detail.clientName)).toMatch(/^综治指挥调度台 · /);
    wire.close();
  }, 180_000);
});
