/**
 * Call setup bench (issue 9): two field client pages in Debian's Chromium (fake camera and microphone),
 * through the project's real Kamailio. One page calls the other 50 times (video); the other answers at once
 * (the simulated staff mode with no ring time). Printed: INVITE → established (the 200 OK, as the caller's
 * SIP state) and INVITE → first media received (inbound-rtp bytes > 0 from getStats), p50/p95/p99/max.
 * Run: npm run bench -- calls   (BENCH_CALLS, default 50)
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { launchChromium } from '../harness/browser';
import { startTestBackend } from '../harness/backend';
import { startKamailio } from '../backend/sip/kamailio';
import { ensureSimulatedStaffAccount, SIMULATED_STAFF_USER } from '../backend/sip/field';
import { addFieldAccount } from '../backend/users-field';
import { percentile } from '../harness/procs';

const calls = Number(process.env.BENCH_CALLS ?? 50);
const root = join(import.meta.dirname, '..');
execFileSync(process.execPath, [join(root, 'node_modules/electron-vite/bin/electron-vite.js'), 'build'], { cwd: root, stdio: 'ignore' });
const dir = mkdtempSync(join(tmpdir(), 'zongzhi-calls-bench-'));
const secret = 'calls-bench-secret-0123';
const kamailio = await startKamailio({ secret });
const backend = await startTestBackend({ historyDays: 0, sip: { url: kamailio.url, secret } }, dir);
const browser = await launchChromium({ args: ['--allow-loopback-in-peer-connection', '--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream'] });
const base = `http://127.0.0.1:${backend.port}/field/`;
const staff = [...backend.state.collections.staff.values()][0]!;

const password = 'bench-field-password';
await addFieldAccount(backend.store, staff, password, 'bench');
const open = async (url: string, signIn?: { user: string; password: string }): Promise<import('playwright-core').Page> => {
  const page = await (await browser.newContext()).newPage();
  await page.goto(url);
  if (signIn) {
    await page.locator('input[name="user"]').fill(signIn.user);
    await page.locator('input[name="password"]').fill(signIn.password);
    await page.locator('button[type="submit"]').click();
  }
  await page.locator('main[data-status="registered"]').waitFor({ timeout: 20_000 });
  return page;
};
await open(`${base}?simulate=1&answerMs=0#${SIMULATED_STAFF_USER}:${encodeURIComponent(await ensureSimulatedStaffAccount(backend.store))}`);
const caller = await open(base, { user: staff.id, password });

// No inner named functions in the page function: tsx would wrap them in a helper the page does not have.
const results = await caller.evaluate(async ({ count, callee }) => {
  type Phone = {
    call(user: string, o: { video: boolean }): { id: string; state: string };
    hangup(id: string): void;
    receivedBytes(id: string): Promise<{ audio: number; video: number }>;
  };
  const phone = (window as unknown as { fieldClient: { phone(): Phone } }).fieldClient.phone();
  const out: Array<{ established: number; media: number; failed?: string }> = [];
  for (let i = 0; i < count; i++) {
    const t0 = performance.now();
    const call = phone.call(callee, { video: true });
    let established = 0;
    let media = 0;
    while (performance.now() - t0 < 10_000) {
      if (!established && call.state === 'established') established = performance.now() - t0;
      if (call.state === 'ended') break;
      if (established) {
        const bytes = await phone.receivedBytes(call.id);
        if (bytes.audio > 0 && bytes.video > 0) {
          media = performance.now() - t0;
          break;
        }
      }
      await new Promise((r) => setTimeout(r, 2));
    }
    out.push(established && media ? { established, media } : { established, media, failed: call.state });
    phone.hangup(call.id);
    await new Promise((r) => setTimeout(r, 300));
  }
  return out;
}, { count: calls, callee: SIMULATED_STAFF_USER });

const ok = results.filter((r) => !r.failed);
const summary = (unsorted: number[]): string => {
  const values = [...unsorted].sort((a, b) => a - b);
  return `p50 ${percentile(values, 50).toFixed(0)} ms, p95 ${percentile(values, 95).toFixed(0)} ms, p99 ${percentile(values, 99).toFixed(0)} ms, max ${Math.max(...values).toFixed(0)} ms`;
};
console.log(`calls: ${results.length} video calls, ${ok.length} established with media, ${results.length - ok.length} failed`);
if (ok.length > 0) {
  console.log(`INVITE → established (200 OK):      ${summary(ok.map((r) => r.established))}`);
  console.log(`INVITE → first audio+video received: ${summary(ok.map((r) => r.media))}`);
}
await browser.close();
await backend.close();
await kamailio.stop();
rmSync(dir, { recursive: true, force: true });
