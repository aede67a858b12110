/**
 * A command line's way into the backend's database (import, users): opened from --db, ZONGZHI_DATABASE_URL or
 * ./data/backend.sqlite, closed after the work; what it refuses said in one line with the exit code for it.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { describeRefusal } from '../../node-util/backend-refusal';
import { isDatabaseUrl, openStore } from '../store/open';
import { NoCityError } from './write';

export const IMPORT_EXIT = { imported: 0, other: 1, usage: 2, database: 3, fileErrors: 4 } as const;

export async function withStore(dbOption: string | undefined, work: (store: Awaited<ReturnType<typeof openStore>>) => Promise<number>): Promise<number> {
  const envUrl = process.env.ZONGZHI_DATABASE_URL || undefined;
  const db = dbOption !== undefined ? (isDatabaseUrl(dbOption) ? dbOption : resolve(dbOption)) : (envUrl ?? resolve('data/backend.sqlite'));
  if (!isDatabaseUrl(db) && !existsSync(db)) {
    process.stderr.write(`${db}: no such database; start the backend on it once, then import\n`);
    return IMPORT_EXIT.database;
  }
  let store: Awaited<ReturnType<typeof openStore>> | null = null;
  try {
    store = await openStore(db);
    return await work(store);
  } catch (e) {
    if (e instanceof NoCityError) {
      process.stderr.write(`${e.message}\n`);
      return IMPORT_EXIT.database;
    }
    const refusal = describeRefusal(e);
    if (refusal.code === 'start-failed') process.stderr.write(`${(e as Error).stack ?? String(e)}\n`);
    process.stderr.write(`${refusal.line}\n`);
    return refusal.exitCode === 3 ? IMPORT_EXIT.database : IMPORT_EXIT.other;
  } finally {
    await store?.close();
  }
}
