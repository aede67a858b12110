/**
 * The embedded backend's supervisor on a fake clock: failures are retried after growing pauses and given up
 * after a few in a row, at once when the data needs a person; a person's restart starts a fresh count; a
 * backend that ran a while before it died is not held against it.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { EventEmitter } from 'node:events';
import type { ChildProcess } from 'node:child_process';
import { EmbeddedBackendError, type EmbeddedBackend } from '../../hub/embedded-backend';
import { DEFAULT_BACKOFF, retryDelayMs, superviseEmbeddedBackend, type BackendSupervisor } from '../../hub/backend-supervisor';
import { silentLogger } from '../../node-util/logger';
import type { EmbeddedBackendState } from '../../protocol';
import { BackendRefusal, describeRefusal, parseRefusal } from '../../node-util/backend-refusal';

/** A backend whose process the test ends (`exit`). */
function fakeBackend(): EmbeddedBackend & { exit(code: number | null, signal?: NodeJS.Signals): void } {
  const process = new EventEmitter();
  return {
    url: 'ws://127.0.0.1:1/ws',
    tokens: { dispatcher: 't' },
    process: process as unknown as ChildProcess,
    stop: async () => {},
    exit: (code, signal) => void process.emit('exit', code, signal ?? null),
  };
}

const crash = (): Promise<EmbeddedBackend> => Promise.reject(new EmbeddedBackendError('exited', 'embedded backend exited (code 1) while starting', false));

let supervisor: BackendSupervisor | null = null;
let states: EmbeddedBackendState[];
let startedAt: number[];
let t0: number;

function supervise(start: () => Promise<EmbeddedBackend>): BackendSupervisor {
  supervisor = superviseEmbeddedBackend({
    start: () => {
      startedAt.push(Date.now() - t0);
      return start();
    },
    log: silentLogger,
    onReady: () => {},
    onState: (state) => states.push(state),
  });
  return supervisor;
}

beforeEach(() => {
  vi.useFakeTimers();
  t0 = Date.now();
  states = [];
  startedAt = [];
});
afterEach(async () => {
  await supervisor?.stop();
  supervisor = null;
  vi.useRealTimers();
});

