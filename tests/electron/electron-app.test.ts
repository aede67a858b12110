/**
 * Tests that need the real Electron binary (Playwright's _electron). Where the binary is not installed (this
 * build machine and CI: it cannot be downloaded here) the whole file reports one loud skip line; on a machine
 * with internet `npm install` fetches Electron and these run.
 */
import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { _electron } from 'playwright-core';
import { PROJECT_ROOT } from '../../harness/browser';
import { findElectronBinary } from '../../scripts/lib/electron-binary.mjs';

const binary = findElectronBinary(PROJECT_ROOT);
if (!binary) console.warn('\n  skipped: Electron binary not installed (tests/electron need it; npm install on a machine with internet fetches it)\n');

describe.skipIf(!binary)('Electron app (real binary)', () => {
  it('opens one secure window showing the console shell over IPC', async () => {
    const app = await _electron.launch({
      executablePath: binary!,
      args: [join(PROJECT_ROOT, 'out/main/index.js'), `--user-data-dir=${mkdtempSync(join(tmpdir(), 'zongzhi-electron-'))}`],
      env: { ...process.env, ELECTRON_ENABLE_LOGGING: '1' },
    });
    try {
      const page = await app.firstWindow();
      await page.getByTestId('workspace-map').waitFor({ timeout: 30_000 });
      await expect(page.getByTestId('bridge').textContent()).resolves.toBe('本地中枢 · 桌面');
      // Sandbox + context isolation + no Node integration, seen from the page: no Node, no raw IPC.
      expect(await page.evaluate(() => typeof (globalThis as { require?: unknown }).require)).toBe('undefined');
      expect(await page.evaluate(() => typeof (globalThis as { process?: unknown }).process)).toBe('undefined');
      expect(await page.evaluate(() => typeof (globalThis as { ipcRenderer?: unknown }).ipcRenderer)).toBe('undefined');
      expect(await app.evaluate(({ BrowserWindow }) => BrowserWindow.getAllWindows().length)).toBe(1);
      expect(await page.evaluate(() => Object.keys((globalThis as unknown as { zongzhiHub: object }).zongzhiHub).sort())).toContain('hello');
    } finally {
      await app.close();
    }
  });

  it('remembers what each window shows and restores it at the next start (clamped to the displays connected)', async () => {
    const userData = mkdtempSync(join(tmpdir(), 'zongzhi-electron-'));
    const launch = () => _electron.launch({ executablePath: binary!, args: [join(PROJECT_ROOT, 'out/main/index.js'), `--user-data-dir=${userData}`] });
    let app = await launch();
    const page = await app.firstWindow();
    await page.getByTestId('workspace-map').waitFor({ timeout: 30_000 });
    await page.keyboard.press('Alt+2');
    await page.getByTestId('workspace-kpi').waitFor();
    await app.close();
    const saved = JSON.parse(readFileSync(join(userData, 'wall-layout.json'), 'utf8')) as { windows: Array<{ role: string; bounds: { x: number } }> };
    expect(saved.windows.map((w) => w.role)).toEqual(['kpi']);
    // Saved far off-screen: the window comes back inside the display, on the KPI wall.
    saved.windows[0]!.bounds.x = -20_000;
    writeFileSync(join(userData, 'wall-layout.json'), JSON.stringify(saved));
    app = await launch();
    try {
      const again = await app.firstWindow();
      await again.getByTestId('workspace-kpi').waitFor({ timeout: 30_000 });
      const x = await app.evaluate(({ BrowserWindow }) => BrowserWindow.getAllWindows()[0]!.getBounds().x);
      expect(x).toBeGreaterThanOrEqual(0);
    } finally {
      await app.close();
    }
  });
});
