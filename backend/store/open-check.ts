/**
 * Before the backend opens its database: a file that is empty, truncated, not SQLite, or SQLite of another
 * program is refused with one clear line, never taken as new (that built a fresh city over it and handed out
 * new tokens). The checks read the 100-byte SQLite header, so they cost nothing at start; what only SQLite
 * itself can find (a damaged page) surfaces as SQLITE_CORRUPT / SQLITE_NOTADB and is reported the same way.
 */
import { closeSync, existsSync, openSync, readSync, statSync } from 'node:fs';
import type { RefusalCode } from '../../node-util/backend-refusal';

export type StoreProblem = Extract<RefusalCode, 'database-empty' | 'database-not-ours' | 'database-corrupt' | 'database-newer' | 'tokens-unreadable'>;

/**
 * The data needs a person: the backend says what and where, and exits without retrying (exit code 3; its
 * code is one of the refusal contract's, node-util/backend-refusal.ts).
 */
export class StoreOpenError extends Error {
  constructor(
    readonly code: StoreProblem,
    message: string,
  ) {
    super(message);
    this.name = 'StoreOpenError';
  }
}

/** PRAGMA application_id of our databases ("ZZHB"): a SQLite file with another non-zero id is another program's. */
export const APPLICATION_ID = 0x5a5a4842;
const MAGIC = 'SQLite format 3\0';

/** Throws StoreOpenError when `file` exists but cannot be this backend's database. A missing file is fine (new). */
export function checkDatabaseFile(file: string): void {
  if (!existsSync(file)) return;
  const size = statSync(file).size;
  if (size === 0) throw new StoreOpenError('database-empty', `the database file ${file} is empty (0 bytes); restore it from a backup, or delete it to start a new city`);
  const header = Buffer.alloc(100);
  const fd = openSync(file, 'r');
  let read: number;
  try {
    read = readSync(fd, header, 0, 100, 0);
  } finally {
    closeSync(fd);
  }
  if (read < 100 || header.toString('latin1', 0, 16) !== MAGIC) {
    throw new StoreOpenError('database-not-ours', `${file} is not a SQLite database (${size} bytes, no SQLite header); check the --db path`);
  }
  const rawPageSize = header.readUInt16BE(16);
  const pageSize = rawPageSize === 1 ? 65_536 : rawPageSize;
  const changeCounter = header.readUInt32BE(24);
  const pages = header.readUInt32BE(28);
  const validFor = header.readUInt32BE(92);
  // The in-header page count is trustworthy when written by a SQLite that keeps it (version-valid-for = counter).
  // Not while a write-ahead log is beside it: a process killed mid-checkpoint leaves the file shorter than its
  // header says, and SQLite completes it from the log when it opens (refusing that would refuse every crash).
  const walBeside = existsSync(`${file}-wal`) && statSync(`${file}-wal`).size > 0;
  if (pages > 0 && validFor === changeCounter && size < pages * pageSize && !walBeside) {
    throw new StoreOpenError('database-corrupt', `the database file ${file} is truncated (${size} bytes, the header says ${pages * pageSize}); restore it from a backup`);
  }
  const applicationId = header.readUInt32BE(68);
  if (applicationId !== 0 && applicationId !== APPLICATION_ID) {
    throw new StoreOpenError('database-not-ours', `${file} is another program's SQLite database (application id ${applicationId.toString(16)}); check the --db path`);
  }
}

/** Maps what SQLite says about a damaged file to the same clear refusal; other errors pass through. */
export function storeErrorOf(e: unknown, file: string): unknown {
  const code = (e as { code?: unknown })?.code;
  if (code === 'SQLITE_NOTADB') return new StoreOpenError('database-not-ours', `${file} is not a SQLite database; check the --db path`);
  if (code === 'SQLITE_CORRUPT' || code === 'SQLITE_CORRUPT_INDEX' || code === 'SQLITE_IOERR_SHORT_READ') {
    return new StoreOpenError('database-corrupt', `the database file ${file} is damaged (${String(code)}); restore it from a backup`);
  }
  return e;
}
