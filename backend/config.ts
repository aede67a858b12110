/** What the reference backend is started with, and what a started one offers its caller (backend/index.ts). */
import type { SipAccount } from '../protocol';
import type { CityState } from '../domain';
import type { Logger } from '../node-util/logger';
import type { SimClock } from './clock';
import type { RunningStore } from './store/open';
import type { BackendServer, ServerLimits } from './wire/server';
import type { City } from './city-generator/city';
import type { AuthLimits } from './auth/sessions';
import type { AlarmService } from './duty/alarm-service';
import type { HistoryOptions, HistoryService } from './history/service';
import type { TrackOptions, TrackRecorder } from './history/tracks';
import type { ScenarioKind } from './live-simulator/reports';
import type { DemoLoop } from './live-simulator/demo-loop';
import type { ViewerTickets } from './video/viewer-tickets';
import type { CameraStreams } from './video/camera-streams';
import type { Recorder, RecorderOptions } from './video/recorder';
import type { SimulationEngine } from './live-simulator/engine';

export interface BackendConfig {
  /** SQLite file (created with its directory); tokens.json is written beside it. */
  dbFile: string;
  /** A PostgreSQL URL: the store lives there instead of in dbFile (several instances may share it, see README 城市级部署). */
  databaseUrl?: string;
  port?: number;
  /**
   * The broker live positions travel between the instances of a city through (nats://user:password@host:port).
   * Absent: positions stay on this instance (one instance; fine for SQLite and a single PostgreSQL instance).
   */
  brokerUrl?: string;
  /** This instance's name for people (consoles show it); default host:port. Its id is new with every start. */
  instanceName?: string;
  seed?: number;
  scale?: number;
  staffPerGrid?: number;
  /** Simulated clock rate: 1 = real time, 60 = an hour a minute. */
  speed?: number;
  /** The wall clock the simulated clock runs on (tests: a fake one they move on; default Date.now). */
  wallClock?: () => number;
  /** 迎检: a scripted incident this often (wall-clock ms, at least 10 s; with the simulator only). Default none. */
  demoLoopMs?: number;
  /**
   * The alarm system (backend/duty/alarm-service.ts): how often it looks (default every second); false: it does
   * not look by itself (tests that drive everything themselves call `alarms.run()`).
   */
  alarms?: { pollMs?: number } | false;
  /** Run the living city (events, staff, departments). Off for tests that drive everything themselves. */
  simulate?: boolean;
  /** Days of history generated on a fresh database. */
  historyDays?: number;
  /**
   * Where the simulated clock starts on a fresh database (epoch ms, not in the future; default now): a demo of
   * the day shift in the evening, or tests that need the same duty roster whenever they run.
   */
  startAtMs?: number;
  /** Fixed tokens per user id (tests, deployments); otherwise random ones are written to tokensFile. */
  tokens?: Record<string, string>;
  tokensFile?: string | null;
  /** Make new tokens for every user even though tokensFile exists (--new-tokens). */
  rotateTokens?: boolean;
  log?: Logger;
  limits?: Partial<ServerLimits>;
  tickMs?: number;
  /** The encoder for the synthetic cameras and attachments' video thumbnails (default: ffmpeg on the PATH). */
  ffmpegPath?: string;
  /** What measures uploaded videos and voice notes (default: ffprobe on the PATH). */
  ffprobePath?: string;
  /**
   * The SIP server for calls: its WebSocket URL and the secret shared with it (users' SIP passwords derive
   * from it), or 'auto' to start Kamailio from resources/sip when it is installed. Absent: no calls.
   */
  sip?: { url: string; secret: string; fieldUrl?: string } | 'auto';
  /**
   * WebRTC camera streams through a Janus server (its HTTP API and API secret): cameras then offer WebRTC
   * first. Absent: no WebRTC (MPEG-TS and HLS only). Janus ignores loopback: it needs a real interface.
   */
  webrtc?: { janusUrl: string; apiSecret: string };
  /**
   * Simulated field staff answering calls for staff who are not signed in (headless Chromium running the
   * field page; demo). 'auto' (default with sip 'auto'): when Chromium is installed and the page is built.
   */
  simulatedStaff?: 'auto' | false;
  /** Where the built pages are: field.html, department.html (default: found next to the build, backend/pages/page-assets.ts). */
  fieldAssetsDir?: string | null;
  kpiIntervalMs?: number;
  /**
   * The script an import worker thread runs (import/read-worker.ts): the backend's entry, which serves as the
   * worker when it finds itself in one. Without it (a backend inside another program, tests), an administrator's
   * upload is read on the serving thread.
   */
  importWorker?: string;
  /** Sign-in sessions' idle and absolute limits, lockout and its back-off (backend/auth/sessions.ts). */
  auth?: Partial<AuthLimits>;
  /** The ingest API's webhooks (backend/ingest/webhooks.ts): how often the outbox is looked at, the retry delays, a try's timeout, the days ended deliveries are kept (30), the clock (tests). */
  /**
   * The history kept for replay (backend/history/service.ts): days of city time kept (30), how often the leader
   * looks (5 s; 0: only when `history.run()` is called, tests), the checkpoint cadence (an hour of city time, 2,000 batches).
   */
  history?: HistoryOptions;
  /** Staff tracks (backend/history/tracks.ts): the simplification's tolerance (2 m; 0 keeps every point), city seconds between points taken (1: every position heard), wall ms between writes (60 s; 0: only on flush(), tests). */
  tracks?: TrackOptions;
  webhooks?: { pollMs?: number; retryDelaysMs?: number[]; timeoutMs?: number; allowPrivate?: boolean; keepDays?: number; now?: () => number };
  /**
   * Camera recording for replay (backend/video/recorder.ts): the segments' folder (default `recordings` beside the
   * SQLite file), which cameras, retention. Absent: nothing is recorded (the CLI records by default).
   */
  recording?: Omit<RecorderOptions, 'dir'> & { dir?: string };
}


export interface RunningBackend {
  url: string;
  port: number;
  tokens: Record<string, string>;
  server: BackendServer;
  store: RunningStore;
  state: CityState;
  clock: SimClock;
  city: City;
  engine: SimulationEngine;
  /** The synthetic cameras' live streams (ffmpeg per watched camera). */
  video: CameraStreams;
  /** The SIP account of a user (what the welcome carries), null without a SIP server. */
  sipAccountFor(userId: string): SipAccount | null;
  /** The viewer tickets of camera streams (what each welcome carries; video/viewer-tickets.ts). */
  tickets: ViewerTickets;
  /** 迎检's loop when configured (its `next()` injects the next incident now: tests). */
  demoLoop: DemoLoop | null;
  /** The alarm system (its `run()` does a round now: tests). */
  alarms: AlarmService;
  /** The history kept for replay: `reader.stateAt(T)`, `checkpoint()`, `prune()`, `run()` (tests, the bench). */
  history: HistoryService;
  /** The camera recorder when recording (its index, `pick()`, `retention()`: tests, the bench). */
  recorder: Recorder | null;
  /** The staff tracks' recorder: `flush()`, `prune()`, `read()` (tests, the bench). */
  tracks: TrackRecorder;
  /** Whether this instance runs the city life now (it holds the store's lead). */
  leading(): boolean;
  /** Runs one simulator tick now (tests). */
  tick(): Promise<void>;
  refreshKpis(): Promise<void>;
  injectScenario(kind: ScenarioKind, districtId?: string): Promise<string[]>;
  close(): Promise<void>;
}
