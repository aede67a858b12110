/**
 * spawnOwned behaves like node's spawn for its callers (the program's own pid, ENOENT for a missing program)
 * and falls back to a plain spawn, warning once, where parent-death signals are not available. That children
 * really end with their parent is proven on the real console in tests/integration/child-processes.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import type { ChildProcess } from 'node:child_process';
import { configureOwnedSpawn, parentDeathSupport, resolveProgram, spawnOwned, SETPRIV_CANDIDATES } from '../../node-util/child-process';

const exited = (child: ChildProcess): Promise<unknown> => new Promise((resolve) => child.once('exit', resolve));

describe('spawnOwned', () => {
  it('finds programs as execvp would', () => {
    expect(resolveProgram('sh')).toMatch(/\/sh$/);
    expect(resolveProgram('/bin/sh')).toBe('/bin/sh');
    expect(resolveProgram('no-such-program-zz')).toBeNull();
    expect(resolveProgram('sh', { PATH: '' })).toBeNull();
  });

  it('a missing program fails with ENOENT, as with spawn', async () => {
    const child = spawnOwned('/nonexistent/program', []);
    const error = await new Promise<NodeJS.ErrnoException>((resolve) => child.once('error', resolve));
    expect(error.code).toBe('ENOENT');
  });

  it.skipIf(process.platform !== 'linux' || parentDeathSupport() === null)('the child is the program itself (setpriv execs it): its pid, its arguments', async () => {
    const child = spawnOwned('sleep', ['30'], { stdio: 'ignore', parentDeathSignal: 'SIGTERM' });
    await new Promise((resolve) => child.once('spawn', resolve));
    // setpriv has exec'd sleep by the time it reads its own arguments; wait for that exec.
    const cmdline = (): string => readFileSync(`/proc/${child.pid}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ');
    const deadline = Date.now() + 5000;
    while (!/sleep 30$/.test(cmdline()) || cmdline().includes('setpriv')) {
      if (Date.now() > deadline) throw new Error(`still ${cmdline()}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(cmdline()).toMatch(/^\/\S*sleep 30$/);
    const gone = exited(child);
    child.kill('SIGTERM');
    await gone;
    expect(child.signalCode).toBe('SIGTERM');
  });

  it('without setpriv: a plain spawn, and one warning however many children', async () => {
    const warnings: string[] = [];
    const quiet = () => {};
    configureOwnedSpawn({ setprivCandidates: ['/nonexistent/setpriv'], log: { debug: quiet, info: quiet, error: quiet, warn: (m) => warnings.push(m) } });
    try {
      for (let i = 0; i < 2; i++) {
        const child = spawnOwned('sh', ['-c', 'exit 7'], { stdio: 'ignore' });
        await exited(child);
        expect(child.exitCode).toBe(7);
      }
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toMatch(/not tied to this process/);
    } finally {
      configureOwnedSpawn({ setprivCandidates: SETPRIV_CANDIDATES });
    }
  });
});
