/**
 * Child processes that end with their parent, however the parent ends (a signal, a crash, SIGKILL, a closed
 * window). Every program the console starts — the embedded backend, Kamailio, Janus, ffmpeg, Chromium — is
 * started through `spawnOwned`, so no stop path can forget one: a console stopped with SIGKILL used to leave
 * the demo's simulated field staff (a headless Chromium) running as an orphan.
 *
 * On Linux the child runs under util-linux `setpriv --pdeathsig SIG --`, which sets PR_SET_PDEATHSIG and then
 * execs the program: the kernel sends SIG to the child when the thread that spawned it exits. Node spawns from
 * its main thread (libuv forks there, Electron's main process too), so that is when the parent process exits.
 * The setting survives the exec (not for set-user-ID programs, which we never start) but not a fork: a
 * program's own children are its business, which is why the signal is a choice (see ParentDeathSignal).
 * Without setpriv (Windows, macOS, a Linux without util-linux) it is a plain spawn with one warning; the
 * embedded backend also watches its IPC channel (backend/cli.ts), which covers every platform.
 */
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, isAbsolute, join, resolve } from 'node:path';
import { createLogger, type Logger } from './logger';

/**
 * What the child gets when its parent dies. SIGKILL is certain and right for a program with nothing to save and
 * no children (ffmpeg, the throwaway headless Chromium). SIGTERM lets a program take its own children down and
 * save its state: Kamailio kills its worker processes only on SIGTERM (after SIGKILL they stay as orphans),
 * the console window's Chromium saves its profile, the embedded backend stops what it started.
 */
export type ParentDeathSignal = 'SIGKILL' | 'SIGTERM';

/** node's SpawnOptions, less the two that would defeat ownership: a shell between us and the program, or a detached child. */
export type OwnedSpawnOptions = Omit<SpawnOptions, 'shell' | 'detached'> & {
  /** Default SIGKILL. */
  parentDeathSignal?: ParentDeathSignal;
};

export const SETPRIV_CANDIDATES = ['/usr/bin/setpriv', '/bin/setpriv'];

let setprivPath: string | null | undefined;
let warned = false;
let log: Logger = createLogger('child-process');

/** For tests: where the warning goes, and forgetting the cached setpriv look-up. */
export function configureOwnedSpawn(options: { log?: Logger; setprivCandidates?: string[] }): void {
  if (options.log) log = options.log;
  if (options.setprivCandidates) setprivPath = findExecutable(options.setprivCandidates);
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function findExecutable(candidates: string[]): string | null {
  return candidates.find(isExecutable) ?? null;
}

/** The program's path as execvp would find it (null: not there, so node should report ENOENT itself). */
export function resolveProgram(command: string, env: NodeJS.ProcessEnv = process.env, cwd: string = process.cwd()): string | null {
  if (command.includes('/')) {
    const full = isAbsolute(command) ? command : resolve(cwd, command);
    return isExecutable(full) ? full : null;
  }
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (!dir || !isAbsolute(dir)) continue;
    const full = join(dir, command);
    if (isExecutable(full)) return full;
  }
  return null;
}

/** setpriv's path where parent-death signals work (Linux with util-linux), else null. Looked up once. */
export function parentDeathSupport(): string | null {
  if (setprivPath === undefined) setprivPath = process.platform === 'linux' ? findExecutable(SETPRIV_CANDIDATES) : null;
  return setprivPath;
}

/**
 * `spawn(command, args, options)` whose child ends with this process. Same return value and events as
 * node's spawn: the child's pid is the program's own (setpriv execs it), kill() reaches it directly.
 */
export function spawnOwned(command: string, args: readonly string[], options: OwnedSpawnOptions = {}): ChildProcess {
  const { parentDeathSignal = 'SIGKILL', ...spawnOptions } = options;
  const setpriv = parentDeathSupport();
  if (!setpriv) {
    if (!warned) {
      warned = true;
      log.warn('child processes are not tied to this process (no util-linux setpriv, or not Linux): they may outlive it if it is killed', {
        platform: process.platform,
      });
    }
    return spawn(command, args, spawnOptions);
  }
  // A program that is not there fails the way callers expect from spawn (an 'error' event with ENOENT), not
  // as setpriv's exit code 127.
  const program = resolveProgram(command, spawnOptions.env ?? process.env, typeof spawnOptions.cwd === 'string' ? spawnOptions.cwd : undefined);
  if (!program) return spawn(command, args, spawnOptions);
  return spawn(setpriv, ['--pdeathsig', parentDeathSignal, '--', program, ...args], spawnOptions);
}

/** Ends a child: SIGTERM, SIGKILL after `graceMs` if it has not exited by then; resolves once it has exited. */
export function stopChild(child: ChildProcess, graceMs = 5000): Promise<void> {
  return new Promise((resolve) => {
    // A process ended by a signal has signalCode set and exitCode null: both mean it is gone.
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
    setTimeout(() => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }, graceMs).unref();
  });
}
