/** Console users, roles and tokens. Tokens are stored hashed; the plain ones are handed out once (tokens.json). */
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import type { UserRole } from '../protocol';
import type { BackendStore, UserRecord } from './store/types';

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
];

export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/**
 * Makes sure users exist. Given tokens (tests, deployments) are stored as given; otherwise fresh random tokens
 * are made once and written to `tokensFile` (mode 600) for the operator and the embedded console.
 */
export async function ensureUsers(store: BackendStore, tokensFile: string | null, given?: Record<string, string>): Promise<Record<string, string>> {
  if (given) {
    await store.upsertUsers(DEFAULT_USERS.filter((u) => given[u.id]).map((u) => ({ ...u, tokenHash: hashToken(given[u.id]!) })));
    return given;
  }
  if (tokensFile && existsSync(tokensFile) && (await store.countUsers()) > 0) {
    return JSON.parse(readFileSync(tokensFile, 'utf8')) as Record<string, string>;
  }
  const tokens = Object.fromEntries(DEFAULT_USERS.map((u) => [u.id, randomBytes(24).toString('base64url')]));
  const records: UserRecord[] = DEFAULT_USERS.map((u) => ({ ...u, tokenHash: hashToken(tokens[u.id]!) }));
  await store.upsertUsers(records);
  if (tokensFile) {
    writeFileSync(tokensFile, JSON.stringify(tokens, null, 2) + '\n', { mode: 0o600 });
    chmodSync(tokensFile, 0o600);
  }
  return tokens;
}
