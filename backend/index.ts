/**
 * Starts the reference backend: store, generated city (first start: seeded with 30 days of history run
 * through the real command handlers), then its services in order — SIP server, camera streams, the wire
 * protocol server, simulated field staff, city life (simulator, KPI refresh: city-life.ts) — stopped in reverse
 * by close().
 * Used by the CLI, the console's embedded mode and the tests.
 */
import { dirname, join } from 'node:path';
import { existsSync, mkdirSync } from 'node:fs';
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { SipAccount } from '../protocol';
import { createLogger, silentLogger } from '../node-util/logger';
import { SimClock } from './clock';
import { CityState } from '../domain';
import { openStore } from './store/open';
import { BackendServer } from './wire/server';
import { advertiseWebRtc, eventIdFactory, setUpCity, stateLocator } from './city-setup';
import { cityLayerRoutes } from './city-layers';
import { keyPersonRoutes } from './key-persons';
import { authRoutes } from './auth/routes';
import { importRoutes } from './import/http-route';
import { auditRoutes } from './audit/http-route';
import { adminUsersRoutes } from './admin-users';
import { adminApiKeysRoutes } from './admin-api-keys';
import { ApiKeys } from './auth/api-keys';
import { apiV1Routes } from './auth/api-keys-route';
import { attachmentRoutes } from './attachments/routes';
import { ingestRoutes } from './ingest/routes';
import { Webhooks } from './ingest/webhooks';
import { AlarmService } from './duty/alarm-service';
import { HistoryService } from './history/service';
import { historyRoutes } from './history/routes';
import { callsRoutes } from './history/calls-route';
import { TrackRecorder } from './history/tracks';
import { trackRoutes } from './history/track-routes';
import { replayRoutes } from './history/replay-routes';
import { SCENARIO_NAMES, type ScenarioKind } from './live-simulator/reports';
import { DemoLoop } from './live-simulator/demo-loop';
import { workerReader } from './import/read-worker';
import { ViewerTickets } from './video/viewer-tickets';
import { CameraStreams } from './video/camera-streams';
import { WebRtcStreams } from './video/webrtc-streams';
import { Recorder, ownCamera } from './video/recorder';
import { ReadLimits } from './history/read-route';
import { recordingRoutes } from './video/recordings-http';
import { KAMAILIO_BINARY, SIP_REALM, sipPassword, startKamailio, type RunningKamailio } from './sip/kamailio';
import { ensureSimulatedStaffAccount, fieldRoutes, findFieldAssets, SIMULATED_STAFF_USER } from './sip/field';
import { consoleAppGate } from './auth/apps';
import { departmentRoutes, findDepartmentAssets } from './department-api';
import { fieldApiRoutes } from './field/api';
import { startFieldSimulator, type FieldSimulator } from './sip/field-simulator';
import { findChromium } from '../node-util/chromium';
import { CityLife } from './city-life';
import { startServices, type BackendService } from './services';
import { openPositionBus, type PositionBus } from './cluster/position-bus';
import { PositionsRelay } from './cluster/positions-relay';
import type { BackendConfig, RunningBackend } from './config';

export type { BackendConfig, RunningBackend } from './config';

/** A staff member whose phone sent a position within this long is not moved by the simulator. */
export const PHONE_POSITION_KEEPS_MS = 60_000;

