/**
 * Camera streams follow the viewer's session (viewer tickets, backend/video/viewer-tickets.ts), over real HTTP and
 * WebSocket on one backend with real ffmpeg encoders: a street user's ticket (from their password session's
 * welcome) opens a camera of the street (HLS playlist and segment, MPEG-TS over WebSocket) and not one of another
 * street; after sign-out the same ticket is refused and the open MPEG-TS stream is closed (4008); after the
 * administrator narrows the scope the camera now outside is refused; disabling refuses it too; a forged ticket,
 * one of another city's key and garbage are refused; a static token's ticket works until the token is rotated.
 * Each refusal is audited with its reason and the user when known.
 */
import { describe, expect } from 'vitest';
import { randomBytes } from 'node:crypto';
import { WebSocket } from 'ws';
import { LoginAnswer, VideoCloseCode, type Camera } from '../../protocol';
import { startTestBackend, TEST_TOKENS } from '../../harness/backend';
import { WireClient } from '../../harness/wire-client';
import { waitFor } from '../../harness/temp';
import { it } from '../../harness/fixtures';
import { hashToken } from '../../backend/users';
import { hashPassword } from '../../backend/auth/password';
import { ViewerTickets } from '../../backend/video/viewer-tickets';

let backend: Awaited<ReturnType<typeof startTestBackend>>;
let http: string;
let ws: string;
let here: Camera;
let there: Camera;
const PASSWORD = 'street-password-01';
it.override('backendConfig', { historyDays: 0 });

const streetOf = (c: Camera): string => backend.state.get('grids', c.gridId)!.streetId;

it.beforeAll(async ({ backend: fileBackend }) => {
  backend = fileBackend;
  http = backend.url.replace(/^ws/, 'http').replace(/\/ws$/, '');
  ws = backend.url.replace(/\/ws$/, '');
  const cameras = [...backend.state.collections.cameras.values()].filter((c) => c.online && c.streams[0]?.codec === 'h264' && c.districtId === 'd01');
  here = cameras[0]!;
  there = cameras.find((c) => streetOf(c) !== streetOf(here))!;
  await backend.store.upsertUsers([{ id: 'street-viewer', name: '街道值班员', role: 'dispatcher', districtScope: [streetOf(here)], tokenHash: hashToken(randomBytes(16).toString('hex')), departmentId: null, staffId: null }]);
  await backend.store.setPassword('street-viewer', await hashPassword(PASSWORD));
}, 60_000);

async function signIn(): Promise<{ token: string; ticket: string }> {
  const login = await fetch(`${http}/auth/login`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ user: 'street-viewer', password: PASSWORD, client: { id: 'street-console' } }) });
  expect(login.status).toBe(200);
  const token = LoginAnswer.parse(await login.json()).sessionToken;
  const client = new WireClient({ url: backend.url, token });
  await client.waitSynced();
  const ticket = client.welcome?.streamTicket;
  client.close();
  expect(ticket).toMatch(/^[\w-]{43}\.[\w-]{22}$/);
  return { token, ticket: ticket! };
}

