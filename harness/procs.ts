/** Helpers for benches and tests: child processes that print one JSON line when ready, CPU from /proc, percentiles. */
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { stopChild } from '../node-util/child-process';

export function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/**
 * CPU seconds of a process and all its descendants (a PostgreSQL server is a postmaster and a process per
 * connection, with workers that come and go): each one's own time plus that of the children it reaped, so a
 * descendant that exits meanwhile still counts once its parent has reaped it.
 */
export function cpuSecondsTree(root: number): number {
  const stats = new Map<number, string[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      stats.set(Number(entry), readFileSync(`/proc/${entry}/stat`, 'utf8').split(') ')[1]!.split(' '));
    } catch {
      // gone meanwhile
    }
  }
  const inTree = (pid: number): boolean => {
    for (let p = pid; p > 1; p = Number(stats.get(p)?.[1])) if (p === root) return true;
    return false;
  };
  let ticks = 0;
  for (const [pid, fields] of stats) if (inTree(pid)) ticks += Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14]);
  return ticks / 100;
}

export function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

/** A child process that printed its ready line (parsed as JSON). */
export interface JsonChild<T> {
  child: ChildProcess;
  ready: T;
  stop(): Promise<void>;
}

/**
 * Starts a child that prints one JSON line when ready. A backend started this way records no camera (its pinned
 * encoders would be extra ffmpeg processes a test does not expect) unless `env` says ZONGZHI_RECORDING=on.
 */
export async function startJsonChild<T>(command: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<JsonChild<T>> {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ZONGZHI_RECORDING: 'off', ...env } });
  const errors: string[] = [];
  createInterface({ input: child.stderr! }).on('line', (l) => errors.length < 50 && errors.push(l));
  const ready = await new Promise<T>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`${args.join(' ')} exited ${code}: ${errors.slice(-5).join(' | ')}`)));
    createInterface({ input: child.stdout! }).once('line', (line) => resolve(JSON.parse(line) as T));
  });
  return {
    child,
    ready,
    stop: () => stopChild(child),
  };
}
