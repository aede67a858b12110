/** The programs' command lines: bad input gives a clear message and exit code 2, --help the usage. */
import { describe, expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { it } from '../../harness/fixtures';

const root = join(import.meta.dirname, '../..');
const run = (script: string, args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', join(root, script), ...args], { cwd: root, encoding: 'utf8', timeout: 30_000 });

describe('command lines', () => {
  it.each([
    ['backend/cli.ts', ['--speed', 'fast'], /--speed: invalid value "fast"/],
    ['backend/cli.ts', ['--scale', '99'], /--scale: invalid value "99"/],
    ['backend/cli.ts', ['--scenario', 'earthquake'], /--scenario must be flood, crowd, fire or traffic/],
    ['backend/cli.ts', ['--start-at', '25:00'], /--start-at must be a time of day HH:MM/],
    ['backend/cli.ts', ['--bogus'], /Unknown option '--bogus'/],
    ['backend/cli.ts', ['--record-severity', '9'], /--record-severity: invalid value "9"/],
    ['backend/cli.ts', ['--record-cameras', 'c1,../x'], /--record-cameras must be camera ids separated by commas/],
    ['backend/cli.ts', ['--recording-quota-gib', '0'], /--recording-quota-gib: invalid value "0"/],
    ['host/cli.ts', ['--port', '70000'], /--port must be 0-65535/],
    ['host/cli.ts', ['--role', 'kitchen'], /--role must be one of combined, map, kpi, video, dispatch/],
    ['host/cli.ts', ['--wall', '../left'], /--wall must be 1-64 letters, digits, - or _, got "..\/left"/],
  ])('%s %j is refused clearly', (script, args, message) => {
    const result = run(script, args);
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(message);
    expect(result.stderr).toContain('usage:');
  });

  it('--help prints the usage and exits 0', () => {
    const result = run('backend/cli.ts', ['--help']);
    expect(result.status).toBe(0);
    expect(result.stdout).toContain('--speed X');
  });
});

describe('the embedded backend supervisor', () => {
  it('stops cleanly even when the backend it supervises was killed by a signal (no hang on quit)', async ({ dataDir }) => {
    const { superviseEmbeddedBackend } = await import('../../hub/backend-supervisor');
    const { startEmbeddedBackend } = await import('../../hub/embedded-backend');
    const { silentLogger } = await import('../../node-util/logger');
    const { execFileSync } = await import('node:child_process');
    execFileSync(process.execPath, [join(root, 'node_modules/electron-vite/bin/electron-vite.js'), 'build'], { cwd: root, stdio: 'ignore' });
    let ready: { process: { pid?: number } } | null = null;
    const supervisor = superviseEmbeddedBackend({
      start: () => startEmbeddedBackend({ script: join(root, 'out/main/backend.js'), dataDir, log: silentLogger }),
      log: silentLogger,
      onReady: (b) => (ready = b),
      onState: () => {},
      policy: { firstDelayMs: 60_000 },
    });
    const started = Date.now();
    while (!ready && Date.now() - started < 30_000) await new Promise((r) => setTimeout(r, 50));
    expect(ready).not.toBeNull();
    process.kill(ready!.process.pid!, 'SIGKILL');
    await new Promise((r) => setTimeout(r, 300));
    const t0 = Date.now();
    await supervisor.stop();
    expect(Date.now() - t0).toBeLessThan(2000);
  }, 60_000);
});