describe('the embedded backend supervisor', () => {
  it('doubles the pause after each failure in a row, up to a ceiling', () => {
    expect([1, 2, 3, 4, 5, 6, 7].map((n) => retryDelayMs(n))).toEqual([2000, 4000, 8000, 16_000, 32_000, 60_000, 60_000]);
    expect(DEFAULT_BACKOFF.maxFailures).toBe(5);
  });

  it('retries a backend that keeps failing with growing pauses, and gives up after five in a row', async () => {
    const s = supervise(crash);
    await vi.advanceTimersByTimeAsync(10 * 60_000);
    expect(startedAt).toEqual([0, 2000, 6000, 14_000, 30_000]);
    expect(s.state).toMatchObject({ state: 'failed', failures: 5, nextRetryAt: null, lastError: { code: 'exited', path: null } });
    const retries = states.filter((st) => st.state === 'retrying');
    expect(retries.map((st) => Date.parse(st.nextRetryAt!) - t0)).toEqual([2000, 6000, 14_000, 30_000]);
    expect(retries.map((st) => st.failures)).toEqual([1, 2, 3, 4]);
  });

  it('gives up at once when the backend says its data needs a person', async () => {
    const s = supervise(() => Promise.reject(new EmbeddedBackendError('database-empty', 'the database file /d/backend.sqlite is empty (0 bytes)', true, '/d/backend.sqlite')));
    await vi.advanceTimersByTimeAsync(10 * 60_000);
    expect(startedAt).toEqual([0]);
    expect(s.state).toEqual({ state: 'failed', failures: 1, nextRetryAt: null, lastError: { code: 'database-empty', message: 'the database file /d/backend.sqlite is empty (0 bytes)', path: '/d/backend.sqlite' } });
  });

  it('a person\'s restart starts at once with a fresh count; once it runs the error is cleared', async () => {
    let fixed = false;
    const backend = fakeBackend();
    const s = supervise(() => (fixed ? Promise.resolve(backend) : crash()));
    await vi.advanceTimersByTimeAsync(10 * 60_000);
    expect(s.state.state).toBe('failed');
    // Restarted but still broken: a fresh count, so the first pause again (not a give-up).
    s.restart();
    await vi.advanceTimersByTimeAsync(0);
    expect(s.state).toMatchObject({ state: 'retrying', failures: 1 });
    expect(Date.parse(s.state.nextRetryAt!) - Date.now()).toBe(2000);
    // Fixed meanwhile: the restart brings it up at once, without waiting for the pause.
    fixed = true;
    s.restart();
    await vi.advanceTimersByTimeAsync(0);
    expect(s.state).toMatchObject({ state: 'running', lastError: null });
    const starts = startedAt.length;
    s.restart(); // running: nothing to do
    await vi.advanceTimersByTimeAsync(5000);
    expect(startedAt).toHaveLength(starts);
  });

  it('counts a quick relapse, but not the death of a backend that ran a while', async () => {
    const backends: Array<ReturnType<typeof fakeBackend>> = [];
    const s = supervise(() => {
      const b = fakeBackend();
      backends.push(b);
      return Promise.resolve(b);
    });
    await vi.advanceTimersByTimeAsync(1000);
    backends[0]!.exit(null, 'SIGKILL');
    expect(s.state).toMatchObject({ state: 'retrying', failures: 1, lastError: { code: 'exited', message: 'embedded backend exited (SIGKILL)' } });
    await vi.advanceTimersByTimeAsync(2000);
    expect(s.state.state).toBe('running');
    backends[1]!.exit(1); // soon after its start: the second failure in a row
    expect(s.state).toMatchObject({ state: 'retrying', failures: 2 });
    await vi.advanceTimersByTimeAsync(4000);
    await vi.advanceTimersByTimeAsync(DEFAULT_BACKOFF.stableAfterMs);
    backends[2]!.exit(1); // after running past stableAfterMs: a fresh count
    expect(s.state).toMatchObject({ state: 'retrying', failures: 1 });
  });

  it('an exit with code 3 while running (the data needs a person) stops the retries too', async () => {
    const backend = fakeBackend();
    const s = supervise(() => Promise.resolve(backend));
    await vi.advanceTimersByTimeAsync(0);
    backend.exit(3);
    expect(s.state.state).toBe('failed');
  });
});

describe('the backend\'s refusal line (the contract the supervisor reads)', () => {
  it('one line, exit 3 when the data needs a person, 1 for anything else; read back as said', () => {
    const empty = describeRefusal(new BackendRefusal('database-empty', 'the database file /d/backend.sqlite is empty (0 bytes)'));
    expect(empty).toEqual({ code: 'database-empty', exitCode: 3, line: 'backend refused to start [database-empty]: the database file /d/backend.sqlite is empty (0 bytes)' });
    expect(parseRefusal(empty.line)).toEqual({ code: 'database-empty', message: 'the database file /d/backend.sqlite is empty (0 bytes)' });
    // Any error carrying a contract code counts, whatever its class (the store's own errors).
    expect(describeRefusal(Object.assign(new Error('not a SQLite file'), { code: 'database-not-ours' })).exitCode).toBe(3);
    expect(describeRefusal(Object.assign(new Error('listen EADDRINUSE'), { code: 'EADDRINUSE' }))).toMatchObject({ code: 'port-in-use', exitCode: 3 });
    const other = describeRefusal(new Error('something\nbroke'));
    expect(other).toEqual({ code: 'start-failed', exitCode: 1, line: 'backend refused to start [start-failed]: something broke' });
    expect(parseRefusal('{"level":"info"}')).toBeNull();
  });
});
