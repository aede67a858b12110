/**
 * One Hub API contract, checked against both bridges: the browser host's WebSocket (real server, real socket)
 * and Electron IPC (the real preload and IPC binding, with the Electron pair faked). Each case runs on a real
 * hub with its settings file in a temp dir.
 */
import { afterEach, describe, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Hub, SETTINGS_FILE_NAME } from '../../hub';
import type { LinkOutbox } from '../../hub/link-ports';
import { startBrowserHost, type BrowserHost } from '../../host/server';
import { bindHubIpc } from '../../electron/ipc';
import { buildPreloadApi } from '../../preload/api';
import { createHubClient, HubError, type HubApi, type HubTransport, type ConnectionState, type Settings, DEFAULT_MAP_SOURCES, type DisplayRole, type OutboxEntry, type ReplayState, type WallRequestState } from '../../protocol';
import { connectWsTransport } from '../../renderer/src/transports/ws-transport';
import { createIpcTransport } from '../../renderer/src/transports/ipc-transport';
import { FakeIpcMain, FakeIpcRenderer, FakeWebContents } from '../../harness/fake-electron';
import { waitFor } from '../../harness/temp';
import { it } from '../../harness/fixtures';

interface BridgeFixture {
  /** A new window/page connected to the shared hub: its API and the raw transport under it. */
  /** A window of the console; closeWindow closes it like its user would (the socket, the Electron window). */
  open(role?: DisplayRole): Promise<{ api: HubApi; transport: HubTransport; closeWindow: () => void }>;
  close(): Promise<void>;
}

type BridgeFactory = (hub: Hub, rendererDir: string) => Promise<BridgeFixture>;

const websocketBridge: BridgeFactory = async (hub, rendererDir) => {
  const host: BrowserHost = await startBrowserHost({ hub, rendererDir });
  const opened: HubApi[] = [];
  return {
    async open(role = 'kpi') {
      const transport = await connectWsTransport({ origin: host.origin, token: host.token, role });
      const api = createHubClient(transport, 'websocket');
      opened.push(api);
      return { api, transport, closeWindow: () => api.close() };
    },
    async close() {
      for (const api of opened) api.close();
      await host.close();
    },
  };
};

const ipcBridge: BridgeFactory = async (hub) => {
  const ipcMain = new FakeIpcMain();
  const roles = new Map<number, DisplayRole>();
  const unbind = bindHubIpc({ ipcMain, hub, trustedOrigin: 'app://console', roleOf: (c) => roles.get(c.id) ?? null });
  const opened: HubApi[] = [];
  return {
    async open(role = 'kpi') {
      const contents = new FakeWebContents(`app://console/index.html?role=${role}`);
      roles.set(contents.id, role);
      const transport = createIpcTransport(buildPreloadApi(new FakeIpcRenderer(ipcMain, contents)));
      const api = createHubClient(transport, 'ipc');
      opened.push(api);
      return { api, transport, closeWindow: () => contents.destroy() };
    },
    async close() {
      for (const api of opened) api.close();
      unbind();
    },
  };
};

