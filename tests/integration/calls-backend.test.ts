/**
 * Calls to the backend on the real path: a real backend on a SQLite file, a hub with its cache file behind a TCP
 * proxy that cuts the link, real WebSockets and HTTP. A call logged while the hub is offline waits in its outbox
 * and reaches the backend once after the reconnect, logged twice or three times; it is in the event's history and
 * in GET /calls, which is filtered by the reader's area, audited and refuses a bad query in Chinese; a call about an
 * event that does not exist, or a bad payload, is refused with a Chinese reason and leaves nothing written.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Hub } from '../../hub';
import { TEST_TOKENS, startTestBackend } from '../../harness/backend';
import { TcpProxy } from '../../harness/tcp-proxy';
import { clientPool, type WireClient } from '../../harness/wire-client';
import { makeTempDir, waitFor } from '../../harness/temp';
import { hubDir, makeHub, waitCaughtUp, waitOnline } from '../../harness/hub-fixtures';
import { historyOf } from '../../harness/history';
import { maskName, timelineId } from '../../domain';
import type { SqliteStore } from '../../backend/store/sqlite-store';
import { AttachmentRef, CallsAnswer, HistoryRefusal, type CallLogEntry, type CallLogPayload, type GovEvent, type WireErrorPayload } from '../../protocol';

let backend: Awaited<ReturnType<typeof startTestBackend>>;
let proxy: TcpProxy;
let hub: Hub;
const temp = makeTempDir('zongzhi-calls-');
const pool = clientPool(() => backend.url);
let desk: WireClient;

const FAR_PAST = '2000-01-01T00:00:00Z';
const FAR_FUTURE = '2100-01-01T00:00:00Z';
const base = (): string => backend.url.replace(/^ws/, 'http').replace(/\/ws$/, '');
const get = (path: string, token: string | null = TEST_TOKENS.dispatcher): Promise<Response> => fetch(`${base()}${path}`, token ? { headers: { Authorization: `Bearer ${token}` } } : {});
async function calls(query: string, token: string = TEST_TOKENS.dispatcher): Promise<CallsAnswer> {
  const res = await get(`/calls?${query}`, token);
  expect(res.status).toBe(200);
  return CallsAnswer.parse(await res.json());
}
const eventIn = (district: string): GovEvent => [...backend.state.collections.events.values()].find((e) => e.districtId === district && e.status !== 'merged')!;
const callIds = async (query: string, token?: string): Promise<string[]> => (await calls(query, token)).calls.map((c) => c.id).sort();
const kept = async (id: string): Promise<number> => (await backend.store.callsIn({ from: FAR_PAST, to: FAR_FUTURE, limit: 10_000 })).filter((c) => c.id === id).length;

let n = 0;
function entry(extra: Partial<CallLogEntry> = {}): CallLogEntry {
  const started = Date.now() - 90_000;
  return {
    id: `call-test-${++n}`, direction: 'outgoing', peer: 'sip-nobody', peerName: '李四', video: false,
    startedAt: new Date(started).toISOString(), answeredAt: new Date(started + 4000).toISOString(), endedAt: new Date(started + 64_000).toISOString(),
    durationS: 60, result: 'answered', cause: '', eventId: null, groupId: null, userId: 'sip-console', ...extra,
  };
}
/** A call sent straight over the wire (another console), as the hub would send it. */
const logOver = (client: WireClient, e: CallLogPayload): ReturnType<WireClient['command']> => client.command('call.log', e, `call-log-${e.id}`);

beforeAll(async () => {
  backend = await startTestBackend({ kpiIntervalMs: 3_600_000 });
  proxy = await TcpProxy.start(backend.port);
  hub = makeHub(hubDir(temp.dir), proxy);
  await waitOnline(hub);
  desk = await pool.connect(TEST_TOKENS.dispatcher);
}, 60_000);
afterAll(async () => {
  hub?.close();
  pool.closeAll();
  await proxy?.close();
  await backend?.close();
  backend?.cleanup();
  temp.cleanup();
});

