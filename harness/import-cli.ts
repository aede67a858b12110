/**
 * `npm run backend -- import …` as the tests run it: the real command line in a child process (its report on
 * stdout, its exit code), against a database given with --db, never one from the environment.
 */
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll } from 'vitest';
import { openStore } from '../backend/store/open';
import { startPostgres, type RunningPostgres } from './postgres';

const root = resolve(import.meta.dirname, '..');

export interface ImportRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `backend import <args…>` to its end. */
export function backendImport(args: string[]): Promise<ImportRun> {
  return new Promise((done) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'backend/cli.ts'), 'import', ...args], { cwd: root, env: { ...process.env, ZONGZHI_DATABASE_URL: '' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d));
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    child.on('close', (code) => done({ code: code ?? -1, stdout, stderr }));
  });
}

/** The seq a database is at (an import that is refused must leave it where it was). */
export async function seqOf(db: string): Promise<number> {
  const store = await openStore(db);
  try {
    return (await store.load()).seq;
  } finally {
    await store.close();
  }
}

/**
 * Defines `suite` once per store: on a SQLite file in `dir`, and on a real PostgreSQL started for it (stopped,
 * and `dir` removed, after the file's tests).
 */
export function forEachStore(dir: string, suite: (kind: 'sqlite' | 'postgresql', database: () => Promise<string>) => void): void {
  suite('sqlite', async () => join(dir, 'backend.sqlite'));
  let postgres: RunningPostgres | null = null;
  afterAll(async () => {
    await postgres?.stop();
    rmSync(dir, { recursive: true, force: true });
  }, 30_000);
  suite('postgresql', async () => {
    postgres = await startPostgres();
    return postgres.url;
  });
}
