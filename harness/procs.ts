/** Helpers for benches and tests: child processes that print one JSON line when ready, CPU from /proc, percentiles. */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { stopChild } from '../node-util/child-process';

export function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
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

export async function startJsonChild<T>(command: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<JsonChild<T>> {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], env });
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