/** Waits for an answer that comes from the backend (polled every 200 ms). */
async function eventually(predicate: () => Promise<boolean>, what: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

const q = (ticket: string): string => `?ticket=${encodeURIComponent(ticket)}`;

interface Viewer {
  bytes(): number;
  opened: Promise<number>;
  closed: Promise<number>;
}
function view(url: string): Viewer {
  const socket = new WebSocket(url);
  let bytes = 0;
  socket.on('message', (data: Buffer) => (bytes += data.length));
  socket.on('error', () => undefined);
  const opened = new Promise<number>((resolve) => {
    socket.on('open', () => resolve(101));
    socket.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
  });
  const closed = new Promise<number>((resolve) => socket.on('close', (code) => resolve(code)));
  return { bytes: () => bytes, opened, closed };
}

async function refusals(userId: string | null): Promise<Array<{ cameraId: string; reason: string; how: string }>> {
  return (await backend.store.auditLog(500)).filter((a) => a.kind === 'stream-refused' && a.userId === userId).map((a) => a.detail as { cameraId: string; reason: string; how: string });
}

describe('viewer tickets', () => {
  it('a street user: the street camera opens (HLS playlist and segment, MPEG-TS), another street is 403; sign-out refuses the ticket and closes the open stream', async () => {
    expect(there, 'a camera in another street of d01').toBeDefined();
    const { token, ticket } = await signIn();
    const playlist = await fetch(`${http}/video/${here.id}/index.m3u8${q(ticket)}`);
    expect(playlist.status).toBe(200);
    const segment = /^(seg\d{5}\.ts\?ticket=\S+)$/m.exec(await playlist.text())![1]!;
    const body = Buffer.from(await (await fetch(`${http}/video/${here.id}/${segment}`)).arrayBuffer());
    expect(body[0]).toBe(0x47);
    const viewer = view(`${ws}/video/${here.id}${q(ticket)}`);
    expect(await viewer.opened).toBe(101);
    await waitFor(() => viewer.bytes() > 20_000, 'the street camera playing', 15_000);

    expect((await fetch(`${http}/video/${there.id}/index.m3u8${q(ticket)}`)).status).toBe(403);
    expect(await view(`${ws}/video/${there.id}${q(ticket)}`).opened).toBe(403);
    await eventually(async () => (await refusals('street-viewer')).some((r) => r.cameraId === there.id && r.reason === 'out-of-scope'), 'out-of-scope audited', 5_000);

    const signedOut = Date.now();
    expect((await fetch(`${http}/auth/logout`, { method: 'POST', headers: { Authorization: `Bearer ${token}` } })).status).toBe(204);
    expect(await viewer.closed).toBe(VideoCloseCode.refused);
    expect(Date.now() - signedOut).toBeLessThan(5_000);
    expect((await fetch(`${http}/video/${here.id}/index.m3u8${q(ticket)}`)).status).toBe(403);
    expect((await fetch(`${http}/video/${here.id}/${segment}`)).status).toBe(403);
    expect(await view(`${ws}/video/${here.id}${q(ticket)}`).opened).toBe(403);
    await eventually(async () => (await refusals('street-viewer')).some((r) => r.cameraId === here.id && r.reason === 'session-ended'), 'session-ended audited', 5_000);
  }, 60_000);

  it('the administrator narrows the scope: the camera now outside is refused; a liaison account watches none; disabling refuses every camera', async () => {
    const { ticket } = await signIn();
    expect((await fetch(`${http}/video/${here.id}/index.m3u8${q(ticket)}`)).status).toBe(200);
    const admin = (body: object): Promise<Response> => fetch(`${http}/admin/users/street-viewer`, { method: 'PATCH', headers: { Authorization: `Bearer ${TEST_TOKENS.admin}`, 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
    expect((await admin({ scope: [streetOf(there)] })).status).toBe(200);
    // Within the ticket cache's 5 s: the camera now outside the scope is refused, the one now inside opens.
    await eventually(async () => (await fetch(`${http}/video/${here.id}/index.m3u8${q(ticket)}`)).status === 403, 'the camera now outside refused', 8_000);
    expect((await fetch(`${http}/video/${there.id}/index.m3u8${q(ticket)}`)).status).toBe(200);
    // Made a 部门联络员: that account watches no camera, whatever its area.
    const department = [...backend.state.collections.departments.values()][0]!;
    expect((await admin({ role: 'liaison', departmentId: department.id })).status).toBe(200);
    await eventually(async () => (await fetch(`${http}/video/${there.id}/index.m3u8${q(ticket)}`)).status === 403, 'the liaison refused', 8_000);
    await eventually(async () => (await refusals('street-viewer')).some((r) => r.cameraId === there.id && r.reason === 'wrong-app'), 'wrong-app audited', 5_000);
    expect((await admin({ disabled: true })).status).toBe(200);
    await eventually(async () => (await fetch(`${http}/video/${there.id}/index.m3u8${q(ticket)}`)).status === 403, 'the disabled user refused', 8_000);
    await eventually(async () => (await fetch(`${http}/video/${there.id}/index.m3u8${q(ticket)}`)).status === 403 && (await refusals('street-viewer')).some((r) => r.cameraId === there.id && r.reason === 'disabled'), 'disabled audited', 10_000);
    expect((await refusals('street-viewer')).some((r) => r.cameraId === here.id && r.reason === 'out-of-scope')).toBe(true);
  }, 60_000);

  it('refuses a forged ticket, one of another city key and garbage (403, audited bad-ticket, no user)', async () => {
    const camera = [...backend.state.collections.cameras.values()].find((c) => c.online && c.districtId === 'd02')!;
    const real = backend.tickets.of(hashToken(TEST_TOKENS.dispatcher));
    const forged = `${real.slice(0, 44)}${real[44] === 'A' ? 'B' : 'A'}${real.slice(45)}`;
    const otherCity = new ViewerTickets(randomBytes(32), { store: backend.store, grids: backend.state, cameraById: () => undefined }).of(hashToken(TEST_TOKENS.dispatcher));
    // Another user's token hash under a mac made for a different hash: the parts do not belong together.
    const swapped = `${backend.tickets.of(hashToken(TEST_TOKENS.viewer)).split('.')[0]!}.${real.split('.')[1]!}`;
    for (const bad of [forged, otherCity, swapped, 'garbage', `${'A'.repeat(43)}.${'B'.repeat(22)}`, '../../etc/passwd', 'x'.repeat(400)]) {
      expect((await fetch(`${http}/video/${camera.id}/index.m3u8${q(bad)}`)).status, bad).toBe(403);
      expect(await view(`${ws}/video/${camera.id}${q(bad)}`).opened, bad).toBe(403);
    }
    expect((await fetch(`${http}/video/${camera.id}/index.m3u8${q(real)}`)).status).toBe(200);
    await eventually(async () => (await refusals(null)).some((r) => r.cameraId === camera.id && r.reason === 'bad-ticket'), 'bad-ticket audited', 5_000);
    // At most once a minute per camera and reason, however many were refused.
    expect((await refusals(null)).filter((r) => r.cameraId === camera.id && r.reason === 'bad-ticket')).toHaveLength(1);
  }, 60_000);

  it('a static token: its ticket opens the stream until the token is rotated', async () => {
    const old = 'tok-static-viewer-0001';
    await backend.store.upsertUsers([{ id: 'static-viewer', name: '固定令牌', role: 'viewer', districtScope: ['d02'], tokenHash: hashToken(old), departmentId: null, staffId: null }]);
    const client = new WireClient({ url: backend.url, token: old });
    await client.waitSynced();
    const ticket = client.welcome!.streamTicket!;
    client.close();
    const camera = [...backend.state.collections.cameras.values()].find((c) => c.online && c.districtId === 'd02' && c.streams[0]?.codec === 'h264')!;
    const viewer = view(`${ws}/video/${camera.id}${q(ticket)}`);
    expect(await viewer.opened).toBe(101);
    await waitFor(() => viewer.bytes() > 20_000, 'playing', 15_000);
    await backend.store.upsertUsers([{ id: 'static-viewer', name: '固定令牌', role: 'viewer', districtScope: ['d02'], tokenHash: hashToken('tok-static-viewer-0002'), departmentId: null, staffId: null }]);
    // The open stream is closed within the cache interval and a re-check; a new request is refused.
    expect(await viewer.closed).toBe(VideoCloseCode.refused);
    expect((await fetch(`${http}/video/${camera.id}/index.m3u8${q(ticket)}`)).status).toBe(403);
  }, 60_000);
});
