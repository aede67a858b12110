/**
 * Vitest fixtures for the e2e and integration suites (`test.extend`): a temp data dir per test, and per file one
 * Chromium, one browser host and one reference backend (in process, or as a child process), each torn down after
 * `use` whatever the test did, so the suites need no try/finally for them; and starters for a test's own hosts,
 * backends and hubs, each stopped after the test (before its temp dir is removed: vitest runs fixture teardowns
 * before onTestFinished, so a resource in the test's dataDir is best started through a fixture that depends on it).
 * Built on the harness's own starters (temp.ts, browser.ts, backend.ts, backend-process.ts).
 * A file tunes what it shares with `test.override('chromiumOptions' | 'backendConfig' | 'backendProcessArgs', …)`
 * at its top level.
 */
import { join } from 'node:path';
import { test as base } from 'vitest';
import type { Browser, BrowserContext, BrowserContextOptions, LaunchOptions, Page } from 'playwright-core';
import type { BackendConfig, RunningBackend } from '../backend/index';
import { Hub, type HubOptions } from '../hub';
import { startTestBackend } from './backend';
import { startBackendProcess, type BackendProcess } from './backend-process';
import { launchChromium, startConsoleFor, startHostProcess, type HostProcess } from './browser';
import { makeTempDir } from './temp';
import { startJsonChild, type JsonChild } from './procs';

/** How a test's own host starts: in `dataDir/<name>`, with extra arguments and environment, or linked to a backend. */
export interface HostStart {
  /** The data folder's name under the test's temp dir (default 'data'). */
  name?: string;
  args?: string[];
  env?: NodeJS.ProcessEnv;
  /** A console linked to this backend with this token (settings and credentials written as the UI would). */
  backend?: { url: string; token: string };
}

function tempDir(onCleanup: (cleanup: () => void) => void): string {
  const temp = makeTempDir();
  onCleanup(temp.cleanup);
  return temp.dir;
}

