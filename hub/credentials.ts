/**
 * Where the hub's backend login comes from. Embedded backend: the token of the chosen user from the backend's
 * own tokens (kept in memory). Configured backend: ZONGZHI_BACKEND_TOKEN, else credentials.json (mode 600) in
 * the data dir. (Electron deployments can keep it with safeStorage instead; the hub only needs the string.)
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BackendCredentials, Hub } from './hub';

export const CREDENTIALS_FILE_NAME = 'credentials.json';

export type CredentialsResult = { ok: true; credentials: BackendCredentials } | { ok: false; code: string; message: string };

/** The login for the configured backend: one token for every address of it (its instances share one database). */
export function configuredCredentials(dataDir: string, url: BackendCredentials['url'], env: NodeJS.ProcessEnv = process.env): CredentialsResult {
  if (env.ZONGZHI_BACKEND_TOKEN) return { ok: true, credentials: { url, token: env.ZONGZHI_BACKEND_TOKEN } };
  const file = join(dataDir, CREDENTIALS_FILE_NAME);
  if (!existsSync(file)) return { ok: false, code: 'no-credentials', message: `no login for ${typeof url === 'string' ? url : url.join(', ')}: set ZONGZHI_BACKEND_TOKEN or write {"token": "…"} to ${file}` };
  try {
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as { token?: unknown };
    if (typeof parsed.token !== 'string' || parsed.token.length === 0) throw new Error('no "token" string');
    return { ok: true, credentials: { url, token: parsed.token } };
  } catch (e) {
    return { ok: false, code: 'bad-credentials', message: `${file} is unusable: ${(e as Error).message}` };
  }
}

/** The embedded backend's user the console logs in as (ZONGZHI_USER, default the city-wide dispatcher). */
export function embeddedCredentials(url: string, tokens: Record<string, string>, env: NodeJS.ProcessEnv = process.env): CredentialsResult {
  const user = env.ZONGZHI_USER ?? 'dispatcher';
  const token = tokens[user];
  return token ? { ok: true, credentials: { url, token } } : { ok: false, code: 'no-credentials', message: `the embedded backend has no user ${user}` };
}

/**
 * Links a hub to its configured backend: with ZONGZHI_BACKEND_TOKEN or credentials.json when there is one (a
 * deployment's static token), else by sign-in (a kept session first, Electron only); a credentials file that
 * cannot be used is said as such.
 */
export function linkConfigured(hub: Hub, dataDir: string, url: BackendCredentials['url'], env: NodeJS.ProcessEnv = process.env): void {
  const login = configuredCredentials(dataDir, url, env);
  if (login.ok) hub.connectTo(login.credentials);
  else if (login.code === 'no-credentials') hub.requireSignIn(url);
  else hub.unavailable(url, login.code, login.message);
}
