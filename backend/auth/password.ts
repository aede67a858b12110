/**
 * Password hashing with Node's scrypt (RFC 7914: memory-hard, the standard KDF built into Node, so no extra
 * package): a fresh 16-byte salt per password, stored as one self-describing string
 * `scrypt$N=32768,r=8,p=1$<salt base64>$<hash base64>`, so the parameters can be raised later while old hashes
 * still verify. Verification compares in constant time.
 */
import { AUTH_PASSWORD_MAX_LENGTH } from '../../protocol';
import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';

export const PASSWORD_MIN_LENGTH = 10;
export const PASSWORD_MAX_LENGTH = AUTH_PASSWORD_MAX_LENGTH;

interface Params {
  N: number;
  r: number;
  p: number;
}

const DEFAULT_PARAMS: Params = { N: 32768, r: 8, p: 1 };
const KEY_LENGTH = 32;
const FORMAT = /^scrypt\$N=(\d+),r=(\d+),p=(\d+)\$([A-Za-z0-9+/]+={0,2})\$([A-Za-z0-9+/]+={0,2})$/;

function derive(password: string, salt: Buffer, params: Params, length: number): Promise<Buffer> {
  // 128 · N · r bytes of memory: 32 MiB for the defaults; allowed with room to spare.
  const options: ScryptOptions = { N: params.N, r: params.r, p: params.p, maxmem: 256 * params.N * params.r + 1024 * 1024 };
  return new Promise((resolve, reject) => scrypt(password.normalize('NFC'), salt, length, options, (error, key) => (error ? reject(error) : resolve(key))));
}

export async function hashPassword(password: string, params: Params = DEFAULT_PARAMS): Promise<string> {
  const salt = randomBytes(16);
  const hash = await derive(password, salt, params, KEY_LENGTH);
  return `scrypt$N=${params.N},r=${params.r},p=${params.p}$${salt.toString('base64')}$${hash.toString('base64')}`;
}

/** Whether `password` matches `stored`; false (never a throw) for a stored string that is not ours. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const m = FORMAT.exec(stored);
  if (!m) return false;
  const params = { N: Number(m[1]), r: Number(m[2]), p: Number(m[3]) };
  // Refuse parameters no one of ours wrote (a tampered row must not make one sign-in take a minute or a GiB).
  if (params.N < 1024 || params.N > 1 << 20 || (params.N & (params.N - 1)) !== 0 || params.r < 1 || params.r > 32 || params.p < 1 || params.p > 16) return false;
  const salt = Buffer.from(m[4]!, 'base64');
  const expected = Buffer.from(m[5]!, 'base64');
  if (expected.length < 16 || expected.length > 128) return false;
  const actual = await derive(password, salt, params, expected.length);
  return timingSafeEqual(actual, expected);
}

/** A stored hash for nobody: sign-in for an unknown user takes as long as for a known one. */
let dummy: Promise<string> | null = null;
export function dummyHash(): Promise<string> {
  dummy ??= hashPassword(randomBytes(16).toString('hex'));
  return dummy;
}

/** Why a new password is refused (Chinese and English), or null when it is acceptable. */
export function passwordProblem(password: string): string | null {
  if (password.length < PASSWORD_MIN_LENGTH) return `密码太短：至少 ${PASSWORD_MIN_LENGTH} 个字符（现为 ${password.length} 个） / the password is too short: at least ${PASSWORD_MIN_LENGTH} characters (it has ${password.length})`;
  if (password.length > PASSWORD_MAX_LENGTH) return `密码太长：至多 ${PASSWORD_MAX_LENGTH} 个字符 / the password is too long: at most ${PASSWORD_MAX_LENGTH} characters`;
  if (password.trim() !== password) return '密码首尾不能有空白 / the password must not begin or end with white space';
  return null;
}
