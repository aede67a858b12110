/** Console users, roles and tokens. Tokens are stored hashed; the plain ones are handed out once (tokens.json). */
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import type { UserRole } from '../protocol';
import type { BackendStore, UserRecord } from './store/types';
import { StoreOpenError } from './store/open-check';

export interface UserSpec {
  id: string;
  name: string;
  role: UserRole;
  districtScope: string[] | null;
}

export const DEFAULT_USERS: readonly UserSpec[] = [
  { id: 'dispatcher', name: '调度员 张敏', role: 'dispatcher', districtScope: null },
  { id: 'dispatcher-d01', name: '调度员 刘洋（一区）', role: 'dispatcher', districtScope: ['d01'] },
  { id: 'duty', name: '值班员 李强', role: 'duty', districtScope: null },
  { id: 'duty-2', name: '值班员 陈静', role: 'duty', districtScope: null },
  { id: 'leader', name: '指挥长 王建国', role: 'leader', districtScope: null },
  { id: 'viewer', name: '演示大屏', role: 'viewer', districtScope: null },
  { id: 'admin', name: '系统管理员 赵磊', role: 'admin', districtScope: null },
];

export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/**
 * Makes sure users exist. Given tokens (tests, deployments) are stored as given. Otherwise the tokens in
 * `tokensFile` are kept — also when the database is new (its users are made from them): tokens consoles
 * already hold are never regenerated unless `rotate` says so (--new-tokens). A default user the file does not
 * name and the database does not hold (a tokens.json from before that user existed, e.g. the administrator) gets
 * a fresh token, added to the file; the others' tokens stay. Only with no file (or `rotate`) are fresh random
 * tokens made for everyone and written (mode 600). A file that cannot be read as tokens is refused.
 * A user already in the database keeps their name, role and district scope (set with `users scope`): only the
 * token is ever replaced here. On a store shared by several instances (`shared`), users that exist are kept as
 * they are: the instance that made them handed their tokens out, and another instance starting without that
 * file must not replace them.
 */
export async function ensureUsers(store: BackendStore, tokensFile: string | null, given?: Record<string, string>, rotate = false, shared = false): Promise<Record<string, string>> {
  const existing = new Map((await store.listUsers()).map((u) => [u.id, u]));
  const record = (spec: UserSpec, token: string): UserRecord => {
    const stored = existing.get(spec.id);
    return { ...(stored ? { id: stored.id, name: stored.name, role: stored.role, districtScope: stored.districtScope } : spec), tokenHash: hashToken(token), departmentId: stored?.departmentId ?? null, staffId: stored?.staffId ?? null };
  };
  if (given) {
    await store.upsertUsers(DEFAULT_USERS.filter((u) => given[u.id]).map((u) => record(u, given[u.id]!)));
    return given;
  }
  if (tokensFile && existsSync(tokensFile) && !rotate) {
    const kept = readTokensFile(tokensFile);
    const added = Object.fromEntries(DEFAULT_USERS.filter((u) => !kept[u.id] && !existing.has(u.id)).map((u) => [u.id, newToken()]));
    const tokens = { ...kept, ...added };
    // Every default user the database lacks is stored with their token (the file's, or the one just made); the
    // ones it holds keep theirs.
    const records = DEFAULT_USERS.filter((u) => tokens[u.id] && !existing.has(u.id)).map((u) => record(u, tokens[u.id]!));
    if (records.length > 0) await store.upsertUsers(records);
    if (Object.keys(added).length > 0) writeTokens(tokensFile, tokens);
    return tokens;
  }
  if (shared && !rotate && existing.size > 0) return {};
  const tokens = Object.fromEntries(DEFAULT_USERS.map((u) => [u.id, newToken()]));
  await store.upsertUsers(DEFAULT_USERS.map((u) => record(u, tokens[u.id]!)));
  if (tokensFile) writeTokens(tokensFile, tokens);
  return tokens;
}

const newToken = (): string => randomBytes(24).toString('base64url');

function writeTokens(file: string, tokens: Record<string, string>): void {
  writeFileSync(file, JSON.stringify(tokens, null, 2) + '\n', { mode: 0o600 });
  chmodSync(file, 0o600);
}

function readTokensFile(file: string): Record<string, string> {
  const refuse = (why: string): never => {
    throw new StoreOpenError('tokens-unreadable', `${file} cannot be used (${why}); restore it, or start with --new-tokens to make new tokens for every user`);
  };
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    return refuse(`not JSON: ${(e as Error).message.slice(0, 100)}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return refuse('not an object of user ids and tokens');
  const entries = Object.entries(parsed);
  if (entries.length === 0 || entries.some(([, token]) => typeof token !== 'string' || token.length < 16 || token.length > 512)) return refuse('a token is missing or malformed');
  return Object.fromEntries(entries) as Record<string, string>;
}