export async function startBackend(config: BackendConfig): Promise<RunningBackend> {
  const log = config.log ?? silentLogger;
  if (config.startAtMs !== undefined && !(config.startAtMs <= Date.now())) throw new Error('the simulated clock cannot start in the future');
  if (!config.databaseUrl) mkdirSync(dirname(config.dbFile), { recursive: true });
  const store = await openStore(config.databaseUrl ?? config.dbFile);
  // Set up once, whichever instance of a city starts first: the others wait, then find the city there.
  const { tokens, storedCity, cityParams, city } = await store.exclusively(() => setUpCity(store, config, log));

  const loaded = await store.load();
  const state = new CityState(loaded.state, loaded.seq);
  const storedSim = Number(await store.getMeta('simTime'));
  // A fresh city starts at the chosen start; a known one at the later of where it stopped and now (never backwards).
  const wallNow = config.wallClock ?? Date.now;
  const clock = new SimClock(config.speed ?? 1, !storedCity && config.startAtMs !== undefined ? config.startAtMs : Math.max(storedSim > 0 ? storedSim : 0, wallNow()), wallNow);
  const newId = eventIdFactory(state, () => clock.nowMs());
  // A stream opens with the viewer's ticket (its welcome's): a live sign-in, the camera in the user's scope.
  const tickets = await ViewerTickets.load(store, { grids: state, cameraById: (id) => state.get('cameras', id) });
  const gate = tickets.gate((entries) => store.audit(entries));
  // The recorder taps the MPEG-TS sources only: a camera watched over HLS or WHEP has its source pinned meanwhile.
  const recorded = (id: string): boolean => {
    const camera = state.get('cameras', id);
    return recorder !== null && camera !== undefined && ownCamera(camera);
  };
  const video = new CameraStreams({ cameraById: (id) => state.get('cameras', id), log, gate, pinHlsWatched: recorded, ...(config.ffmpegPath ? { ffmpegPath: config.ffmpegPath } : {}) });
  const webrtcWatched = { feedStarted: (id: string) => void (recorded(id) && video.pin(id, 'webrtc')), feedStopped: (id: string) => video.unpin(id, 'webrtc') };
  const webrtc = config.webrtc ? new WebRtcStreams({ cameraById: (id) => state.get('cameras', id), log, gate, janus: { url: config.webrtc.janusUrl, apiSecret: config.webrtc.apiSecret }, ...webrtcWatched, ...(config.ffmpegPath ? { ffmpegPath: config.ffmpegPath } : {}) }) : null;
  const recorder = openRecorder();
  const recordings = recordingRoutes({ index: () => recorder?.index ?? null, cameraById: (id) => state.get('cameras', id), gate, log, audit: (userId, detail) => store.audit([{ at: new Date().toISOString(), userId, kind: 'history-read', detail: { what: 'recording', ...detail } }]), ...(config.ffmpegPath ? { ffmpegPath: config.ffmpegPath } : {}) });
  const cityRoutes = cityLayerRoutes(store, city.buildings);
  const keyPersons = keyPersonRoutes(store, state);
  const auditRead = auditRoutes(store);
  const usersAdmin = adminUsersRoutes({ store, state, closeUser: (id, code, why) => server.closeUser(id, code, why) });
  const apiKeysAdmin = adminApiKeysRoutes(store);
  const apiKeys = new ApiKeys(store);
  // The ingest API (backend/ingest/): reports from source systems run through the command pipeline.
  const apiV1 = apiV1Routes(apiKeys, ingestRoutes({ keys: apiKeys, store, state, allowPrivate: config.webhooks?.allowPrivate === true, locate: stateLocator(state), submit: (actor, id, type, payload) => server.submit(actor, id, type, payload) }));
  const attachments = attachmentRoutes({ store, state, apiKeys, tools: { ffmpegPath: config.ffmpegPath ?? 'ffmpeg', ffprobePath: config.ffprobePath ?? 'ffprobe' } });
  const imports = importRoutes({ store, commitPlanned: (work) => server.commitPlanned(work), log, ...(config.importWorker ? { read: workerReader(config.importWorker) } : {}) });
  let kamailio: RunningKamailio | null = null;
  let sip: { url: string; secret: string; fieldUrl?: string } | null = config.sip === 'auto' || config.sip === undefined ? null : config.sip;
  /** Consoles get the SIP server's address; field staff its fieldUrl when set (how phones outside reach it). */
  const sipAccountFor = (userId: string, audience: 'console' | 'field' = 'console'): SipAccount | null => {
    if (!sip || !/^[A-Za-z0-9_.-]{1,64}$/.test(userId)) return null;
    const url = audience === 'field' ? (sip.fieldUrl ?? sip.url) : sip.url;
    // One domain for everyone (the consoles'), whichever address a client connects to.
    return { url, username: userId, password: sipPassword(sip.secret, userId), realm: SIP_REALM, domain: new URL(sip.url).hostname };
  };
  const fieldAssetsDir = config.fieldAssetsDir === undefined ? findFieldAssets() : config.fieldAssetsDir;
  /** When each staff member's phone last sent a position (wall clock): the simulator leaves them to it for a while. */
  const phones = new Map<string, number>();
  const ownPhone = (staffId: string): boolean => {
    const at = phones.get(staffId);
    if (at === undefined) return false;
    if (Date.now() - at < PHONE_POSITION_KEEPS_MS) return true;
    phones.delete(staffId);
    return false;
  };
  // The server (and its Auth) is made below: read when a request comes.
  const sessions = { check: (token: string) => server.auth.check(token) };
  const field = fieldRoutes({
    auth: sessions,
    store,
    sipAccountFor: (user) => sipAccountFor(user, 'field'),
    staffById: (id) => state.get('staff', id),
    openEventsOf: (staffId) => state.openEvents.ofStaff(staffId),
    signedInUsers: () => server.signedInUsers(),
    categories: () => [...state.collections.rules.values()].map((r) => ({ id: r.category, name: r.categoryName })),
    departments: () => [...state.collections.departments.values()].map((d) => ({ id: d.id, name: d.name })),
    assetsDir: fieldAssetsDir,
    api: fieldApiRoutes({
      auth: sessions,
      store,
      state,
      submit: (actor, commandId, type, payload) => server.submit(actor, commandId, type, payload),
      locate: stateLocator(state),
      commitSystemChanges: (build) => server.commitSystemChanges(build),
      // The phones' positions go the simulator's way: this instance's consoles, and the others through the broker.
      // A phone's staff member is left alone by the simulator wherever it posted (the relay says so on every instance).
      positions: (at, items) => relay.made(at, items, 'phones'),
      now: () => clock.now(),
    }),
  });
  // Who answers, in every welcome: a fresh id per start, and a name (host:port unless given, once listening).
  const instance = { id: `${hostname().slice(0, 40)}-${randomBytes(8).toString('hex')}`, name: config.instanceName ?? hostname().slice(0, 120) };
  const server = new BackendServer({
    instance,
    store,
    state,
    clock,
    log,
    locate: stateLocator(state),
    newId,
    port: config.port ?? 0,
    // The console's routes refuse a field or liaison account's token (backend/auth/apps.ts); theirs are their own, and
    // source systems' (API keys) are /api/v1/.
    httpRoutes: (req, res) => signIn(req, res) || field(req, res) || department(req, res) || apiV1(req, res) || consoleRoutes(req, res),
    upgradeRoutes: (req, socket, head) => video.handleUpgrade(req, socket, head),
    sipAccountFor: (userId) => sipAccountFor(userId),
    health: (): Record<string, unknown> => ({ lead: life.leading }),
    ...(config.limits ? { limits: config.limits } : {}),
    ...(config.auth ? { auth: config.auth } : {}),
    streamTicket: (tokenHash) => tickets.of(tokenHash),
    sessionEnded: (tokenHash) => tickets.forget(tokenHash),
  });
  const signIn = authRoutes(server.auth, store);
  const department = departmentRoutes({ auth: sessions, store, state, assetsDir: config.fieldAssetsDir === undefined ? findDepartmentAssets() : config.fieldAssetsDir, submit: (actor, commandId, type, payload) => server.submit(actor, commandId, type, payload) });
  const consoleRoutes = consoleAppGate(store, (req, res) => cityRoutes(req, res) || keyPersons(req, res) || auditRead(req, res) || historyRead(req, res) || replayRead(req, res) || trackRead(req, res) || callsRead(req, res) || usersAdmin(req, res) || apiKeysAdmin(req, res) || attachments(req, res) || imports(req, res) || (webrtc?.handleHttp(req, res) ?? false) || video.handleHttp(req, res) || recordings(req, res));

  // The city's life (simulator, KPIs) runs on the instance that holds the store's lead (city-life.ts).
  const life = new CityLife({
    server,
    store,
    state,
    clock,
    log,
    city,
    seed: cityParams.seed,
    relay: () => relay,
    simulate: config.simulate !== false,
    ownPhone,
    tickMs: config.tickMs ?? 1000,
    kpiIntervalMs: config.kpiIntervalMs ?? 10_000,
  });
  const { engine } = life;
  // Only the instance that runs the city life (holds the store's lead) delivers webhooks.
  const webhooks = new Webhooks({ store, state, log, leading: () => life.leading, ...config.webhooks });
  const injectScenario = async (kind: ScenarioKind, districtId?: string): Promise<string[]> => {
    const ids = await engine.injectScenario(kind, clock.nowMs(), districtId);
    server.notice('warning', `模拟场景：${SCENARIO_NAMES[kind]}，已生成 ${ids.length} 条事件`);
    return ids;
  };
  // 迎检: a scripted incident every few minutes, on the leading instance (live-simulator/demo-loop.ts).
  const demoLoop =
    config.demoLoopMs && config.simulate !== false
      ? new DemoLoop({
          everyMs: config.demoLoopMs,
          districts: () => [...state.all('adminUnits')].filter((u) => u.level === 'district').map((u) => u.id).sort(),
          leading: () => life.leading,
          inject: injectScenario,
          onError: (e) => log.error('demo loop incident failed', { error: (e as Error).stack }),
        })
      : null;
  // The history kept for replay (backend/history/): checkpoints and retention on the leader, past states read anywhere.
  const history = new HistoryService({ store, state, clock, log, leading: () => life.leading, ...config.history });
  const readLimits = new ReadLimits();
  const historyRead = historyRoutes({ store, clock, history, limits: readLimits });
  const replayRead = replayRoutes({ store, clock, history, limits: readLimits });
  // The calls consoles logged (call.log), for replay and the 复盘 report: GET /calls.
  const callsRead = callsRoutes({ store, state, limits: readLimits });
  // Staff tracks (backend/history/tracks.ts): recorded on the leader from the positions relay's broadcast, read anywhere.
  const tracks = new TrackRecorder({ store, state, clock, log, keepDays: history.keepDays, leading: () => life.leading, ...config.tracks });
  const trackRead = trackRoutes({ store, state, clock, tracks, keepDays: () => history.keepDays, limits: readLimits });
  // The alarm system too: raised, escalated and cleared once for the center (backend/duty/alarm-service.ts).
  const alarms = new AlarmService({ state, clock, log, leading: () => life.leading, submit: (actor, commandId, type, payload) => server.submit(actor, commandId, type, payload), ...(config.alarms || {}) });

  let simulator: FieldSimulator | null = null;
  // Started in this order, stopped in reverse (backend/services.ts).
  const broadcast = (at: string, items: Parameters<typeof server.broadcastPositions>[1], whole?: Buffer): void => {
    server.broadcastPositions(at, items, whole);
    tracks.saw(at, items);
  };
  const phonesSeen = (ids: readonly string[]): void => {
    for (const id of ids) phones.set(id, Date.now());
  };
  let relay = new PositionsRelay({ bus: null, state, log, broadcast, phones: phonesSeen });
  let bus: PositionBus | null = null;
  const services: BackendService[] = [
    {
      name: 'position broker',
      async start() {
        if (!config.brokerUrl) {
          if (config.databaseUrl) log.warn('no position broker (--broker): live positions stay on this instance; several instances of a city need one');
          return;
        }
        bus = await openPositionBus({ url: config.brokerUrl, instanceId: instance.id.replace(/[^A-Za-z0-9._-]/g, '-').slice(0, 64), log });
        relay = new PositionsRelay({ bus, state, log, broadcast, phones: phonesSeen });
      },
      async stop() {
        relay.close();
        await bus?.close();
      },
    },
    {
      name: 'SIP server (Kamailio)',
      async start() {
        if (config.sip !== 'auto') return;
        if (!existsSync(KAMAILIO_BINARY)) return void log.warn('Kamailio is not installed: calls are off (apt-get install kamailio kamailio-websocket-modules)');
        try {
          // Kept with the city: the SIP passwords (derived from it) stay valid across restarts.
          let secret = await store.getMeta('sipSecret');
          if (!secret) await store.setMeta('sipSecret', (secret = randomBytes(18).toString('base64url')));
          const preferredPort = Number(await store.getMeta('sipPort')) || undefined;
          kamailio = await startKamailio({ secret, simulatedStaff: config.simulatedStaff !== false, ...(preferredPort ? { preferredPort } : {}) });
          await store.setMeta('sipPort', String(kamailio.port));
          sip = { url: kamailio.url, secret: kamailio.secret };
          log.info('SIP server started', { url: kamailio.url });
        } catch (e) {
          log.warn('SIP server could not start: calls are off', { error: (e as Error).message });
        }
      },
      stop: async () => kamailio?.stop(),
    },
    {
      name: 'camera streams',
      start: async () => {},
      async stop() {
        await video.close();
        await webrtc?.close();
      },
    },
    {
      name: 'wire protocol server',
      async start() {
        await life.refreshKpis();
        // Cameras offer WebRTC exactly when this backend can serve it (a Janus is configured), best first.
        // And name their recordings (复盘回放) when this backend records them.
        await server.commitSystemChanges(() => advertiseWebRtc(state, webrtc !== null, recorder !== null));
        await server.start();
        if (config.instanceName === undefined) instance.name = `${hostname().slice(0, 120)}:${server.port}`;
        log.info('backend listening', { url: server.url, seq: state.seq, speed: clock.rate, instance });
      },
      stop: () => server.close(),
    },
    {
      name: 'simulated field staff',
      async start() {
        if (sip && fieldAssetsDir) {
          log.info('field client (外勤端) ready: staff sign in with field accounts (npm run backend -- users field-accounts --out FILE.csv, or 用户管理)', { url: `http://127.0.0.1:${server.port}/field/` });
        }
        if (!kamailio || !sip || config.simulatedStaff === false) return;
        const chromium = findChromium();
        if (!chromium) log.warn('Chromium is not installed: no simulated field staff answer calls (apt-get install chromium)');
        else if (!fieldAssetsDir) log.warn('the field page is not built: no simulated field staff answer calls (npm run build)');
        else {
          // A fresh password each start, only in memory and in the fragment its own Chromium gets (never sent, never logged).
          const password = await ensureSimulatedStaffAccount(store);
          simulator = startFieldSimulator({ chromium, pageUrl: `http://127.0.0.1:${server.port}/field/?simulate=1#${encodeURIComponent(SIMULATED_STAFF_USER)}:${encodeURIComponent(password)}`, log });
        }
      },
      stop: async () => simulator?.stop(),
    },
    // After the camera streams: stopped before them (the open segments closed while the encoders still run).
    { name: 'camera recording', start: async () => recorder?.start(), stop: async () => recorder?.stop() },
    // Before the city life: stopped after it, so the last tick's positions are in the last write.
    { name: 'staff tracks', start: async () => tracks.start(), stop: () => tracks.stop() },
    life.service(),
    { name: 'replay history', start: () => history.start(), stop: () => history.stop() },
    { name: 'ingest webhooks', start: async () => webhooks.start(), stop: () => webhooks.stop() },
    { name: 'alarms', start: async () => (config.alarms === false ? undefined : alarms.start()), stop: () => alarms.stop() },
    { name: 'demo loop', start: async () => demoLoop?.start(), stop: async () => demoLoop?.stop() },
  ];
  let stopServices: () => Promise<void>;
  try {
    stopServices = await startServices(services, log);
  } catch (e) {
    await store.close();
    throw e;
  }

  return {
    url: server.url,
    port: server.port,
    tokens,
    server,
    store,
    state,
    clock,
    city,
    engine,
    video,
    sipAccountFor,
    tickets,
    alarms,
    history,
    recorder,
    tracks,
    demoLoop,
    leading: () => life.leading,
    tick: () => life.tick(),
    refreshKpis: () => life.refreshKpis(),
    injectScenario,
    async close() {
      await stopServices();
      await store.close();
    },
  };

  /**
   * The camera recorder (backend/video/recorder.ts) when configured: the watched cameras, and on the leading
   * instance those near serious open events and the configured ones. A folder that cannot be used leaves
   * recording off, said in the log.
   */
  function openRecorder(): Recorder | null {
    if (!config.recording) return null;
    const dir = config.recording.dir ?? join(dirname(config.dbFile), 'recordings');
    try {
      return new Recorder(
        { ...config.recording, dir },
        {
          streams: video,
          cameras: () => state.all('cameras'),
          cameraById: (id) => state.get('cameras', id),
          events: () => state.all('events'),
          cityNow: () => clock.nowMs(),
          rate: () => clock.rate,
          leading: () => life.leading,
          notice: (level, message) => server.notice(level, message),
          log,
        },
      );
    } catch (e) {
      log.warn('camera recording is off: its folder cannot be used', { dir, error: (e as Error).message });
      return null;
    }
  }
}

export { createLogger };
