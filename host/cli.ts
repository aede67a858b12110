/**
 * `node out/main/host.js`: runs the hub and the browser host without Electron. Used by `npm start` where the
 * Electron binary is missing, by the e2e tests, and for a browser view on a demo screen.
 */
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DisplayRole, WallName, validate } from '../protocol';
import { parseCli } from '../node-util/cli';
import { Hub, linkConfigured, createLogger, defaultDataDir, runEmbeddedBackend } from '../hub';
import { startBrowserHost } from './server';
import { findChromium } from '../node-util/chromium';
import { spawnOwned } from '../node-util/child-process';

const usage = `usage: host [--port N] [--data-dir DIR] [--renderer-dir DIR] [--role ROLE] [--open] [--json]
  --port N          listen on 127.0.0.1:N (default: a free port)
  --data-dir DIR    hub data (settings, cache); default: ${defaultDataDir()}
  --renderer-dir    built renderer (default: out/renderer next to this file)
  --role ROLE       display role for the opened window: ${DisplayRole.options.join(', ')}
  --wall NAME       the opened window is the video wall NAME (letters, digits, - and _): what it shows is
                    remembered per wall, e.g. two screens --wall left and --wall right (the address's #/video?wall=)
  --open            open the console in Chromium's app mode (closing it stops the host)
  --json            print {"url":...} as one JSON line when ready (for scripts and tests)
  --no-backend      do not start the embedded backend (when no backend URL is configured)
  --speed X         simulated clock rate of the embedded backend (demos)
  --demo-loop M     迎检: the embedded backend runs a scripted incident every M minutes (with --demo: a show that runs itself)
  --demo            open as a demo / inspection screen: names and phone numbers masked (迎检演示),
                    rotating through the workspaces every 30 s (a touch pauses it for two minutes)`;

async function main(): Promise<void> {
  const cli = parseCli(
    {
      port: { type: 'string' },
      'data-dir': { type: 'string' },
      'renderer-dir': { type: 'string' },
      role: { type: 'string' },
      wall: { type: 'string' },
      open: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      'no-backend': { type: 'boolean', default: false },
      speed: { type: 'string' },
      'demo-loop': { type: 'string' },
      demo: { type: 'boolean', default: false },
    },
    usage,
  );
  const args = cli.values;
  // Explicitly typed so calls narrow types like any never-returning function.
  const fail: (message: string) => never = cli.fail;
  const port = args.port === undefined ? 0 : Number(args.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) fail(`--port must be 0-65535, got ${args.port}`);
  const role = validate(DisplayRole, args.role ?? 'combined');
  if (!role.ok) fail(`--role must be one of ${DisplayRole.options.join(', ')}`);
  if (args.wall !== undefined && !validate(WallName, args.wall).ok) fail(`--wall must be 1-64 letters, digits, - or _, got ${JSON.stringify(args.wall)}`);
  const here = dirname(fileURLToPath(import.meta.url));
  const rendererDir = resolve(args['renderer-dir'] ?? join(here, '../renderer'));
  if (!existsSync(join(rendererDir, 'index.html'))) fail(`no built renderer in ${rendererDir} (run: npm run build)`);
  const dataDir = resolve(args['data-dir'] ?? defaultDataDir());
  mkdirSync(dataDir, { recursive: true });

  const log = createLogger('host');
  const hub = new Hub({ dataDir, version: __APP_VERSION__, log: createLogger('hub') });
  if (hub.settings.startupNotice) log.warn('settings file unusable, defaults in use', { ...hub.settings.startupNotice });
  const speed = args.speed === undefined ? undefined : Number(args.speed);
  if (speed !== undefined && !(speed > 0 && speed <= 10_000)) fail('--speed must be a number in (0, 10000]');
  const demoLoopMinutes = args['demo-loop'] === undefined ? undefined : Number(args['demo-loop']);
  if (demoLoopMinutes !== undefined && !(demoLoopMinutes >= 0.5 && demoLoopMinutes <= 1440)) fail('--demo-loop must be minutes between 0.5 and 1440');
  let embedded: { stop(): Promise<void> } | null = null;
  const configured = hub.settings.settings.value.backendUrl;
  if (configured) {
    linkConfigured(hub, dataDir, configured);
  } else if (!args['no-backend']) {
    embedded = runEmbeddedBackend(hub, { script: join(here, 'backend.js'), dataDir: join(dataDir, 'backend'), log, ...(speed ? { speed } : {}), ...(demoLoopMinutes ? { demoLoopMinutes } : {}) });
  }
  const host = await startBrowserHost({ hub, rendererDir, port });
  const url = `${host.urlFor(role.value, args.demo)}${args.wall !== undefined ? `#/video?wall=${args.wall}` : ''}`;

  let browser: ChildProcess | null = null;
  const shutdown = async (code: number): Promise<void> => {
    browser?.kill();
    await embedded?.stop();
    await host.close();
    hub.close();
    process.exit(code);
  };
  process.on('SIGINT', () => void shutdown(0));
  process.on('SIGTERM', () => void shutdown(0));

  if (args.json) process.stdout.write(JSON.stringify({ url, port: host.port, dataDir }) + '\n');
  else process.stdout.write(`综治指挥调度台 browser host: ${url}\n`);

  if (args.open) {
    const chromium = findChromium();
    if (!chromium || !process.env.DISPLAY) {
      process.stdout.write(
        !chromium
          ? `Chromium not found: open this address in a browser: ${url}\n`
          : `No display (DISPLAY unset): open this address in a browser: ${url}\n`,
      );
      return;
    }
    // SIGTERM when the host dies, however it dies: the window closes like a user closed it (its profile saved,
    // no "Chromium did not shut down correctly" bar on the wall next time).
    browser = spawnOwned(
      chromium,
      [
        `--app=${url}`,
        // The 3D map: use the GPU even on blocklisted drivers, and llvmpipe (not SwiftShader) where there is none.
        '--ignore-gpu-blocklist',
        '--use-angle=gl-egl',
        `--user-data-dir=${join(dataDir, 'chromium-profile')}`,
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--window-position=0,0',
        '--window-size=1920,1080',
        '--disable-features=Translate', // the console is Chinese on purpose: no "translate this page?" bar
        '--autoplay-policy=no-user-gesture-required', // alarms must sound on an unattended wall
        // WebRTC between this machine's own ends (the embedded Kamailio's simulated staff, a call's picture
        // relayed to the video wall window) must work with the network down: loopback candidates allowed.
        '--allow-loopback-in-peer-connection',
        // Chromium refuses to run as root without --no-sandbox; --test-type hides its warning bar on a wall.
        ...(process.getuid?.() === 0 ? ['--no-sandbox', '--test-type'] : []),
      ],
      { stdio: 'ignore', parentDeathSignal: 'SIGTERM' },
    );
    browser.on('exit', (code) => {
      log.info('console window closed; stopping the host', { code });
      void shutdown(0);
    });
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`host failed to start: ${(e as Error).stack ?? String(e)}\n`);
  process.exit(1);
});