describe('calls to the backend', () => {
  it('a call logged while the hub is offline reaches the backend once after the reconnect, in its event’s history', async () => {
    const event = eventIn('d01');
    proxy.block();
    await waitFor(() => hub.connection.value.status !== 'online', 'the hub to go offline', 15_000);
    const call = entry({ eventId: event.id, video: true });
    hub.logCall(call);
    hub.logCall(call); // the window logs it again: queued once
    expect(hub.callLog.value.entries.filter((e) => e.id === call.id)).toHaveLength(1);
    expect(hub.cache.outbox().filter((c) => c.type === 'call.log')).toHaveLength(1);
    // The console shows it in the event's history at once (the guess of the same handler), on the backend's clock.
    const next = timelineId(event.id, hub.confirmed.get('events', event.id)!.timelineCount);
    expect(hub.view.get('timeline', next)).toMatchObject({ action: 'call', call: { id: call.id } });
    expect(hub.view.isGuess('timeline', next)).toBe(true);
    expect(await kept(call.id)).toBe(0);

    proxy.unblock();
    await waitCaughtUp(hub, backend);
    expect(await kept(call.id)).toBe(1);
    const entries = historyOf(backend.state.all('timeline'), event.id).filter((r) => r.call?.id === call.id);
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({ action: 'call', actor: 'dispatcher', note: expect.stringMatching(/^呼出视频通话 李四：已挂断，时长 1:00$/), call: { id: call.id, video: true, result: 'answered', durationS: 60 } });
    expect(Math.abs(Date.parse(entries[0]!.at) - Date.parse(call.startedAt))).toBeLessThan(5000);
    expect(historyOf(hub.confirmed.all('timeline'), event.id).filter((r) => r.call?.id === call.id)).toHaveLength(1);

    // Logged again once it is on the backend (a window reloaded): answered as a duplicate, nothing more written.
    const seq = backend.state.seq;
    hub.logCall(call);
    await waitCaughtUp(hub, backend);
    expect(backend.state.seq).toBe(seq);
    expect(await kept(call.id)).toBe(1);
    expect(historyOf(backend.state.all('timeline'), event.id).filter((r) => r.call?.id === call.id)).toHaveLength(1);
    const audited = (backend.store as SqliteStore).auditLog(500).filter((l) => l.kind === 'command' && (l.detail.payload as { id?: string } | undefined)?.id === call.id);
    expect(audited).toHaveLength(1);

    const answer = await calls(`from=${FAR_PAST}&to=${FAR_FUTURE}&eventId=${event.id}`);
    expect(answer.calls.map((c) => c.id)).toEqual([call.id]);
    expect(answer.calls[0]).toMatchObject({ userId: 'dispatcher', sipUser: 'sip-console', districtId: 'd01', eventId: event.id, durationS: 60 });
  });

  it('serves /calls by the reader’s area (the event’s, else the staff member’s; their own always) and audits each read', async () => {
    const d01 = eventIn('d01');
    const d02 = eventIn('d02');
    const staffD02 = [...backend.state.collections.staff.values()].find((s) => s.districtId === 'd02')!;
    const aboutD01 = entry({ eventId: d01.id });
    const aboutD02 = entry({ eventId: d02.id });
    const staffCall = entry({ peer: staffD02.sipUser, peerName: staffD02.name });
    const nowhere = entry({ peer: '13800138000', cause: '转接 138-0013-8000 失败' });
    for (const e of [aboutD01, aboutD02, staffCall, nowhere]) expect((await logOver(desk, e)).duplicate).toBe(false);
    const scoped = await pool.connect(TEST_TOKENS['dispatcher-d01']);
    const own = entry();
    await logOver(scoped, own);

    const window = `from=${encodeURIComponent(new Date(Date.now() - 3_600_000).toISOString())}&to=${Date.now() + 3_600_000}`;
    const all = await callIds(window);
    expect(all).toEqual(expect.arrayContaining([aboutD01.id, aboutD02.id, staffCall.id, nowhere.id, own.id]));
    const seenByD01 = await callIds(window, TEST_TOKENS['dispatcher-d01']);
    expect(seenByD01).toEqual(expect.arrayContaining([aboutD01.id, own.id]));
    expect(seenByD01).not.toEqual(expect.arrayContaining([aboutD02.id]));
    expect(seenByD01).not.toContain(aboutD02.id);
    expect(seenByD01).not.toContain(staffCall.id);
    expect(seenByD01).not.toContain(nowhere.id);
    expect(await callIds(`${window}&eventId=${d02.id}`, TEST_TOKENS['dispatcher-d01'])).toEqual([]);
    expect((await calls(`${window}&limit=1`)).truncated).toBe(true);
    // The staff member's place: a staff call is where they work.
    expect((await calls(`${window}&eventId=${d02.id}`)).calls.map((c) => c.id)).toEqual([aboutD02.id]);
    expect((await calls(window)).calls.find((c) => c.id === staffCall.id)).toMatchObject({ peerStaffId: staffD02.id, districtId: 'd02' });
    // The demo screen's account reads people's names masked.
    const shown = (await calls(window, TEST_TOKENS.viewer)).calls.find((c) => c.id === staffCall.id);
    expect(shown).toMatchObject({ peerName: maskName(staffD02.name), userName: '调度员 张*' });
    expect(shown?.peerName).not.toBe(staffD02.name);
    // A phone number as the peer or in the cause is hidden too.
    const phoned = (await calls(window, TEST_TOKENS.viewer)).calls.find((c) => c.id === nowhere.id);
    expect(phoned).toMatchObject({ peer: 'xxx', cause: '转接 *** 失败' });

    const refusal = async (query: string, status: number, token: string | null = TEST_TOKENS.leader): Promise<HistoryRefusal> => {
      const res = await get(`/calls${query}`, token);
      expect(res.status).toBe(status);
      return HistoryRefusal.parse(await res.json());
    };
    expect(await refusal(`?${window}`, 401, null)).toMatchObject({ code: 'unauthorized', message: expect.stringContaining('需要有效的令牌') });
    expect(await refusal('', 400)).toMatchObject({ code: 'bad-query', message: expect.stringContaining('查询参数有误') });
    expect(await refusal(`?from=${FAR_FUTURE}&to=${FAR_PAST}`, 400)).toMatchObject({ code: 'bad-query', message: expect.stringContaining('from 早于 to') });
    expect(await refusal(`?from=yesterday&to=${FAR_FUTURE}`, 400)).toMatchObject({ code: 'bad-query' });
    expect(await refusal(`?${window}&secret=1`, 400)).toMatchObject({ code: 'bad-query' });
    expect(await refusal(`?${window}&limit=0`, 400)).toMatchObject({ code: 'bad-query' });
    expect((await fetch(`${base()}/calls?${window}`, { method: 'POST', headers: { Authorization: `Bearer ${TEST_TOKENS.leader}` } })).status).toBe(405);

    const audit = (backend.store as SqliteStore).auditLog(500).filter((l) => l.kind === 'history-read' && l.detail.what === 'calls');
    expect(audit.find((l) => l.userId === 'dispatcher-d01' && l.detail.refused === undefined && l.detail.eventId === undefined)?.detail).toMatchObject({ what: 'calls', rows: seenByD01.length });
    expect(audit.map((l) => l.detail.refused ?? 200)).toEqual(expect.arrayContaining([200, 401, 400]));
    scoped.close();
  });

  it('refuses a call about an event that does not exist, or a bad payload, with a Chinese reason and nothing written', async () => {
    const seq = backend.state.seq;
    const count = (await backend.store.callsIn({ from: FAR_PAST, to: FAR_FUTURE, limit: 10_000 })).length;
    const refused = async (payload: unknown): Promise<WireErrorPayload> => {
      const error = await desk.command('call.log', payload).then(
        () => null,
        (e: { wire: WireErrorPayload }) => e.wire,
      );
      expect(error).not.toBeNull();
      return error!;
    };
    expect(await refused(entry({ eventId: 'E-no-such-event' }))).toMatchObject({ code: 'invalid', message: expect.stringMatching(/^通话 call-test-\d+ 关联的事件 E-no-such-event 不存在，通话记录未保存$/), reason: { key: 'call.eventNotFound' } });
    expect(await refused({ ...entry(), endedAt: FAR_PAST })).toMatchObject({ code: 'invalid', message: expect.stringContaining('通话结束时间早于开始时间') });
    expect(await refused({ ...entry(), result: 'hung-up' })).toMatchObject({ code: 'invalid', message: expect.stringContaining('call.log 指令的内容无效') });
    // Out of the user's area: refused by the backend (the console guessed nothing: the event is not in its area).
    const scoped = await pool.connect(TEST_TOKENS['dispatcher-d01']);
    const outside = await scoped.command('call.log', entry({ eventId: eventIn('d02').id })).then(
      () => null,
      (e: { wire: WireErrorPayload }) => e.wire,
    );
    expect(outside).toMatchObject({ code: 'forbidden', message: expect.stringContaining('不在您的辖区，通话记录未保存') });
    scoped.close();
    // Through the hub: kept in its outbox as refused, with the reason its windows show in their language.
    const lost = entry({ eventId: 'E-gone-too' });
    hub.logCall(lost);
    await waitFor(() => hub.cache.outbox().some((c) => c.id === `call-log-${lost.id}` && c.status === 'rejected'), 'the refusal back at the hub', 15_000);
    expect(hub.cache.outbox().find((c) => c.id === `call-log-${lost.id}`)?.error).toMatchObject({ reason: { key: 'call.eventNotFound', params: { call: lost.id, id: 'E-gone-too' } } });
    hub.discardCommand(`call-log-${lost.id}`);
    expect(backend.state.seq).toBe(seq);
    expect((await backend.store.callsIn({ from: FAR_PAST, to: FAR_FUTURE, limit: 10_000 })).length).toBe(count);
  });

  it('keeps calls as long as the replay history: older ones are pruned with it', async () => {
    const old = entry();
    const DAY = 86_400_000;
    await logOver(desk, { ...old, cityAt: new Date(backend.clock.nowMs() - (backend.history.keepDays + 1) * DAY).toISOString() });
    const before = (await backend.store.callsIn({ from: FAR_PAST, to: FAR_FUTURE, limit: 10_000 })).length;
    expect(await kept(old.id)).toBe(1);
    expect((await backend.history.prune()).calls).toBe(1);
    expect(await kept(old.id)).toBe(0);
    expect((await backend.store.callsIn({ from: FAR_PAST, to: FAR_FUTURE, limit: 10_000 })).length).toBe(before - 1);
  });

  it('a console whose user logs no calls (the viewer) keeps them in its own call log only', async () => {
    const viewer = makeHub(hubDir(temp.dir, 'viewer-hub'), proxy, { backend: { url: proxy.url, token: TEST_TOKENS.viewer } });
    try {
      await waitOnline(viewer);
      const call = entry();
      viewer.logCall(call);
      expect(viewer.callLog.value.entries.map((e) => e.id)).toEqual([call.id]);
      expect(viewer.cache.outbox()).toEqual([]);
      expect(await kept(call.id)).toBe(0);
    } finally {
      viewer.close();
    }
  });

  it('a call with the recording of the console’s side: kept with the call, on its history entry, linked to its event', async () => {
    execFileSync('ffmpeg', ['-loglevel', 'error', '-y', '-f', 'lavfi', '-i', 'sine=frequency=440:duration=1.5', '-c:a', 'libopus', join(temp.dir, 'side.webm')]);
    const form = new FormData();
    form.append('file', new Blob([readFileSync(join(temp.dir, 'side.webm'))]), 'call-side.webm');
    const res = await fetch(`${base()}/attachments`, { method: 'POST', body: form, headers: { Authorization: `Bearer ${TEST_TOKENS.dispatcher}` } });
    expect(res.status).toBe(201);
    const ref = AttachmentRef.parse(await res.json());
    expect(ref.kind).toBe('audio');
    const event = eventIn('d01');
    const call = entry({ eventId: event.id, attachments: [ref.id] });
    hub.logCall(call);
    await waitCaughtUp(hub, backend);
    const history = historyOf(backend.state.all('timeline'), event.id).find((r) => r.call?.id === call.id);
    expect(history?.attachments).toEqual([ref]);
    expect((await calls(`from=${FAR_PAST}&to=${FAR_FUTURE}&eventId=${event.id}`)).calls.find((c) => c.id === call.id)?.recording).toEqual(ref);
    expect(await backend.store.attachmentEvents(ref.id)).toEqual([event.id]);
    // Readable by whoever sees the event (the district's dispatcher), as a report's photos are.
    expect((await get(`/attachments/${ref.id}`, TEST_TOKENS['dispatcher-d01'])).status).toBe(200);
  });
});
