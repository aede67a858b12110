/**
 * `npm run backend -- import …` as the tests run it: the real command line in a child process (its report on
 * stdout, its exit code), against a database given with --db, never one from the environment.
 */
import { spawn } from 'node:child_process';
import { join, resolve } from 'node:path';
import { openStore } from '../backend/store/open';

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
