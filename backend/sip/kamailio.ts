/**
 * Kamailio, the SIP registrar/proxy the console's calls go through (SIP over WebSocket), run from the
 * project's config in resources/sip/kamailio.cfg. Used by the tests, the bench, and the embedded default
 * when Kamailio is installed. Accounts need no database: a user's SIP password is md5(secret ":" username),
 * computed here for the signed-in user and checked by Kamailio with the same secret.
 */
import type { ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, portFree, startLocalServer } from '../ports';

export const KAMAILIO_BINARY = process.env.KAMAILIO_PATH ?? '/usr/sbin/kamailio';
export const KAMAILIO_CONFIG = join(import.meta.dirname, '../../resources/sip/kamailio.cfg');
/** The digest realm in resources/sip/kamailio.cfg. */
export const SIP_REALM = 'zongzhi';

/** The SIP password of an account, as Kamailio's config computes it. */
export function sipPassword(secret: string, username: string): string {
  return createHash('md5').update(`${secret}:${username}`).digest('hex');
}

export interface RunningKamailio {
  /** ws://127.0.0.1:PORT — the SIP over WebSocket address. */
  url: string;
  port: number;
  secret: string;
  process: ChildProcess;
  /** Its log lines (stderr), newest last, for failures. */
  log: string[];
  stop(): Promise<void>;
}

/**
 * Kamailio processes of ours left behind by a backend that was killed outright (their parent is gone, so
 * init adopted them): stopped before a new one starts, so a supervised restart does not pile them up.
 */
function stopOrphans(binary: string): void {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      if (!cmdline.startsWith(binary) || !cmdline.includes('zongzhi-kamailio-')) continue;
      const ppid = Number(readFileSync(`/proc/${entry}/stat`, 'utf8').split(') ')[1]!.split(' ')[1]);
      if (ppid === 1) process.kill(Number(entry), 'SIGTERM');
    } catch {
      /* gone meanwhile, or not ours to read */
    }
  }
}

/** Starts Kamailio on 127.0.0.1 (a free port unless given) and waits until it accepts connections. */
export async function startKamailio(options: {
  secret: string;
  port?: number;
  binary?: string;
  config?: string;
  /** A port to use when it is free (the last run's: consoles' CSPs and sessions keep naming it). */
  preferredPort?: number;
  /** Demo: calls for staff who are not signed in reach the simulated field staff (backend/sip/field-simulator). */
  simulatedStaff?: boolean;
}): Promise<RunningKamailio> {
  const binary = options.binary ?? KAMAILIO_BINARY;
  if (!existsSync(binary)) throw new Error(`Kamailio not found at ${binary}: apt-get install kamailio kamailio-websocket-modules`);
  if (!/^[A-Za-z0-9_.~-]{8,128}$/.test(options.secret)) throw new Error('the SIP secret must be 8–128 letters, digits or _.~-');
  if (process.platform === 'linux') stopOrphans(binary);
  const port = options.port ?? (options.preferredPort && (await portFree(options.preferredPort)) ? options.preferredPort : await freePort());
  const dir = mkdtempSync(join(tmpdir(), 'zongzhi-kamailio-'));
  const config = join(dir, 'kamailio.cfg');
  const text = readFileSync(options.config ?? KAMAILIO_CONFIG, 'utf8');
  writeFileSync(config, (options.simulatedStaff ? text.replace('#!KAMAILIO\n', '#!KAMAILIO\n#!define WITH_SIMULATED_STAFF\n') : text).replace('listen=@LISTEN@', `listen=tcp:127.0.0.1:${port}`).replace('SIP_SECRET "@SECRET@"', `SIP_SECRET "${options.secret}"`));
  // -DD: stay in the foreground; -E: log to stderr; -Y: its runtime dir; -m/-M: shared/private memory (MB).
  const server = await startLocalServer({ name: 'Kamailio', binary, port, dir, args: ['-f', config, '-DD', '-E', '-Y', dir, '-P', join(dir, 'kamailio.pid'), '-m', '64', '-M', '8'] });
  return { url: `ws://127.0.0.1:${port}`, port, secret: options.secret, ...server };
}
