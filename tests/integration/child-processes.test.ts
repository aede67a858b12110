/**
 * Every child process ends with its parent, however the parent ends. The real browser host (out/main/host.js)
 * with its embedded backend, the backend's Kamailio, its simulated field staff (a headless Chromium), one
 * camera encoder (ffmpeg), and — where Xvfb is installed — the console window (`chromium --app`): every
 * descendant process is recorded from /proc, then the host gets SIGTERM (the graceful path), the host gets
 * SIGKILL (nothing graceful: the parent-death signals cascade host → backend → its programs), and the backend
 * alone gets SIGKILL (its programs must go with it). Each time nothing may be left.
 * Linux only (/proc, setpriv); runs as root here, where Chromium needs --no-sandbox (the programs pass it).
 */
import { afterAll, describe, expect, onTestFinished } from 'vitest';
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { WebSocket } from 'ws';
import { PROJECT_ROOT, startHostProcess, type HostProcess } from '../../harness/browser';
import { hubBridge, syncedRows } from '../../harness/e2e';
import { resolveStreamUrl } from '../../protocol';
import { it } from '../../harness/fixtures';

interface Proc {
  pid: number;
  ppid: number;
  /** Start time in clock ticks since boot: a pid reused by a new process is not the one recorded. */
  start: string;
  state: string;
  cmd: string;
}

function readProc(pid: number): Proc | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name in parentheses may hold spaces and parentheses: the fields after the last ')' are fixed.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ').trim();
    return { pid, state: fields[0]!, ppid: Number(fields[1]), start: fields[19]!, cmd };
  } catch {
    return null; // gone while we looked
  }
}

/** All descendants of `root`, by walking the ppid links of every process. */
function descendants(root: number): Proc[] {
  const all = readdirSync('/proc').filter((name) => /^\d+$/.test(name)).map((name) => readProc(Number(name))).filter((p): p is Proc => p !== null);
  const children = new Map<number, Proc[]>();
  for (const p of all) children.set(p.ppid, [...(children.get(p.ppid) ?? []), p]);
  const found: Proc[] = [];
  const walk = (pid: number): void => {
    for (const child of children.get(pid) ?? []) {
      found.push(child);
      walk(child.pid);
    }
  };
  walk(root);
  return found;
}

/**
 * Every process of this run still running: those recorded, and any other carrying the run's mark in its
 * environment (a program that double-forks, like Chromium's crash handler, leaves the tree before it is
 * recorded). A zombie has ended: it only waits for its new parent to reap it.
 */
function stillRunning(recorded: Proc[], marked: boolean): Proc[] {
  const running = recorded.filter((p) => {
    const now = readProc(p.pid);
    return now !== null && now.start === p.start && now.state !== 'Z';
  });
  if (!marked) return running;
  for (const name of readdirSync('/proc').filter((n) => /^\d+$/.test(n))) {
    const pid = Number(name);
    if (running.some((p) => p.pid === pid)) continue;
    let environ = '';
    try {
      environ = readFileSync(`/proc/${pid}/environ`, 'utf8');
    } catch {
      continue; // gone, or not ours to read (as non-root only our own processes are readable, which is all we need)
    }
    const p = environ.split('\0').includes(MARK) ? readProc(pid) : null;
    if (p && p.state !== 'Z') running.push(p);
  }
  return running;
}

const kind = (p: Proc): string => (/kamailio/.test(p.cmd) ? 'kamailio' : /chromium/.test(p.cmd) ? 'chromium' : /ffmpeg/.test(p.cmd) ? 'ffmpeg' : /backend\.js/.test(p.cmd) ? 'backend' : 'other');
function census(procs: Proc[]): string {
  const counts = new Map<string, number>();
  for (const p of procs) counts.set(kind(p), (counts.get(kind(p)) ?? 0) + 1);
  return [...counts].map(([k, n]) => `${k} ${n}`).join(', ');
}

