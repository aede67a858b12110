/**
 * The WebRTC set-up the video wall's suite and benchmark share: the reference backend (a child process, no SIP,
 * no history) fronting a running Janus, and a console linked to it as the dispatcher, data under `dir`.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RunningJanus } from '../backend/video/janus';
import { backendArgs } from './backend-process';
import { startConsoleFor, type HostProcess } from './browser';
import { startJsonChild, type JsonChild } from './procs';

export type JanusBackend = JsonChild<{ url: string; port: number; tokensFile: string }>;

export async function startJanusConsole(dir: string, janus: RunningJanus): Promise<{ backend: JanusBackend; host: HostProcess }> {
  const backend: JanusBackend = await startJsonChild(
    process.execPath,
    backendArgs(join(dir, 'backend', 'backend.sqlite'), ['--no-sim', '--history-days', '0', '--sip', 'off', '--janus', janus.url]),
    { ...process.env, ZONGZHI_JANUS_SECRET: janus.apiSecret },
  );
  try {
    const tokens = JSON.parse(readFileSync(backend.ready.tokensFile, 'utf8')) as Record<string, string>;
    return { backend, host: await startConsoleFor(join(dir, 'console'), backend.ready.url, tokens.dispatcher!) };
  } catch (e) {
    await backend.stop();
    throw e;
  }
}
