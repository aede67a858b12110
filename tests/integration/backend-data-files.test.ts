/**
 * A database file that is empty, truncated, not SQLite or another program's, damaged, or of a newer schema is
 * refused with one clear line and exit code 3 — never taken as new — and the tokens consoles hold are never
 * regenerated over existing ones without --new-tokens. Each case runs the real backend command line.
 */
import { describe, expect, onTestFinished } from 'vitest';
import Database from 'better-sqlite3';
import { copyFileSync, mkdirSync, readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runBackendToExit, startBackendProcess } from '../../harness/backend-process';
import { it } from '../../harness/fixtures';

let good: { dir: string };
let tokens: string;

// The file's temp dir (the `fileDir` fixture, removed after the file) holds the good database and the dirs of the
// cases that run a backend process (stopped by onTestFinished, which vitest runs after a test's own fixtures).
it.beforeAll(async ({ fileDir }) => {
  // One real database (made by the backend itself) that the cases below damage in copies.
  good = { dir: join(fileDir, 'good') };
  const backend = await startBackendProcess(good.dir, ['--history-days', '0']);
  await backend.stop();
  // Everything in the main file (a stop that had to be forced may leave it in the write-ahead log).
  const db = new Database(join(good.dir, 'backend.sqlite'));
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.close();
  tokens = readFileSync(join(good.dir, 'tokens.json'), 'utf8');
}, 90_000);

/** `dir` made a data dir with the good tokens.json and a database file made by `make`. */
function caseDir(dir: string, make: (dbFile: string) => void): { dir: string } {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'tokens.json'), tokens, { mode: 0o600 });
  make(join(dir, 'backend.sqlite'));
  return { dir };
}

describe('a database that cannot be ours is refused, never taken as new', () => {
  it.for<[string, string, (dbFile: string) => void]>([
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
  ])('%s: exit 3 with one line naming the problem; the files are left as they were', { timeout: 30_000 }, ([, code, make], { dataDir }) => {
    const temp = caseDir(dataDir, make);
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
  });
});

describe('tokens consoles hold are kept', () => {
  it('a new database beside an existing tokens.json takes its tokens instead of writing new ones', async ({ fileDir }) => {
    const temp = caseDir(join(fileDir, 'tokens-kept'), () => {});
    const backend = await startBackendProcess(temp.dir, ['--history-days', '0']);
    onTestFinished(() => backend.stop());
    expect(backend.tokens).toEqual(JSON.parse(tokens));
    expect(readFileSync(join(temp.dir, 'tokens.json'), 'utf8')).toBe(tokens);
  }, 60_000);

  it('a tokens.json and database from before the administrator: the administrator is added to both, no other token changes', async ({ fileDir }) => {
    const temp = caseDir(join(fileDir, 'tokens-before-admin'), (f) => copyFileSync(join(good.dir, 'backend.sqlite'), f));
    const before = JSON.parse(tokens) as Record<string, string>;
    delete before.admin;
    writeFileSync(join(temp.dir, 'tokens.json'), JSON.stringify(before, null, 2) + '\n', { mode: 0o600 });
    const db = new Database(join(temp.dir, 'backend.sqlite'));
    db.prepare("DELETE FROM users WHERE id = 'admin'").run();
    db.close();
    const backend = await startBackendProcess(temp.dir, ['--history-days', '0']);
    onTestFinished(() => backend.stop());
    const after = JSON.parse(readFileSync(join(temp.dir, 'tokens.json'), 'utf8')) as Record<string, string>;
    expect(after).toEqual({ ...before, admin: expect.stringMatching(/^\S{16,}$/) as unknown as string });
    expect(backend.tokens).toEqual(after);
    expect(statSync(join(temp.dir, 'tokens.json')).mode & 0o777).toBe(0o600);
  }, 60_000);

  it('an unreadable tokens.json is refused with the way out; --new-tokens makes new ones', async ({ fileDir }) => {
    const temp = caseDir(join(fileDir, 'tokens-unreadable'), () => {});
    writeFileSync(join(temp.dir, 'tokens.json'), '{"dispatcher": ');
    const refused = runBackendToExit(temp.dir);
    expect(refused.status).toBe(3);
    expect(refused.stderr).toMatch(/\[tokens-unreadable\].*--new-tokens/);
    const backend = await startBackendProcess(temp.dir, ['--history-days', '0', '--new-tokens']);
    onTestFinished(() => backend.stop());
    expect(Object.keys(backend.tokens)).toContain('dispatcher');
    expect(backend.tokens).not.toEqual(JSON.parse(tokens));
  }, 60_000);
});
