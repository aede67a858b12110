/** Real Chromium (Debian's) driven by playwright-core, and the real browser host as a child process. */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { chromium, type Browser, type LaunchOptions } from 'playwright-core';
import { stopChild } from '../node-util/child-process';

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const PROJECT_ROOT = join(import.meta.dirname, '..');

/** Flags that keep Chromium quiet on a machine without internet (no background calls to Google). */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
  '--disable-default-apps',
  '--autoplay-policy=no-user-gesture-required',
  // WebGL through llvmpipe (about 5x faster than the default SwiftShader for Cesium on a GPU-less machine).
  '--use-angle=gl-egl',
  '--ignore-gpu-blocklist',
];

export async function launchChromium(options: LaunchOptions = {}): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) throw new Error(`Chromium not found at ${CHROMIUM_PATH}: apt-get install chromium (or set CHROMIUM_PATH)`);
  return chromium.launch({ executablePath: CHROMIUM_PATH, ...options, args: [...CHROMIUM_ARGS, ...(options.args ?? [])] });
}

export interface HostProcess {
  url: string;
  origin: string;
  process: ChildProcess;
  stderr: string[];
  stop(): Promise<void>;
}

/** Starts `node out/main/host.js --json` (the built program users run) and waits for its URL line. */
export async function startHostProcess(dataDir: string, extraArgs: string[] = [], env: NodeJS.ProcessEnv = {}): Promise<HostProcess> {
  const hostJs = join(PROJECT_ROOT, 'out/main/host.js');
  if (!existsSync(hostJs)) throw new Error('out/main/host.js missing: the e2e global setup builds it');
  // The embedded backend's simulated field staff (a headless Chromium) only where a test asks for them.
  const child = spawn(process.execPath, [hostJs, '--json', '--data-dir', dataDir, ...extraArgs], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ZONGZHI_SIMULATED_STAFF: 'off', ZONGZHI_RECORDING: 'off', ...env } });
  const stderr: string[] = [];
  createInterface({ input: child.stderr! }).on('line', (line) => stderr.push(line));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`host did not start in 15 s: ${stderr.join('\n')}`)), 15_000);
    child.once('exit', (code) => reject(new Error(`host exited with ${code}: ${stderr.join('\n')}`)));
    createInterface({ input: child.stdout! }).once('line', (line) => {
      clearTimeout(timer);
      resolve((JSON.parse(line) as { url: string }).url);
    });
  });
  return {
    url,
    origin: new URL(url).origin,
    process: child,
    stderr,
    stop: () => stopChild(child),
  };
}

/** A console host linked to a backend of the test's own (settings and credentials written as the UI would). */
export async function startConsoleFor(dataDir: string, backendUrl: string, token: string, settings: Record<string, unknown> = {}): Promise<HostProcess> {
  mkdirSync(dataDir, { recursive: true });
  writeFileSync(join(dataDir, 'settings.json'), JSON.stringify({ locale: 'zh-CN', theme: 'night', backendUrl, ...settings }));
  writeFileSync(join(dataDir, 'credentials.json'), JSON.stringify({ token }), { mode: 0o600 });
  return startHostProcess(dataDir);
}
