/**
 * A database file that is empty, truncated, not SQLite or another program's, damaged, or of a newer schema is
 * refused with one clear line and exit code 3 — never taken as new — and the tokens consoles hold are never
 * regenerated over existing ones without --new-tokens. Each case runs the real backend command line.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { copyFileSync, readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runBackendToExit, startBackendProcess } from '../../harness/backend-process';
import { makeTempDir } from '../../harness/temp';

let good: { dir: string; cleanup: () => void };
let tokens: string;

beforeAll(async () => {
  // One real database (made by the backend itself) that the cases below damage in copies.
  good = makeTempDir('zongzhi-data-good-');
  const backend = await startBackendProcess(good.dir, ['--history-days', '0']);
  await backend.stop();
  // Everything in the main file (a stop that had to be forced may leave it in the write-ahead log).
  const db = new Database(join(good.dir, 'backend.sqlite'));
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.close();
  tokens = readFileSync(join(good.dir, 'tokens.json'), 'utf8');
}, 90_000);
afterAll(() => good?.cleanup());

/** A data dir with the good tokens.json and a database file made by `make`. */
function caseDir(make: (dbFile: string) => void): { dir: string; cleanup: () => void } {
  const temp = makeTempDir('zongzhi-data-case-');
  writeFileSync(join(temp.dir, 'tokens.json'), tokens, { mode: 0o600 });
  make(join(temp.dir, 'backend.sqlite'));
  return temp;
}

describe('a database that cannot be ours is refused, never taken as new', () => {
  it.each([
    ['empty (0 bytes)', 'database-empty', (f: string) => writeFileSync(f, '')],
    ['not SQLite at all', 'database-not-ours', (f: string) => writeFileSync(f, 'this is a text file, not a database\n'.repeat(50))],
    [
      'truncated to half',
      'database-corrupt',
      (f: string) => {
        copyFileSync(join(good.dir, 'backend.sqlite'), f);
        truncateSync(f, Math.max(4096, Math.floor(statSync(f).size / 2 / 4096) * 4096));
      },
    ],
    [
      "another program's SQLite",
      'database-not-ours',
      (f: string) => {
        const db = new Database(f);
        db.exec('CREATE TABLE photos (id INTEGER PRIMARY KEY, path TEXT)');
        db.close();
      },
    ],
    [
      'of a newer schema',
      'database-newer',
      (f: string) => {
        copyFileSync(join(good.dir, 'backend.sqlite'), f);
        const db = new Database(f);
        db.pragma('user_version = 99');
        db.close();
      },
    ],
  ])('%s: exit 3 with one line naming the problem; the files are left as they were', (_what, code, make) => {
    const temp = caseDir(make);
    const dbFile = join(temp.dir, 'backend.sqlite');
    const before = readFileSync(dbFile);
    const result = runBackendToExit(temp.dir);
    expect(result.status).toBe(3);
    const lines = result.stderr.split('\n').filter((l) => l.startsWith('backend refused to start'));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(`[${code}]`);
    expect(lines[0]).toContain(dbFile);
    expect(result.stderr).not.toMatch(/\n\s+at /); // a reason, not a stack
    expect(readFileSync(dbFile).equals(before)).toBe(true);
    expect(readFileSync(join(temp.dir, 'tokens.json'), 'utf8')).toBe(tokens);
    temp.cleanup();
  }, 30_000);
});

describe('tokens consoles hold are kept', () => {
  it('a new database beside an existing tokens.json takes its tokens instead of writing new ones', async () => {
    const temp = caseDir(() => {});
    const backend = await startBackendProcess(temp.dir, ['--history-days', '0']);
    try {
      expect(backend.tokens).toEqual(JSON.parse(tokens));
      expect(readFileSync(join(temp.dir, 'tokens.json'), 'utf8')).toBe(tokens);
    } finally {
      await backend.stop();
      temp.cleanup();
    }
  }, 60_000);

  it('an unreadable tokens.json is refused with the way out; --new-tokens makes new ones', async () => {
    const temp = caseDir(() => {});
    writeFileSync(join(temp.dir, 'tokens.json'), '{"dispatcher": ');
    const refused = runBackendToExit(temp.dir);
    expect(refused.status).toBe(3);
    expect(refused.stderr).toMatch(/\[tokens-unreadable\].*--new-tokens/);
    const backend = await startBackendProcess(temp.dir, ['--history-days', '0', '--new-tokens']);
    try {
      expect(Object.keys(backend.tokens)).toContain('dispatcher');
      expect(backend.tokens).not.toEqual(JSON.parse(tokens));
    } finally {
      await backend.stop();
      temp.cleanup();
    }
  }, 60_000);
});