export const test = base
  /** A fresh temp dir for this test, removed afterwards. */
  // eslint-disable-next-line no-empty-pattern -- vitest reads a fixture's dependencies from a destructured first parameter
  .extend('dataDir', async ({}, { onCleanup }) => tempDir(onCleanup))
  /** A temp dir for what the file shares (its host's and backend's data), removed after the file. */
  // eslint-disable-next-line no-empty-pattern -- as above
  .extend('fileDir', { scope: 'file' }, async ({}, { onCleanup }) => tempDir(onCleanup))
  .extend('chromiumOptions', { scope: 'file' }, {} as LaunchOptions)
  /** One Debian Chromium (playwright-core) per file. */
  .extend('browser', { scope: 'file' }, async ({ chromiumOptions }, { onCleanup }): Promise<Browser> => {
    const browser = await launchChromium(chromiumOptions);
    onCleanup(() => browser.close());
    return browser;
  })
  /** Opens pages, each in a browser context of its own (1920x1080 unless asked otherwise); all closed after the test. */
  .extend('newPage', async ({ browser }, { onCleanup }) => {
    const contexts: BrowserContext[] = [];
    onCleanup(async () => {
      await Promise.all(contexts.map((context) => context.close()));
    });
    return async (options: BrowserContextOptions = { viewport: { width: 1920, height: 1080 } }): Promise<Page> => {
      const context = await browser.newContext(options);
      contexts.push(context);
      return context.newPage();
    };
  })
  /** This test's page at 1920x1080 (closed afterwards). */
  .extend('page', async ({ newPage }) => newPage())
  /** The file's browser host (`out/main/host.js` with its embedded backend), data in the file's temp dir. */
  .extend('host', { scope: 'file' }, async ({ fileDir }, { onCleanup }): Promise<HostProcess> => {
    const host = await startHostProcess(join(fileDir, 'data'));
    onCleanup(() => host.stop());
    return host;
  })
  /** Starts hosts of this test's own (in its temp dir); every one is stopped after the test. */
  .extend('startHost', async ({ dataDir }, { onCleanup }) => {
    const hosts: HostProcess[] = [];
    onCleanup(async () => {
      await Promise.all(hosts.map((host) => host.stop()));
    });
    return async (start: HostStart = {}): Promise<HostProcess> => {
      const dir = join(dataDir, start.name ?? 'data');
      const host = start.backend ? await startConsoleFor(dir, start.backend.url, start.backend.token) : await startHostProcess(dir, start.args, start.env);
      hosts.push(host);
      return host;
    };
  })
  .extend('backendConfig', { scope: 'file' }, {} as Partial<BackendConfig>)
  /** The file's reference backend (in this process, on a free port, known tokens), data in the file's temp dir. */
  .extend('backend', { scope: 'file' }, async ({ backendConfig, fileDir }, { onCleanup }) => {
    const backend = await startTestBackend(backendConfig, join(fileDir, 'backend'));
    onCleanup(() => backend.close());
    return backend;
  })
  /**
   * Starts reference backends of this test's own, data in `dataDir/<name>` (the same name, the same database: a
   * restart); every one is closed after the test, a test may close one itself first.
   */
  .extend('startBackend', async ({ dataDir }, { onCleanup }) => {
    const backends: RunningBackend[] = [];
    onCleanup(async () => {
      await Promise.all(backends.map((backend) => backend.close()));
    });
    return async (config: Partial<BackendConfig> = {}, name = 'backend'): Promise<Awaited<ReturnType<typeof startTestBackend>>> => {
      const backend = await startTestBackend(config, join(dataDir, name));
      const close = backend.close.bind(backend);
      let closing: Promise<void> | null = null;
      backend.close = () => (closing ??= close());
      backends.push(backend);
      return backend;
    };
  })
  /** Opens hubs of this test's own (data in `dataDir/hub` unless given); every one is closed after the test. */
  .extend('newHub', async ({ dataDir }, { onCleanup }) => {
    const hubs: Hub[] = [];
    onCleanup(() => {
      for (const hub of hubs) hub.close();
    });
    return (options: Omit<HubOptions, 'dataDir'> & { dataDir?: string }): Hub => {
      const hub = new Hub({ ...options, dataDir: options.dataDir ?? join(dataDir, 'hub') });
      hubs.push(hub);
      return hub;
    };
  })
  /**
   * Starts programs of this test's own that print one JSON line when ready (a backend with its own arguments, to
   * stop and start again mid-test); every one is stopped after the test, before its temp dir is removed.
   */
  .extend('startChild', async ({ dataDir: _dataDir }, { onCleanup }) => {
    const children: Array<{ stop(): Promise<void> }> = [];
    onCleanup(async () => {
      await Promise.all(children.map((child) => child.stop()));
    });
    return async <T>(command: string, args: string[], env?: NodeJS.ProcessEnv): Promise<JsonChild<T>> => {
      const child = await startJsonChild<T>(command, args, env);
      children.push(child);
      return child;
    };
  })
  /**
   * Starts reference backends of this test's own as child processes (`backend/cli.ts`, to kill with a signal),
   * data in `dataDir/<name>` (the same name, the same database), or on the PostgreSQL at `db` (tokens.json in
   * `dataDir/<name>`: instances of one city share it); every one is stopped after the test.
   */
  .extend('startBackendProcess', async ({ dataDir }, { onCleanup }) => {
    const started: BackendProcess[] = [];
    onCleanup(async () => {
      await Promise.all(started.map((backend) => backend.stop()));
    });
    return async (extra: string[] = [], name = 'backend', db?: string): Promise<BackendProcess> => {
      const backend = await startBackendProcess(join(dataDir, name), extra, db);
      started.push(backend);
      return backend;
    };
  })
  .extend('backendProcessArgs', { scope: 'file' }, [] as string[])
  /** The file's reference backend as a child process (`backend/cli.ts`), data in `dir` (in the file's temp dir). */
  .extend('backendProcess', { scope: 'file' }, async ({ backendProcessArgs, fileDir }, { onCleanup }): Promise<BackendProcess & { dir: string }> => {
    const dir = join(fileDir, 'backend');
    const backend = await startBackendProcess(dir, backendProcessArgs);
    onCleanup(() => backend.stop());
    return Object.assign(backend, { dir });
  });

export const it = test;
