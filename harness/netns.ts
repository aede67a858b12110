/**
 * A network namespace with a veth pair, made by a test for the servers that ignore loopback (Janus's ICE):
 * inside it the two ends are real interfaces with private addresses, nothing outside sees them, and it is
 * gone when the test deletes it. Needs root (CI runs as root); elsewhere the caller skips with the reason.
 */
import { execFileSync, spawnSync } from 'node:child_process';

export interface Netns {
  name: string;
  /** The two ends' addresses inside the namespace. */
  addresses: [string, string];
  remove(): void;
}

/** Why a namespace cannot be made here, or null when it can. */
export function netnsUnavailable(): string | null {
  if (process.platform !== 'linux') return 'network namespaces are Linux only';
  if (process.getuid?.() !== 0) return 'making a network namespace needs root';
  if (spawnSync('ip', ['-V']).status !== 0) return 'iproute2 (ip) is not installed: apt-get install iproute2';
  return null;
}

export function createNetns(tag = String(process.pid)): Netns {
  const name = `zongzhi-${tag}`;
  const short = tag.slice(-6);
  const [a, b] = [`zza${short}`, `zzb${short}`];
  const ip = (...args: string[]): void => void execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  spawnSync('ip', ['netns', 'del', name]);
  ip('netns', 'add', name);
  try {
    ip('-n', name, 'link', 'set', 'lo', 'up');
    ip('link', 'add', a, 'type', 'veth', 'peer', 'name', b);
    ip('link', 'set', a, 'netns', name);
    ip('link', 'set', b, 'netns', name);
    ip('-n', name, 'addr', 'add', '10.231.0.1/30', 'dev', a);
    ip('-n', name, 'addr', 'add', '10.231.0.2/30', 'dev', b);
    ip('-n', name, 'link', 'set', a, 'up');
    ip('-n', name, 'link', 'set', b, 'up');
  } catch (e) {
    spawnSync('ip', ['link', 'del', a]);
    spawnSync('ip', ['netns', 'del', name]);
    throw e;
  }
  return { name, addresses: ['10.231.0.1', '10.231.0.2'], remove: () => void spawnSync('ip', ['netns', 'del', name]) };
}
