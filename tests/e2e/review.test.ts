/**
 * 复盘报告 in Chromium against a real backend: an incident runs live (reported, accepted, dispatched to a grid staff
 * member, signed, handled, followed up, closed, with a call about it logged), the dispatcher opens the report from
 * the event detail, and it lists each step with who did it, the people, the call with its duration and outcome,
 * and draws the map; it prints to PDF (page.pdf) and a 1920×1080 screenshot is kept to look at.
 */
import { describe, expect } from 'vitest';
import { join } from 'node:path';
import { statSync, writeFileSync } from 'node:fs';
import type { Page } from 'playwright-core';
import type { GovEvent, Grid, Staff } from '../../protocol';
import { SHOTS } from '../../harness/e2e';
import { TEST_TOKENS } from '../../harness/backend';
import { it } from '../../harness/fixtures';
import { WireClient } from '../../harness/wire-client';

async function open(page: Page, url: string): Promise<void> {
  await page.goto(url);
  await page.locator('[data-testid="connection-status"][data-status="online"]').waitFor({ timeout: 30_000 });
}

describe('复盘报告', () => {
  it('reviews an incident run live: steps with who and when, people, the call; prints to PDF', async ({ backend, newPage, startHost }) => {
    const desk = new WireClient({ url: backend.url, token: TEST_TOKENS.dispatcher });
    await desk.waitSynced();
    const worker = desk.all<Staff>('staff').find((s) => s.status !== 'offline')!;
    const grid = desk.all<Grid>('grids').find((g) => g.id === worker.gridId)!;
    const ack = await desk.command('event.report', { source: 'hotline', category: 'noise', severity: 2, title: '复盘测试：夜间施工噪音', description: '', location: grid.center });
    const eventId = String(ack.result.eventId);

    const host = await startHost({ name: 'desk', backend: { url: backend.url, token: TEST_TOKENS.dispatcher } });
    const page = await newPage({ viewport: { width: 1920, height: 1080 } });
    await open(page, `${host.url}#/dispatch`);
    await page.locator(`[data-event-id="${eventId}"]`).click();
    await page.getByTestId('open-review').click();
    await page.locator('[data-testid="review-report"][data-state="ready"]').waitFor({ timeout: 30_000 });
    await expect(page.getByTestId('review-step').evaluateAll((rows) => rows.map((r) => (r as HTMLElement).dataset.action))).resolves.toEqual(['report']);
    await page.getByTestId('review-back').click();
    await page.getByTestId('workspace-dispatch').waitFor({ timeout: 15_000 });

    // The loop, and a call about it (as a console logs it).
    await desk.command('event.accept', { eventId });
    await desk.command('event.dispatch', { eventId, staffId: worker.id });
    const startedAt = new Date(Date.now() - 70_000).toISOString();
    await desk.command('call.log', {
      id: 'call-review-e2e', direction: 'outgoing', peer: worker.sipUser || 'sip-worker', peerName: worker.name, video: true, startedAt, answeredAt: startedAt,
      endedAt: new Date(Date.now() - 5_000).toISOString(), durationS: 65, result: 'answered', cause: '', eventId, groupId: null, userId: 'sip-console',
    }, 'call-log-review-e2e');
    const next: Partial<Record<string, string>> = { dispatched: 'event.sign', handling: 'event.feedback', handled: 'event.followup', 'followed-up': 'event.close' };
    for (let i = 0; i < 20; i++) {
      const status = backend.state.get('events', eventId)?.status ?? '';
      if (status === 'closed') break;
      const type = next[status];
      if (type) await desk.command(type, { eventId, note: '已处置完毕', reached: true, satisfaction: 'satisfied', comment: '' }).catch(() => undefined);
      await new Promise((r) => setTimeout(r, 100));
    }
    const closed = backend.state.get('events', eventId) as GovEvent;
    expect(closed.status).toBe('closed');
    let kept = false;
    for (let i = 0; i < 50 && !kept; i++) {
      kept = (await backend.store.callsIn({ from: '2000-01-01T00:00:00Z', to: '2100-01-01T00:00:00Z', limit: 100 })).some((c) => c.id === 'call-review-e2e');
      if (!kept) await new Promise((r) => setTimeout(r, 100));
    }
    expect(kept).toBe(true);
    desk.close();

    await page.goto(`${host.url}#/review/${encodeURIComponent(eventId)}`);
    const report = page.locator('[data-testid="review-report"][data-state="ready"]');
    await report.waitFor({ timeout: 30_000 });
    // The timeline is read as the rows reach the window: wait until the close is in.
    await page.locator('[data-testid="review-step"][data-action="close"]').waitFor({ timeout: 30_000 }).catch(async () => {
      await page.reload();
      await page.locator('[data-testid="review-step"][data-action="close"]').waitFor({ timeout: 30_000 });
    });
    const actions = await page.getByTestId('review-step').evaluateAll((rows) => rows.map((r) => (r as HTMLElement).dataset.action));
    expect(actions.slice(0, 3)).toEqual(['report', 'accept', 'dispatch']);
    for (const a of ['sign', 'feedback', 'followup', 'close']) expect(actions).toContain(a);
    await expect(page.getByTestId('review-steps').textContent()).resolves.toContain('评价结案');
    const people = await page.getByTestId('review-person').allTextContents();
    expect(people.join('\n')).toMatch(/受理/);
    const calls = await page.getByTestId('review-call').allTextContents();
    expect(calls).toHaveLength(1);
    expect(calls[0]).toContain(worker.name);
    expect(calls[0]).toContain('1:05');
    expect(calls[0]).toContain('已挂断'); // answered, then hung up
    expect(await page.getByTestId('review-map-grid').count()).toBeGreaterThan(0);
    await page.getByTestId('review-map-event').waitFor();
    await page.screenshot({ path: join(SHOTS, 'review-1920.png') });
    const pdf = await page.pdf({ format: 'A4', printBackground: true });
    writeFileSync(join(SHOTS, 'review.pdf'), pdf);
    expect(pdf.subarray(0, 5).toString()).toBe('%PDF-');
    // As printed: the report alone (no header, alarm strip or status bar), every section.
    await page.emulateMedia({ media: 'print' });
    await expect(page.getByTestId('connection-status').isVisible()).resolves.toBe(false);
    await page.screenshot({ path: join(SHOTS, 'review-print.png'), fullPage: true });
    expect(statSync(join(SHOTS, 'review.pdf')).size).toBeGreaterThan(20_000);
  }, 240_000);
});
