/**
 * An embedded backend that refuses to start because of its data (a zero-length database file): the real host
 * and backend, the console in Chromium at 1920x1080. The backend is tried once (exit 3: a person must act),
 * the status bar says why in Chinese with the file, the technical detail is one click away, and after the
 * file is dealt with 重试 brings the console online.
 */
import { expect } from 'vitest';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SHOTS } from '../../harness/e2e';
import { it } from '../../harness/fixtures';
import { DEFAULT_BACKOFF } from '../../hub/backend-supervisor';

it('a refused embedded backend is shown in Chinese with its reason, not retried, and started again by 重试', async ({ dataDir: temp, newPage, startHost }) => {
  const dataDir = join(temp, 'data');
  const dbFile = join(dataDir, 'backend', 'backend.sqlite');
  mkdirSync(join(dataDir, 'backend'), { recursive: true });
  writeFileSync(dbFile, '');
  const host = await startHost();
  const page = await newPage({ viewport: { width: 1920, height: 1080 }, locale: 'zh-CN' });
  const problems: string[] = [];
  page.on('pageerror', (e) => problems.push(e.message));
  page.on('console', (m) => void (m.type() === 'error' && problems.push(m.text())));
  await page.goto(host.url);

  await page.locator('[data-testid="embedded-backend"][data-state="failed"]').waitFor({ timeout: 30_000 });
  expect(await page.getByTestId('embedded-reason').textContent()).toBe(`内置后台无法启动：数据库文件为空（${dbFile}）`);
  expect(await page.getByTestId('restart-backend').textContent()).toContain('重试');
  expect(await page.getByTestId('connection-status').getAttribute('data-status')).toBe('offline');

  // Tried once, refused with code 3, and not again once the first pause would have passed.
  const failures = (): string[] => host.stderr.filter((line) => line.includes('"embedded backend failed'));
  expect(failures()).toHaveLength(1);
  expect(JSON.parse(failures()[0]!)).toMatchObject({ message: 'embedded backend failed; not retrying until asked', code: 'database-empty', needsPerson: true });
  await page.waitForTimeout(DEFAULT_BACKOFF.firstDelayMs + 1000);
  expect(failures()).toHaveLength(1);

  // The technical detail, one click away.
  await page.getByTestId('embedded-detail-toggle').click();
  expect(await page.getByTestId('embedded-detail').textContent()).toBe(`database-empty: the database file ${dbFile} is empty (0 bytes); restore it from a backup, or delete it to start a new city`);
  // The call bar does not send anyone to fix a SIP server: the backend is what is missing.
  expect(await page.getByTestId('phone-status').textContent()).toContain('通话待后台连接后可用');
  await page.screenshot({ path: join(SHOTS, 'embedded-backend-refused-zh-1920x1080.png') });

  // A person moves the broken file away and presses 重试: a fresh city, and the console is online.
  rmSync(dbFile);
  await page.getByTestId('restart-backend').click();
  await page.locator('[data-testid="connection-status"][data-status="online"]').waitFor({ timeout: 90_000 });
  expect(await page.getByTestId('embedded-backend').count()).toBe(0);
  expect(failures()).toHaveLength(1);
  expect(problems).toEqual([]);
}, 180_000);