async function poll(check: () => boolean, what: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/**
 * Polls until every recorded process has ended (at most `timeoutMs`); returns those still running. `marked`:
 * also any process of this run (only once no console of it should be running any more).
 */
// 25 s: the backend's own graceful stop (sessions, the simulated staff's browser, encoders, Kamailio, each given a
// few seconds) runs first when it is told by its parent-death signal, and takes longer on a loaded machine.
async function leftAfter(recorded: Proc[], marked: boolean, timeoutMs = 25_000): Promise<Proc[]> {
  await poll(() => stillRunning(recorded, marked).length === 0, 'the processes to end', timeoutMs).catch(() => {});
  return stillRunning(recorded, marked);
}

/** The consoles' data folder, shared by the tests (in the `fileDir` fixture's temp dir, removed after the file). */
let consoleDir: string;
/** In the environment of every process this file's consoles start (inherited by all their descendants). */
const MARK = `ZONGZHI_PROCS_TEST=${process.pid}-${Date.now()}`;
let display: { process: ChildProcess; name: string } | null = null;

it.beforeAll(async ({ fileDir }) => {
  consoleDir = join(fileDir, 'data');
  if (!existsSync(join(PROJECT_ROOT, 'out/main/host.js'))) {
    execFileSync(process.execPath, [join(PROJECT_ROOT, 'node_modules/electron-vite/bin/electron-vite.js'), 'build'], { cwd: PROJECT_ROOT, stdio: 'ignore' });
  }
  // A display for the console window where Xvfb is installed (it prints the free display number it took).
  if (existsSync('/usr/bin/Xvfb')) {
    const xvfb = spawn('/usr/bin/Xvfb', ['-displayfd', '1', '-screen', '0', '1280x800x24', '-nolisten', 'tcp'], { stdio: ['ignore', 'pipe', 'ignore'] });
    const name = await new Promise<string>((resolve, reject) => {
      xvfb.once('exit', (code) => reject(new Error(`Xvfb exited with ${code}`)));
      createInterface({ input: xvfb.stdout! }).once('line', (line) => resolve(`:${line.trim()}`));
    });
    display = { process: xvfb, name };
  }
}, 180_000);

afterAll(async () => {
  display?.process.kill();
});

interface Console {
  host: HostProcess;
  backendPid: number;
  stream: WebSocket;
}

/** Starts the host and waits until Kamailio, the simulated staff, the console window and an encoder run. */
async function startConsole(openWindow: boolean): Promise<Console> {
  const withWindow = openWindow && display !== null;
  const host = await startHostProcess(consoleDir, ['--port', '0', ...(withWindow ? ['--open', '--role', 'kpi'] : [])], {
    ZONGZHI_SIMULATED_STAFF: 'on',
    [MARK.split('=')[0]!]: MARK.split('=')[1]!,
    ...(withWindow ? { DISPLAY: display!.name } : {}),
  });
  // Each test ends its console its own way; whatever is left of it is stopped after the test.
  onTestFinished(() => host.stop());
  const hostPid = host.process.pid!;
  const ready = (): { url: string; pid: number } | null => {
    const line = host.stderr.findLast((l) => l.includes('"embedded backend ready"'));
    return line ? (JSON.parse(line) as { url: string; pid: number }) : null;
  };
  await poll(() => ready() !== null, 'the embedded backend', 90_000);
  const backend = ready()!;
  await poll(
    () => {
      const tree = descendants(hostPid);
      const underBackend = descendants(backend.pid);
      return (
        underBackend.some((p) => kind(p) === 'kamailio') &&
        underBackend.some((p) => kind(p) === 'chromium') &&
        (!withWindow || tree.some((p) => p.ppid === hostPid && kind(p) === 'chromium'))
      );
    },
    'Kamailio, the simulated staff and the console window',
    30_000,
  );
  // One viewer on a camera: the backend starts its encoder.
  const api = await hubBridge(host);
  const camera = (await syncedRows(api, 'cameras')).find((c) => c.online && c.streams[0]?.codec === 'h264');
  // The console's viewer ticket (its welcome's, in the hub's link state): what opens the backend's streams.
  let ticket: string | null = null;
  await (await api.subscribe({ topic: 'connection' }, (c) => (ticket = c.streamTicket)))();
  api.close();
  if (!camera) throw new Error('no online H.264 camera');
  if (!ticket) throw new Error('the hub has no stream ticket');
  // Its stream as the console opens it: with the ticket.
  const stream = new WebSocket(resolveStreamUrl(camera.streams.find((s) => s.protocol === 'mpegts')!.url, backend.url, 'ws', ticket)!);
  stream.on('error', () => {}); // the backend goes away under it on purpose
  await poll(() => descendants(backend.pid).some((p) => kind(p) === 'ffmpeg'), 'the camera encoder', 15_000);
  return { host, backendPid: backend.pid, stream };
}

describe.skipIf(process.platform !== 'linux')('child processes end with their parent', () => {
  it('SIGTERM to the host: every descendant ends (the graceful path)', async () => {
    const running = await startConsole(false);
    const recorded = descendants(running.host.process.pid!);
    process.kill(running.host.process.pid!, 'SIGTERM');
    const left = await leftAfter(recorded, true);
    console.log(`[child-processes] SIGTERM to the host: ${recorded.length} descendants (${census(recorded)}) → ${left.length} left`);
    expect(left.map((p) => `${p.pid} ${p.cmd}`)).toEqual([]);
  }, 180_000);

  it('SIGKILL to the host: the parent-death signals take every descendant down, the console window too', async () => {
    const running = await startConsole(true);
    const recorded = descendants(running.host.process.pid!);
    process.kill(running.host.process.pid!, 'SIGKILL');
    const left = await leftAfter(recorded, true);
    console.log(`[child-processes] SIGKILL to the host: ${recorded.length} descendants (${census(recorded)}) → ${left.length} left`);
    expect(left.map((p) => `${p.pid} ${p.cmd}`)).toEqual([]);
  }, 180_000);

  it('SIGKILL to the embedded backend alone: its Kamailio, encoder and simulated staff end with it', async () => {
    const running = await startConsole(false);
    const backend = readProc(running.backendPid)!;
    const recorded = [backend, ...descendants(running.backendPid)];
    process.kill(running.backendPid, 'SIGKILL');
    const left = await leftAfter(recorded, false); // the host lives on (and restarts its backend)
    console.log(`[child-processes] SIGKILL to the backend: ${recorded.length} processes (${census(recorded)}) → ${left.length} left`);
    expect(left.map((p) => `${p.pid} ${p.cmd}`)).toEqual([]);
    // The host restarts its backend; stopping the host still leaves nothing behind.
    const tree = descendants(running.host.process.pid!);
    await running.host.stop();
    expect(await leftAfter(tree, true)).toEqual([]);
  }, 180_000);
});
