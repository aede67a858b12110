/** Builds the app once before the e2e files run, so they test what users run (out/), not the sources. */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { CHROMIUM_PATH, PROJECT_ROOT } from '../../harness/browser';

export default function setup(): void {
  if (!existsSync(CHROMIUM_PATH)) throw new Error(`e2e needs Chromium at ${CHROMIUM_PATH} (Debian: apt-get install chromium)`);
  // A run started by another e2e file (inside a network namespace) uses the build that file's run made.
  if (process.env.ZONGZHI_E2E_PREBUILT === '1' && existsSync(join(PROJECT_ROOT, 'out/main/host.js'))) return;
  execFileSync(process.execPath, [join(PROJECT_ROOT, 'node_modules/electron-vite/bin/electron-vite.js'), 'build'], {
    cwd: PROJECT_ROOT,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}
