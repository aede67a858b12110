/**
 * `npm run backend -- [options]`: the reference backend and simulated city, standalone (for a room of
 * consoles) or as the console's embedded default.
 */
import { resolve } from 'node:path';
import { parseCli } from '../node-util/cli';
import { createLogger } from '../node-util/logger';
import { startBackend } from './index';
import { lastBeijingTime } from './live-simulator/timing';
import type { ScenarioKind } from './live-simulator/reports';
import { BackendInstance, CAMERA_ID_PATTERN, SipAccount, validate } from '../protocol';
import { describeRefusal } from '../node-util/backend-refusal';
import { isDatabaseUrl } from './store/open';
import { DEFAULT_LIMITS, type ServerLimits } from './wire/limits';
import { importMain } from './import/cli';
import { usersMain } from './users-cli';
import { apiKeysMain } from './auth/api-keys-cli';
import { sampleCityMain } from './import/sample-city';
import { runReadWorker } from './import/read-worker';

const usage = `usage: backend [--port N] [--instance-name NAME] [--db FILE|URL] [--seed N] [--scale X] [--speed X] [--no-sim] [--history-days N] [--replay-days N] [--no-record] [--recordings-dir DIR] [--record-cameras ID,…] [--record-radius M] [--record-severity N] [--record-max N] [--recording-days N] [--recording-quota-gib X] [--start-at HH:MM] [--scenario flood|crowd|fire|traffic[@SECONDS]] [--demo-loop MINUTES] [--sip auto|off|URL] [--sip-field-url URL] [--janus URL] [--broker URL] [--limit NAME=N] [--tokens-file FILE] [--new-tokens] [--webhooks-to-private] [--init] [--json]
  --port N          listen on 127.0.0.1:N (default 7700; 0 picks a free port)
  --instance-name NAME  this instance's name, shown in the consoles' status bar (default host:port; 1-128
                    characters); several instances may serve one PostgreSQL database
  --db FILE|URL     SQLite database (default ./data/backend.sqlite), or a PostgreSQL URL postgres://user@host:port/db
                    (also ZONGZHI_DATABASE_URL); tokens.json is written beside the file (./data/ with a URL)
  --seed N          city seed on a fresh database (default 1)
  --scale X         city size: 1 ≈ 708 grids, 8.5 ≈ 6,000 grids (fresh database only)
  --staff-per-grid  grid staff per grid (default 3)
  --speed X         simulated clock rate (60 = one hour a minute)
  --webhooks-to-private  let source systems' webhooks reach loopback and private addresses (platforms on the
                    city's own network); without it such a webhook is refused and nothing is sent
  --no-sim          serve the city without simulating (no new events, no movement); the simulator runs on an
                    imported city too (events in its grids, staff patrolling inside them)
  --history-days N  days of history generated on a fresh database (default 30)
  --replay-days N   days of city time kept for replay (复盘回放: the change log and its checkpoints; default 30);
                    older ones are pruned hourly. The generated history above has no log: replay starts at the first start
  --no-record       record no camera (also ZONGZHI_RECORDING=off; by default the synthetic cameras being watched are recorded, and on the
                    instance running the city those near serious open events and --record-cameras)
  --recordings-dir DIR  where the recordings and their index.sqlite are (default: recordings/ beside the SQLite file)
  --record-cameras ID,…  cameras always recorded (with nobody watching)
  --record-radius M     cameras within M metres of an open serious event are recorded (default 300)
  --record-severity N   what is serious: severity N (1–4) and above (default 3)
  --record-max N        at most N cameras recorded with nobody watching (default 16; each is an encoder)
  --recording-days N    recordings kept N days (default 7)
  --recording-quota-gib X  recordings kept within X GiB (default min(20, 25 % of the free space)); the oldest
                    go first, and below 2 GiB free too, with a warning to the consoles
  --start-at HH:MM  fresh database only: the simulated clock starts at the last HH:MM Beijing time (UTC+8)
                    instead of now (e.g. show the day shift in an evening demo)
  --scenario K@S    inject a scripted scenario (flood, crowd, fire or traffic) S seconds after start (default 10)
  --demo-loop M     迎检: a scripted incident every M minutes (wall clock; kinds and districts in turn), while simulating
  --sip MODE        calls: auto (start Kamailio from resources/sip when installed; default), off, or the
                    ws(s):// URL of your SIP server (its secret in ZONGZHI_SIP_SECRET)
  --sip-field-url URL  the SIP server's address as field staff's phones reach it (e.g. a public wss://
                    gateway), when not the consoles' address
                    (with --sip auto, simulated field staff answer calls for staff not signed in, in a
                    headless Chromium when installed; ZONGZHI_SIMULATED_STAFF=off turns them off)
  --janus URL       WebRTC camera streams through your Janus server's HTTP API (e.g. http://127.0.0.1:8088/janus,
                    its api_secret in ZONGZHI_JANUS_SECRET); cameras then offer WebRTC first
  --broker URL      the NATS server live positions travel between a city's instances through
                    (nats://user:password@host:4222; also ZONGZHI_BROKER_URL); without it they stay on this instance
  --limit NAME=N    tune a server limit (repeatable), e.g. connectionsPerUser=200 for a wall of displays signed
                    in as one user; names: see backend/wire/limits.ts
  --tokens-file F   where tokens.json is (default beside the SQLite file, ./data/ with a URL); instances of one
                    city share it, or later instances are given no file (the first one's tokens stay valid)
  --new-tokens      make new tokens for every user, replacing tokens.json (consoles need the new ones)
  --init            set the database up (schema, the generated city, users, tokens.json) and exit without serving:
                    the first step before importing a real city
  --json            print {"url","tokensFile"} as one JSON line when ready
exit codes: 0 stopped, 2 bad option, 3 the data or the port needs a person (one line says what), 1 other failures
       backend import grids <file> [options]   import a real city's grids (backend import --help)
       backend users list | users scope <userId> <district>...   console users and their district scopes (backend users --help)
       backend users passwd <userId> [--password-file FILE]   a user's password for signing in (read from stdin or the file)
       backend api-keys create|list|revoke   source systems' API keys (backend api-keys --help)
       backend users field-accounts --out FILE.csv [--district D]   网格员 accounts for the field app, initial passwords to the file
       backend sample-city <dir>   write a generated sample city's files to import (grids, boundaries, staff, cameras, …)`;

