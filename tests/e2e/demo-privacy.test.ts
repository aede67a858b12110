/**
 * 迎检演示: on a demo screen no digit string of any phone number appears anywhere, and names keep only the
 * surname. Every staff and reporter phone is taken from the backend itself and searched for in every
 * workspace; a normal window shows them (so the check can fail).
 */
import { describe, expect } from 'vitest';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import type { Page } from 'playwright-core';
import type { GovEvent, Staff } from '../../protocol';
import { it } from '../../harness/fixtures';
import { waitFor } from '../../harness/temp';
import { WireClient } from '../../harness/wire-client';

describe('demo / inspection screens', () => {
  it('show no phone number and no full name on any screen', async ({ dataDir, newPage, startHost }) => {
    const data = join(dataDir, 'data');
    const host = await startHost({ args: ['--demo'] });
    expect(host.url).toContain('demo=1&playlist=30');
    await waitFor(() => host.stderr.some((l) => l.includes('embedded backend ready')), 'the embedded backend', 30_000);
    const backendUrl = /"url":"(ws:\/\/127\.0\.0\.1:\d+\/ws)"/.exec(host.stderr.join('\n'))![1]!;
    const tokens = JSON.parse(readFileSync(join(data, 'backend', 'tokens.json'), 'utf8')) as Record<string, string>;
    const truth = new WireClient({ url: backendUrl, token: tokens.dispatcher! });
    await truth.waitSynced();
    const phones = new Set<string>();
    for (const s of truth.all<Staff>('staff')) if (s.phone) phones.add(s.phone);
    // Reports with a reporter's phone (a grid staff member's report through the field app names them with none).
    const withReporter = truth.all<GovEvent>('events').filter((e) => e.reporter?.phone && e.status !== 'closed' && e.status !== 'merged');
    // A grid staff member's report through the field app names them with no phone (''): nothing to look for.
    for (const e of truth.all<GovEvent>('events')) if (e.reporter?.phone) phones.add(e.reporter.phone);
    expect(phones.size).toBeGreaterThan(1000);
    expect(withReporter.length).toBeGreaterThan(0);
    const fullNames = new Set(withReporter.map((e) => e.reporter!.name));
    truth.close();

    const leaks = async (page: Page, where: string): Promise<string[]> => {
      const text = await page.evaluate(() => document.body.innerText + [...document.querySelectorAll('[title]')].map((e) => e.getAttribute('title')).join(' '));
      const found = [...text.matchAll(/\d{7,}/g)].map((m) => m[0]).filter((run) => [...phones].some((p) => p.includes(run) || run.includes(p)));
      return found.map((f) => `${where}: ${f}`);
    };

    const page = await newPage();
    await page.goto(host.url);
    await page.locator('[data-testid="connection-status"][data-status="online"]').waitFor({ timeout: 30_000 });
    const found: string[] = [];
    for (const hash of ['#/map', '#/kpi', '#/video']) {
      await page.goto(`${host.origin}/?role=combined&demo=1${hash}`);
      await page.waitForTimeout(1500);
      found.push(...(await leaks(page, hash)));
    }
    await page.goto(`${host.origin}/?role=combined&demo=1#/dispatch`);
    for (const event of withReporter.slice(0, 8)) {
      await page.getByTestId('dispatch-search').fill(event.id);
      await page.locator(`[data-event-id="${event.id}"]`).click();
      await page.getByTestId('event-detail').getByText(event.title).first().waitFor();
      found.push(...(await leaks(page, event.id)));
      const detail = (await page.getByTestId('event-detail').textContent())!;
      expect(detail).toContain('（已隐藏）');
      expect(detail).not.toContain(event.reporter!.name.length > 1 ? event.reporter!.name : '\u0000');
    }
    expect(found).toEqual([]);
    expect([...fullNames].some((n) => n.length > 1)).toBe(true);
    await page.context().close();

    // The same event on a normal window shows the phone: the check above is not blind.
    const normal = await newPage();
    const plainUrl = host.url.replace('&demo=1', '').replace('&playlist=30', '');
    await normal.goto(`${plainUrl}#/dispatch`);
    await normal.locator('[data-testid="connection-status"][data-status="online"]').waitFor({ timeout: 30_000 });
    const sample = withReporter[0]!;
    await normal.getByTestId('dispatch-search').fill(sample.id);
    await normal.locator(`[data-event-id="${sample.id}"]`).click();
    await normal.getByTestId('event-detail').getByText(sample.reporter!.phone).waitFor();
  }, 180_000);
});