describe.each([
  ['websocket', websocketBridge],
  ['ipc', ipcBridge],
] as const)('Hub API conformance over %s', (bridgeName, makeBridge) => {
  let temp: { dir: string };
  let hub: Hub;
  let bridge: BridgeFixture;

  // The hub in the test's temp dir (the `newHub` fixture: closed after the test, after the bridge, the dir removed).
  it.beforeEach(async ({ dataDir, newHub }) => {
    temp = { dir: dataDir };
    hub = newHub({ dataDir, version: '9.9.9-test' });
    bridge = await makeBridge(hub, temp.dir);
  });
  afterEach(async () => {
    await bridge.close();
  });

  it('hello names the API version, the bridge and the window role', async () => {
    const { api } = await bridge.open();
    const hello = await api.hello();
    expect(hello).toMatchObject({ apiVersion: 1, hubVersion: '9.9.9-test', bridge: bridgeName, displayRole: 'kpi' });
    expect(Date.parse(hello.hubStartedAt)).toBeGreaterThan(0);
  });

  it('settings start at the defaults, persist to disk, and reach every subscribed window', async () => {
    const a = await bridge.open();
    const b = await bridge.open();
    expect(await a.api.getSettings()).toEqual({ locale: 'zh-CN', theme: 'day', backendUrl: null, map: DEFAULT_MAP_SOURCES, attachmentCacheMiB: 512, recordCalls: false });
    const seenByB: Settings[] = [];
    await b.api.subscribe({ topic: 'settings' }, (s) => seenByB.push(s));
    const updated = await a.api.updateSettings({ locale: 'en', backendUrl: 'wss://backend.example:8443/ws' });
    expect(updated).toEqual({ locale: 'en', theme: 'day', backendUrl: 'wss://backend.example:8443/ws', map: DEFAULT_MAP_SOURCES, attachmentCacheMiB: 512, recordCalls: false });
    await waitFor(() => seenByB.some((s) => s.locale === 'en'), 'the settings update in the other window');
    expect(JSON.parse(readFileSync(join(temp.dir, SETTINGS_FILE_NAME), 'utf8'))).toEqual(updated);
    // A restarted hub reads the same settings back.
    expect(new Hub({ dataDir: temp.dir, version: 'x' }).settings.settings.value).toEqual(updated);
  });

  it('refuses invalid settings with the failing field, and changes nothing', async () => {
    const { api } = await bridge.open();
    await api.updateSettings({ theme: 'night' });
    const before = readFileSync(join(temp.dir, SETTINGS_FILE_NAME), 'utf8');
    const badList = { backendUrl: ['ws://10.0.0.5:7700/ws', 'http://10.0.0.6:7700/ws'] };
    for (const bad of [{ locale: 'fr' }, { backendUrl: 'http://not-a-websocket' }, badList, { unknownKey: 1 }] as const) {
      const error = await api.updateSettings(bad as never).then(
        () => null,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(HubError);
      expect((error as HubError).code).toBe('invalid-params');
      expect((error as HubError).issues?.length).toBeGreaterThan(0);
      // A bad entry of a list of instances: the person who typed it reads which one, and why, in Chinese.
      if (bad === badList) expect((error as HubError).message).toContain('backendUrl.1: 后台地址「http://10.0.0.6:7700/ws」无效：须以 ws:// 或 wss:// 开头');
    }
    expect(readFileSync(join(temp.dir, SETTINGS_FILE_NAME), 'utf8')).toBe(before);
    expect((await api.getSettings()).theme).toBe('night');
  });

  it('delivers the connection state on subscribe and every change after, until unsubscribed', async () => {
    const { api } = await bridge.open();
    const seen: ConnectionState[] = [];
    const unsubscribe = await api.subscribe({ topic: 'connection' }, (s) => seen.push(s));
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ status: 'offline', pendingCommands: 0, commandLevel: null, lastError: { code: 'no-backend' } });
    hub.connection.set({ ...hub.connection.value, status: 'reconnecting', reconnectAttempt: 2 });
    await waitFor(() => seen.length === 2, 'the second connection snapshot');
    expect(seen[1]).toMatchObject({ status: 'reconnecting', reconnectAttempt: 2 });
    await unsubscribe();
    hub.connection.set({ ...hub.connection.value, status: 'online' });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(seen).toHaveLength(2);
  });

  it('shows a failed embedded backend with its reason, and restartBackend starts it again (unavailable without one)', async () => {
    const { api, transport } = await bridge.open();
    await expect(api.restartBackend()).rejects.toMatchObject({ code: 'unavailable' });
    let restarts = 0;
    hub.setBackendRestart(() => restarts++);
    const seen: ConnectionState[] = [];
    await api.subscribe({ topic: 'connection' }, (s) => seen.push(s));
    const lastError = { code: 'database-empty', message: 'the database file /d/backend.sqlite is empty (0 bytes)', path: '/d/backend.sqlite' };
    hub.setEmbeddedBackend({ state: 'failed', failures: 1, nextRetryAt: null, lastError });
    await waitFor(() => seen.some((s) => s.embeddedBackend?.state === 'failed'), 'the failed embedded backend');
    expect(seen.at(-1)).toMatchObject({ status: 'offline', backendUrl: null, embeddedBackend: { lastError }, lastError: { code: 'embedded-failed' } });
    await api.restartBackend();
    expect(restarts).toBe(1);
    expect(await transport.call('restartBackend', { now: true })).toMatchObject({ ok: false, error: { code: 'invalid-params' } });
    expect(restarts).toBe(1);
  });

  it('answers unknown methods, bad params and unknown subscriptions with typed errors', async () => {
    const { transport } = await bridge.open();
    // A method the preload does not expose cannot even be called over IPC; over WebSocket the hub refuses it.
    if (bridgeName === 'websocket') {
      const reply = await transport.call('dropDatabase' as never, {});
      expect(reply).toMatchObject({ ok: false, error: { code: 'unknown-method' } });
    }
    expect(await transport.call('subscribe', { query: { topic: 'secrets' } })).toMatchObject({ ok: false, error: { code: 'invalid-params' } });
    expect(await transport.call('subscribe', 'not an object')).toMatchObject({ ok: false, error: { code: 'invalid-params' } });
    expect(await transport.call('unsubscribe', { subscriptionId: 'sub-doesnotexist' })).toMatchObject({ ok: false, error: { code: 'not-found' } });
    expect(await transport.call('hello', { displayRole: 'kitchen' })).toMatchObject({ ok: false, error: { code: 'invalid-params' } });
    expect(await transport.call('getCityLayer', { layer: 'sewers' })).toMatchObject({ ok: false, error: { code: 'invalid-params' } });
    // This hub has no backend and nothing cached: the layer is unavailable, with the reason.
    expect(await transport.call('getCityLayer', { layer: 'buildings' })).toMatchObject({ ok: false, error: { code: 'unavailable' } });
    expect(await transport.call('keyPersons', { target: { level: 'city', id: 'x' } })).toMatchObject({ ok: false, error: { code: 'invalid-params' } });
    expect(await transport.call('keyPersons', { target: { level: 'grid', id: '' } })).toMatchObject({ ok: false, error: { code: 'invalid-params' } });
    // No backend: the register is never kept by the hub, so there is nothing to answer with.
    await expect(bridge.open().then(({ api }) => api.keyPersons({ level: 'grid', id: 'g1' }))).rejects.toMatchObject({ code: 'unavailable', message: expect.stringMatching(/未连接后端.*no backend is linked/) });
    // The audit: its filters checked by the hub, and read from the backend only (none here).
    expect(await transport.call('readAudit', { limit: 0 })).toMatchObject({ ok: false, error: { code: 'invalid-params' } });
    expect(await transport.call('readAudit', { from: 'yesterday' })).toMatchObject({ ok: false, error: { code: 'invalid-params' } });
    expect(await transport.call('exportAudit', { drop: 'audit' })).toMatchObject({ ok: false, error: { code: 'invalid-params' } });
    await expect(bridge.open().then(({ api }) => api.readAudit({ kind: 'view' }))).rejects.toMatchObject({ code: 'unavailable', message: expect.stringMatching(/未连接后端.*no backend is linked/) });
    await expect(bridge.open().then(({ api }) => api.exportAudit({}))).rejects.toMatchObject({ code: 'unavailable' });
    // 用户管理: the user and the change checked by the hub, the users read from the backend only (none here).
    expect(await transport.call('createUser', { id: 'x y', name: '某人', role: 'dispatcher', scope: null, password: 'long-enough-pw' })).toMatchObject({ ok: false, error: { code: 'invalid-params' } });
    expect(await transport.call('createUser', { id: 'someone', name: '某人', role: 'dispatcher', scope: null, password: 'short' })).toMatchObject({ ok: false, error: { code: 'invalid-params' } });
    expect(await transport.call('createUser', { id: 'someone', name: '某人', role: 'root', scope: null, password: 'long-enough-pw' })).toMatchObject({ ok: false, error: { code: 'invalid-params' } });
    expect(await transport.call('updateUser', { id: 'someone', change: {} })).toMatchObject({ ok: false, error: { code: 'invalid-params' } });
    expect(await transport.call('updateUser', { id: 'someone', change: { scope: [] } })).toMatchObject({ ok: false, error: { code: 'invalid-params' } });
    expect(await transport.call('listUsers', { all: true })).toMatchObject({ ok: false, error: { code: 'invalid-params' } });
    await expect(bridge.open().then(({ api }) => api.listUsers())).rejects.toMatchObject({ code: 'unavailable', message: expect.stringMatching(/未连接后端.*no backend is linked/) });
    await expect(bridge.open().then(({ api }) => api.updateUser('someone', { disabled: true }))).rejects.toMatchObject({ code: 'unavailable' });
    // 接入密钥: the new key's fields and the id checked by the hub, the keys read from the backend only (none here).
    expect(await transport.call('createApiKey', { name: '', source: 'hotline' })).toMatchObject({ ok: false, error: { code: 'invalid-params' } });
    expect(await transport.call('createApiKey', { name: '热线', source: 'radio' })).toMatchObject({ ok: false, error: { code: 'invalid-params' } });
    expect(await transport.call('createApiKey', { name: '热线', source: 'hotline', ratePerMinute: 0 })).toMatchObject({ ok: false, error: { code: 'invalid-params' } });
    expect(await transport.call('revokeApiKey', { id: '../users' })).toMatchObject({ ok: false, error: { code: 'invalid-params' } });
    expect(await transport.call('listApiKeys', { all: true })).toMatchObject({ ok: false, error: { code: 'invalid-params' } });
    await expect(bridge.open().then(({ api }) => api.listApiKeys())).rejects.toMatchObject({ code: 'unavailable' });
    await expect(bridge.open().then(({ api }) => api.revokeApiKey('abcdEFGH'))).rejects.toMatchObject({ code: 'unavailable' });
    expect(await transport.call('recordView', { what: 'place', id: 'E1' })).toMatchObject({ ok: false, error: { code: 'invalid-params' } });
    // A view names an event this console has.
    expect(await transport.call('recordView', { what: 'event', id: 'no-such-event' })).toMatchObject({ ok: false, error: { code: 'not-found' } });
  });

  it('has no SIP account without a backend (calls unavailable, said by the console)', async () => {
    const { api } = await bridge.open();
    const states: Array<{ account: unknown }> = [];
    await api.subscribe({ topic: 'sip' }, (state) => states.push(state));
    expect(states.at(-1)).toEqual({ account: null });
  });

  it('logs finished calls (each id once) for every window, and refuses malformed entries', async () => {
    const desk = await bridge.open('dispatch');
    const other = await bridge.open('kpi');
    const seen: Array<{ entries: Array<{ id: string }> }> = [];
    await other.api.subscribe({ topic: 'calls' }, (state) => seen.push(state));
    const entry = { id: 'call-test-1', direction: 'outgoing' as const, peer: 's00001', peerName: '网格员', video: true, startedAt: '2026-11-22T01:00:00.000Z', answeredAt: '2026-11-22T01:00:02.000Z', endedAt: '2026-11-22T01:01:00.000Z', durationS: 58, result: 'answered' as const, cause: '', eventId: 'E2026112200001', groupId: null, userId: 'dispatcher' };
    await desk.api.logCall(entry);
    await desk.api.logCall(entry);
    await waitFor(() => seen.at(-1)!.entries.length === 1, 'the call in the log');
    expect(seen.at(-1)!.entries[0]).toEqual(entry);
    for (const bad of [{ ...entry, id: 'x' }, { ...entry, peer: 'a b' }, { ...entry, result: 'vanished' }, { ...entry, endedAt: '2026-11-22T00:00:00.000Z' }, { ...entry, extra: 1 }]) {
      expect(await desk.transport.call('logCall', bad)).toMatchObject({ ok: false, error: { code: 'invalid-params' } });
    }
    await new Promise((r) => setTimeout(r, 50));
    expect(seen.at(-1)!.entries).toHaveLength(1);
  });

  it('remembers each video wall on its own, shares named layouts, and refuses malformed ones', async () => {
    const left = await bridge.open('video');
    const right = await bridge.open('video');
    expect(await left.api.getWall('left')).toEqual({ state: null, problem: null, presets: [] });
    const leftState = { version: 1 as const, layout: '9' as const, tiles: ['cam-1', null, 'cam-3'], tour: null };
    const rightState = { version: 1 as const, layout: '1+5' as const, tiles: ['cam-7'], tour: { group: 'online', intervalSec: 30, page: 4 } };
    await left.api.saveWall('left', leftState);
    await right.api.saveWall('right', rightState);
    expect((await right.api.getWall('left')).state).toEqual(leftState);
    expect((await left.api.getWall('right')).state).toEqual(rightState);
    const { presets } = await left.api.saveWallPreset({ name: ' 防汛预案 ', layout: '4', tiles: ['cam-1', 'cam-2', null, null] });
    expect(presets).toMatchObject([{ name: '防汛预案', layout: '4', tiles: ['cam-1', 'cam-2', null, null] }]);
    expect((await right.api.getWall('right')).presets.map((p) => p.name)).toEqual(['防汛预案']);
    expect((await right.api.deleteWallPreset('防汛预案')).presets).toEqual([]);
    await expect(right.api.deleteWallPreset('防汛预案')).rejects.toMatchObject({ code: 'not-found' });
    for (const bad of [
      { wall: '../x', state: leftState },
      { wall: 'left', state: { ...leftState, layout: '5' } },
      { wall: 'left', state: { ...leftState, tiles: Array.from({ length: 17 }, () => null) } },
      { wall: 'left', state: { ...leftState, version: 2 } },
      { wall: 'left', state: { ...leftState, tour: { group: 'online', intervalSec: 0, page: 0 } } },
      { wall: 'left', state: leftState, extra: 1 },
    ]) {
      expect(await left.transport.call('saveWall', bad)).toMatchObject({ ok: false, error: { code: 'invalid-params' } });
    }
    expect(await left.transport.call('saveWallPreset', { name: '   ', layout: '4', tiles: [] })).toMatchObject({ ok: false, error: { code: 'invalid-params' } });
    // Nothing half-written: the walls still hold what was saved.
    expect((await left.api.getWall('left')).state).toEqual(leftState);
  });

  it('passes "show on the wall" requests to every window and counts the windows showing that wall', async () => {
    const desk = await bridge.open('dispatch');
    const wall = await bridge.open('map');
    const seen: WallRequestState[] = [];
    await wall.api.subscribe({ topic: 'wall' }, (state) => seen.push(state));
    const before = seen.at(-1)!.seq;
    expect(await desk.api.showOnWall({ wall: 'map', kind: 'event', id: 'E2026010100001' })).toEqual({ walls: 1 });
    await waitFor(() => seen.at(-1)!.seq === before + 1, 'the request on the wall');
    expect(seen.at(-1)).toMatchObject({ request: { wall: 'map', kind: 'event', id: 'E2026010100001' }, from: 'dispatch' });
    // The map wall asking for itself counts the other map walls only (none here).
    expect(await wall.api.showOnWall({ wall: 'map', kind: 'grid', id: 'G1' })).toEqual({ walls: 0 });
    // Bad requests are refused and change nothing.
    expect(await desk.transport.call('showOnWall', { wall: 'map', kind: 'planet', id: 'x' })).toMatchObject({ ok: false, error: { code: 'invalid-params' } });
    expect(await desk.transport.call('showOnWall', { wall: 'map', kind: 'event', id: '' })).toMatchObject({ ok: false, error: { code: 'invalid-params' } });
    expect(await desk.transport.call('showOnWall', { wall: 'video', cameraIds: [] })).toMatchObject({ ok: false, error: { code: 'invalid-params' } });
    expect(await desk.transport.call('showOnWall', { wall: 'video', cameraIds: Array.from({ length: 17 }, (_, i) => `cam${i}`) })).toMatchObject({ ok: false, error: { code: 'invalid-params' } });
    expect(await desk.transport.call('showOnWall', { wall: 'kitchen', cameraIds: ['cam1'] })).toMatchObject({ ok: false, error: { code: 'invalid-params' } });
    await new Promise((r) => setTimeout(r, 50));
    expect(seen.at(-1)!.seq).toBe(before + 2);
    // Cameras for the video walls (none open here).
    expect(await desk.api.showOnWall({ wall: 'video', cameraIds: ['cam0001', 'cam0002'] })).toEqual({ walls: 0 });
    await waitFor(() => seen.at(-1)!.seq === before + 3, 'the video request');
    expect(seen.at(-1)!.request).toEqual({ wall: 'video', cameraIds: ['cam0001', 'cam0002'] });
  });

  it('one window per console sounds the alarms: the desk first, then a single-window console, a wall, a demo screen last', async () => {
    const voiceOf = async (api: HubApi): Promise<{ voice: boolean; windows: number }[]> => {
      const seen: { voice: boolean; windows: number }[] = [];
      await api.subscribe({ topic: 'voice' }, (v) => seen.push(v));
      return seen;
    };
    const map = await bridge.open('map');
    const mapVoice = await voiceOf(map.api);
    await waitFor(() => mapVoice.at(-1)?.voice === true, 'the only window rings');
    // A client that does not listen (a bridge, a window whose alarm bar is not up) is never elected.
    await (await bridge.open('dispatch')).api.hello();
    const desk = await bridge.open('dispatch');
    const deskVoice = await voiceOf(desk.api);
    await waitFor(() => deskVoice.at(-1)?.voice === true && mapVoice.at(-1)?.voice === false, 'the desk rings, the wall not');
    expect(deskVoice.at(-1)!.windows).toBe(2);
    const kpi = await bridge.open('kpi');
    const kpiVoice = await voiceOf(kpi.api);
    await waitFor(() => kpiVoice.at(-1)?.windows === 3, 'three windows');
    expect([deskVoice.at(-1)!.voice, mapVoice.at(-1)!.voice, kpiVoice.at(-1)!.voice]).toEqual([true, false, false]);
    // The desk closes: the oldest wall rings instead.
    desk.closeWindow();
    await waitFor(() => mapVoice.at(-1)?.voice === true && mapVoice.at(-1)?.windows === 2, 'the map wall takes over');
  });

  it('a call asked for from a map wall goes to the desk\'s phone, or to a single-window console when no desk is open', async () => {
    const wall = await bridge.open('map');
    const seen: WallRequestState[] = [];
    await wall.api.subscribe({ topic: 'wall' }, (state) => seen.push(state));
    const call = { sipUser: 's00042', name: '王网格', video: true, eventId: 'E2026010100001' };
    // No window with a phone: nobody acts; the asking wall says so.
    expect(await wall.api.showOnWall({ wall: 'dispatch', call })).toEqual({ walls: 0 });
    const combined = await bridge.open('combined');
    await combined.api.hello(); // a window is a session once it spoke
    expect(await wall.api.showOnWall({ wall: 'dispatch', call })).toEqual({ walls: 1 });
    await waitFor(() => seen.at(-1)!.actBy === 'combined', 'the request for the single-window console');
    expect(seen.at(-1)).toMatchObject({ request: { wall: 'dispatch', call }, from: 'map', actBy: 'combined' });
    // A desk takes precedence: only it places the call (no second phone rings the same person).
    await (await bridge.open('dispatch')).api.hello();
    const seq = seen.at(-1)!.seq;
    expect(await wall.api.showOnWall({ wall: 'dispatch', call: { ...call, video: false } })).toEqual({ walls: 1 });
    await waitFor(() => seen.at(-1)!.seq === seq + 1, 'the request for the desk');
    expect(seen.at(-1)!.actBy).toBe('dispatch');
    // Map requests are still for the map walls.
    expect(await combined.api.showOnWall({ wall: 'map', kind: 'staff', id: 'S1' })).toEqual({ walls: 1 });
    await waitFor(() => seen.at(-1)!.seq === seq + 2, 'the map request');
    expect(seen.at(-1)!.actBy).toBe('map');
    // Malformed calls are refused and change nothing.
    for (const bad of [{ ...call, sipUser: 'a b' }, { ...call, sipUser: '' }, { ...call, name: 'x'.repeat(101) }, { ...call, video: 'yes' }, { ...call, eventId: '' }, { ...call, extra: 1 }]) {
      expect(await wall.transport.call('showOnWall', { wall: 'dispatch', call: bad })).toMatchObject({ ok: false, error: { code: 'invalid-params' } });
    }
    expect(await wall.transport.call('showOnWall', { wall: 'dispatch' })).toMatchObject({ ok: false, error: { code: 'invalid-params' } });
    await new Promise((r) => setTimeout(r, 50));
    expect(seen.at(-1)!.seq).toBe(seq + 2);
  });

  it('queues well-formed commands (pending until a backend acks them) and refuses malformed ones', async () => {
    const { api, transport } = await bridge.open();
    expect(await transport.call('submitCommand', { commandId: 'x', type: 'event.dispatch', payload: {} })).toMatchObject({ ok: false, error: { code: 'invalid-params' } });
    const bad = await api.submitCommand({ commandId: 'cmd-bad-0001', type: 'event.dispatch', payload: { eventId: 'e1' } }).catch((e: unknown) => e);
    expect((bad as HubError).code).toBe('invalid-params'); // neither department nor staff: never valid
    const outbox: OutboxEntry[] = [];
    await api.subscribeRows({ topic: 'outbox' }, (rows) => {
      outbox.splice(0, outbox.length, ...rows.values());
    });
    const receipt = await api.submitCommand({ commandId: 'cmd-0001-abcd', type: 'event.comment', payload: { eventId: 'E2026010100001', text: '已电话联系' } });
    expect(receipt).toMatchObject({ commandId: 'cmd-0001-abcd', status: 'pending', predicted: false });
    // Submitting the same id again queues it once.
    await api.submitCommand({ commandId: 'cmd-0001-abcd', type: 'event.comment', payload: { eventId: 'E2026010100001', text: '已电话联系' } });
    await waitFor(() => outbox.length === 1, 'the outbox row');
    expect(outbox[0]).toMatchObject({ id: 'cmd-0001-abcd', status: 'pending' });
    expect(hub.connection.value.pendingCommands).toBe(1);
    await expect(api.retryCommand('cmd-0001-abcd')).rejects.toMatchObject({ code: 'invalid-params' }); // still pending
    // The backend's refusal as the link reports it (LinkOutbox.refused): the window gets its reason (key, parameters).
    const reason = { key: 'event.notFound', params: { id: 'E2026010100001' } };
    (hub as unknown as { outbox: LinkOutbox }).outbox.refused('cmd-0001-abcd', { code: 'invalid', message: '事件 E2026010100001 不存在', reason, retryable: false });
    await waitFor(() => outbox[0]?.status === 'rejected', 'the refusal');
    expect(outbox[0]).toMatchObject({ status: 'rejected', error: { code: 'invalid', message: '事件 E2026010100001 不存在', reason } });
    await api.discardCommand('cmd-0001-abcd');
    await waitFor(() => outbox.length === 0, 'the discard');
    await expect(api.discardCommand('cmd-0001-abcd')).rejects.toMatchObject({ code: 'not-found' });
  });

  it('serves collections by filter: the whole result, then patches', async () => {
    const { api } = await bridge.open();
    let seen: ReadonlyMap<string, { id: string }> = new Map();
    let resets = 0;
    await api.subscribeRows({ topic: 'collection', collection: 'departments' }, (rows, change) => {
      seen = rows;
      if (change.reset) resets++;
    });
    expect(resets).toBe(1);
    expect(seen.size).toBe(0); // an empty cache: offline, nothing known yet
    await expect(api.subscribeRows({ topic: 'collection', collection: 'secrets' as never }, () => {})).rejects.toMatchObject({ code: 'invalid-params' });
  });

  it('replays on every window: the replay topic, its methods, and their refusals without a backend', async () => {
    const a = await bridge.open('dispatch');
    const b = await bridge.open('map');
    const seen: ReplayState[] = [];
    await b.api.subscribe({ topic: 'replay' }, (state) => seen.push(state));
    expect(seen.at(-1)).toMatchObject({ active: false, at: null, playing: false, marks: [], error: null });
    // The history is the backend's: without one, a replay cannot start, and the console stays live.
    await expect(a.api.replayStart({ from: '2026-11-30T01:00:00Z', to: '2026-11-30T02:00:00Z' })).rejects.toMatchObject({ code: 'unavailable', message: expect.stringContaining('未连接后端') });
    await expect(a.api.replayStart({ eventId: 'E-none' })).rejects.toMatchObject({ code: 'not-found', message: expect.stringContaining('没有这个事件') });
    await expect(a.api.replaySeek('2026-11-30T01:30:00Z')).rejects.toMatchObject({ code: 'unavailable', message: expect.stringContaining('未在回放') });
    await expect(a.api.replayTracks({ from: '2026-11-30T01:00:00Z', to: '2026-11-30T02:00:00Z' })).rejects.toMatchObject({ code: 'unavailable' });
    // The 复盘 report's calls are the backend's too.
    await expect(a.api.eventCalls({ eventId: 'E1', from: '2026-11-30T01:00:00Z', to: '2026-11-30T02:00:00Z' })).rejects.toMatchObject({ code: 'unavailable', message: expect.stringContaining('未连接后端') });
    expect(await a.api.replayStop()).toMatchObject({ active: false });
    for (const [method, params] of [
      ['replayStart', { from: '2026-11-30T02:00:00Z', to: '2026-11-30T01:00:00Z' }],
      ['replayStart', { eventId: 'E1', marginMin: -1 }],
      ['replaySeek', { at: 'yesterday' }],
      ['replayPlay', { speed: 61 }],
      ['replayPlay', { speed: 1.5 }],
      ['replayTracks', { from: '2026-11-30T01:00:00Z', to: '2026-11-30T02:00:00Z', staffIds: [] }],
      ['eventCalls', { eventId: 'E1', from: '2026-11-30T02:00:00Z', to: '2026-11-30T01:00:00Z' }],
      ['eventCalls', { eventId: '', from: '2026-11-30T01:00:00Z', to: '2026-11-30T02:00:00Z' }],
      ['eventCalls', { eventId: 'E1', from: '2026-11-30T01:00:00Z', to: '2026-11-30T02:00:00Z', limit: 5000 }],
    ] as const) {
      expect(await a.transport.call(method, params), method).toMatchObject({ ok: false, error: { code: 'invalid-params' } });
    }
    expect(seen.at(-1)).toMatchObject({ active: false });
  });

  it('closing a window frees its session and subscriptions on the hub', async () => {
    const { api } = await bridge.open();
    await api.subscribe({ topic: 'connection' }, () => {});
    expect(hub.sessionCount).toBe(1);
    api.close();
    if (bridgeName === 'ipc') {
      // In Electron the session ends with the window's webContents, not with the page's close().
      expect(hub.sessionCount).toBe(1);
      return;
    }
    await waitFor(() => hub.sessionCount === 0, 'the session to close');
  });
});

describe('a window whose hub link is gone', () => {
  it('unsubscribes without an error (the hub dropped its subscriptions with the socket)', async ({ dataDir, newHub }) => {
    const hub = newHub({ dataDir, version: 't' });
    const host = await startBrowserHost({ hub, rendererDir: dataDir });
    const api = createHubClient(await connectWsTransport({ origin: host.origin, token: host.token }), 'websocket');
    const stop = await api.subscribe({ topic: 'connection' }, () => {});
    await host.close();
    await expect(stop()).resolves.toBeUndefined();
    api.close();
  });
});