async function main(): Promise<void> {
  const cli = parseCli(
    {
      port: { type: 'string' },
      'instance-name': { type: 'string' },
      db: { type: 'string' },
      seed: { type: 'string' },
      scale: { type: 'string' },
      'staff-per-grid': { type: 'string' },
      speed: { type: 'string' },
      'no-sim': { type: 'boolean', default: false },
      'webhooks-to-private': { type: 'boolean', default: false },
      'history-days': { type: 'string' },
      'replay-days': { type: 'string' },
      'no-record': { type: 'boolean', default: false },
      'recordings-dir': { type: 'string' },
      'record-cameras': { type: 'string' },
      'record-radius': { type: 'string' },
      'record-severity': { type: 'string' },
      'record-max': { type: 'string' },
      'recording-days': { type: 'string' },
      'recording-quota-gib': { type: 'string' },
      'start-at': { type: 'string' },
      scenario: { type: 'string' },
      'demo-loop': { type: 'string' },
      sip: { type: 'string', default: 'auto' },
      'sip-field-url': { type: 'string' },
      janus: { type: 'string' },
      'tokens-file': { type: 'string' },
      broker: { type: 'string' },
      limit: { type: 'string', multiple: true },
      'new-tokens': { type: 'boolean', default: false },
      init: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
    },
    usage,
  );
  const args = cli.values;
  // Explicitly typed so calls narrow types like any never-returning function.
  const fail: (message: string) => never = cli.fail;
  const numberOption = (name: string, value: string | undefined, fallback: number, check: (n: number) => boolean): number => {
    if (value === undefined) return fallback;
    const n = Number(value);
    if (!Number.isFinite(n) || !check(n)) fail(`--${name}: invalid value ${JSON.stringify(value)}`);
    return n;
  };
  const instanceName = args['instance-name'];
  if (instanceName !== undefined && !validate(BackendInstance.shape.name, instanceName).ok) fail('--instance-name must be 1-128 characters');
  const scenario = args.scenario ? /^(flood|crowd|fire|traffic)(?:@(\d+))?$/.exec(args.scenario) : null;
  if (args.scenario && !scenario) fail('--scenario must be flood, crowd, fire or traffic, optionally @SECONDS');
  const demoLoopMinutes = args['demo-loop'] === undefined ? undefined : Number(args['demo-loop']);
  if (demoLoopMinutes !== undefined && !(demoLoopMinutes >= 0.5 && demoLoopMinutes <= 24 * 60)) fail('--demo-loop must be minutes between 0.5 and 1440');
  const databaseUrl = args.db !== undefined && isDatabaseUrl(args.db) ? args.db : args.db === undefined ? process.env.ZONGZHI_DATABASE_URL || undefined : undefined;
  if (databaseUrl !== undefined && !isDatabaseUrl(databaseUrl)) fail('ZONGZHI_DATABASE_URL must be a postgres:// URL');
  const dbFile = resolve(args.db === undefined || databaseUrl !== undefined ? 'data/backend.sqlite' : args.db);
  const brokerUrl = args.broker ?? (process.env.ZONGZHI_BROKER_URL || undefined);
  if (brokerUrl !== undefined && !/^nats:\/\/\S+$/.test(brokerUrl)) fail('--broker (or ZONGZHI_BROKER_URL) must be a nats:// URL, e.g. nats://user:password@broker:4222');
  const limits: Partial<ServerLimits> = {};
  for (const entry of args.limit ?? []) {
    const m = /^([A-Za-z]+)=(\d{1,12})$/.exec(entry);
    if (!m || !(m[1]! in DEFAULT_LIMITS) || Number(m[2]) <= 0) fail(`--limit ${entry}: expected NAME=N with NAME one of ${Object.keys(DEFAULT_LIMITS).join(', ')} and N a positive whole number`);
    limits[m[1] as keyof ServerLimits] = Number(m[2]);
  }
  const recordCameras = args['record-cameras']?.split(',').map((id) => id.trim()).filter(Boolean);
  if (recordCameras?.some((id) => !CAMERA_ID_PATTERN.test(id))) fail('--record-cameras must be camera ids separated by commas');
  const recording = {
    ...(args['recordings-dir'] !== undefined ? { dir: resolve(args['recordings-dir']) } : {}),
    ...(recordCameras ? { cameras: recordCameras } : {}),
    radiusM: numberOption('record-radius', args['record-radius'], 300, (n) => n >= 0 && n <= 10_000),
    severity: numberOption('record-severity', args['record-severity'], 3, (n) => Number.isInteger(n) && n >= 1 && n <= 4),
    max: numberOption('record-max', args['record-max'], 16, (n) => Number.isInteger(n) && n >= 0 && n <= 48),
    days: numberOption('recording-days', args['recording-days'], 7, (n) => n > 0 && n <= 3650),
    ...(args['recording-quota-gib'] !== undefined ? { quotaBytes: numberOption('recording-quota-gib', args['recording-quota-gib'], 20, (n) => n > 0 && n <= 1_000_000) * 1024 ** 3 } : {}),
  };
  const startAt = args['start-at'] === undefined ? undefined : /^([01]?\d|2[0-3]):([0-5]\d)$/.exec(args['start-at']);
  if (startAt === null) fail('--start-at must be a time of day HH:MM (Beijing time), e.g. 10:00');
  const sipMode = args.sip ?? 'auto';
  let sip: { url: string; secret: string; fieldUrl?: string } | 'auto' | undefined;
  if (sipMode === 'auto') sip = 'auto';
  else if (sipMode === 'off') sip = undefined;
  else if (validate(SipAccount.shape.url, sipMode).ok) {
    const secret = process.env.ZONGZHI_SIP_SECRET ?? '';
    if (secret.length < 8) fail('--sip URL needs the SIP secret (8+ characters) in ZONGZHI_SIP_SECRET, the same as in the SIP server\'s config');
    const fieldUrl = args['sip-field-url'];
    if (fieldUrl !== undefined && !validate(SipAccount.shape.url, fieldUrl).ok) fail('--sip-field-url must be a ws:// or wss:// URL');
    sip = { url: sipMode, secret, ...(fieldUrl ? { fieldUrl } : {}) };
  } else fail('--sip must be auto, off, or a ws:// or wss:// URL');
  if (args['sip-field-url'] && typeof sip !== 'object') fail('--sip-field-url goes with --sip URL');
  let webrtc: { janusUrl: string; apiSecret: string } | undefined;
  if (args.janus !== undefined) {
    if (!/^https?:\/\/[^/\s]+\/\S*$/.test(args.janus)) fail('--janus must be the http(s):// URL of Janus\'s HTTP API, e.g. http://127.0.0.1:8088/janus');
    webrtc = { janusUrl: args.janus, apiSecret: process.env.ZONGZHI_JANUS_SECRET ?? '' };
  }
  // The console starts its embedded backend with an IPC channel (nothing is sent over it): the channel ends when
  // the console's process ends, however it ends and on every platform (Linux also sends SIGTERM, see
  // node-util/child-process.ts). Still starting: nothing to close yet, and what was started follows us.
  let stop: (() => void) | null = null;
  if (process.send) process.on('disconnect', () => (stop ? stop() : process.exit(0)));
  const backend = await startBackend({
    ...(webrtc ? { webrtc } : {}),
    ...(demoLoopMinutes !== undefined ? { demoLoopMs: Math.round(demoLoopMinutes * 60_000) } : {}),
    dbFile,
    ...(databaseUrl ? { databaseUrl } : {}),
    rotateTokens: args['new-tokens'],
    ...(brokerUrl ? { brokerUrl } : {}),
    ...(Object.keys(limits).length > 0 ? { limits } : {}),
    ...(args['tokens-file'] !== undefined ? { tokensFile: resolve(args['tokens-file']) } : {}),
    // --init serves nothing: any free port, for the moment it is up.
    port: args.init ? 0 : numberOption('port', args.port, 7700, (n) => Number.isInteger(n) && n >= 0 && n <= 65535),
    ...(instanceName !== undefined ? { instanceName } : {}),
    seed: args.seed === undefined ? undefined : numberOption('seed', args.seed, 1, Number.isInteger),
    scale: args.scale === undefined ? undefined : numberOption('scale', args.scale, 1, (n) => n > 0 && n <= 20),
    staffPerGrid: numberOption('staff-per-grid', args['staff-per-grid'], 3, (n) => n >= 0 && n <= 20),
    speed: numberOption('speed', args.speed, 1, (n) => n > 0 && n <= 10_000),
    simulate: !args['no-sim'] && !args.init,
    ...(args['webhooks-to-private'] ? { webhooks: { allowPrivate: true } } : {}),
    ...(startAt ? { startAtMs: lastBeijingTime(Number(startAt[1]), Number(startAt[2]), Date.now()) } : {}),
    historyDays: numberOption('history-days', args['history-days'], 30, (n) => Number.isInteger(n) && n >= 0 && n <= 400),
    history: { keepDays: numberOption('replay-days', args['replay-days'], 30, (n) => Number.isInteger(n) && n >= 1 && n <= 3650) },
    // ZONGZHI_RECORDING=off: as --no-record (the test harness's consoles and backends, unless a test asks).
    ...(args['no-record'] || args.init || process.env.ZONGZHI_RECORDING === 'off' ? {} : { recording }),
    ...(sip && !args.init ? { sip } : {}),
    // The demo's simulated field staff run a headless Chromium: ZONGZHI_SIMULATED_STAFF=off saves it (tests).
    ...(process.env.ZONGZHI_SIMULATED_STAFF === 'off' ? { simulatedStaff: false as const } : {}),
    log: createLogger('backend'),
    // Uploads are read in a worker thread running this same script (with the loader flags it runs under).
    importWorker: process.argv[1]!,
  });
  const tokensFile = args['tokens-file'] !== undefined ? resolve(args['tokens-file']) : resolve(dbFile, '../tokens.json');
  if (args.init) {
    await backend.close();
    // A PostgreSQL URL's password is never printed.
    const database = databaseUrl ? databaseUrl.replace(/\/\/[^@/]*@/, '//…@') : dbFile;
    if (args.json) process.stdout.write(JSON.stringify({ database, tokensFile }) + '\n');
    else process.stdout.write(`数据库已就绪 database ready: ${database}  (tokens: ${tokensFile})\n`);
    process.exit(0);
  }
  if (args.json) process.stdout.write(JSON.stringify({ url: backend.url, port: backend.port, tokensFile }) + '\n');
  else process.stdout.write(`综治 reference backend: ${backend.url}  (tokens: ${tokensFile})\n`);
  if (scenario) {
    setTimeout(() => backend.injectScenario(scenario[1] as ScenarioKind).catch((e: unknown) => process.stderr.write(`scenario failed: ${(e as Error).message}\n`)), Number(scenario[2] ?? 10) * 1000);
  }
  let stopping = false;
  stop = (): void => {
    if (stopping) return;
    stopping = true;
    // A close that hangs must not leave an orphaned backend (and what it started) running.
    setTimeout(() => process.exit(1), 10_000).unref();
    void backend.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

const subcommands: Record<string, (argv: string[]) => Promise<number>> = { import: importMain, users: usersMain, 'api-keys': apiKeysMain, 'sample-city': sampleCityMain };
const subcommand = subcommands[process.argv[2] ?? ''];
// This same script is the backend's import worker (import/read-worker.ts): then it does that alone.
if (runReadWorker()) {
  /* reading an upload's files for the backend's thread */
} else if (subcommand) {
  subcommand(process.argv.slice(3)).then(
    (code) => process.exit(code),
    (e: unknown) => {
      process.stderr.write(`${(e as Error).stack ?? String(e)}\n`);
      process.exit(1);
    },
  );
} else main().catch((e: unknown) => {
  // The contract with whoever started us (node-util/backend-refusal.ts): one line, last; an unexpected error's stack before it, for the log.
  const refusal = describeRefusal(e);
  if (refusal.code === 'start-failed') process.stderr.write(`${(e as Error).stack ?? String(e)}\n`);
  process.stderr.write(`${refusal.line}\n`);
  process.exit(refusal.exitCode);
});
