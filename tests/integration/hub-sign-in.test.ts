/**
 * A console hub signing in with a password at a real backend (no static token configured): 'required' until
 * signed in, a wrong password answered by reason, signed in → linked as that user; the session expiring mid-shift
 * stops the link (no retries), a command queued meanwhile waits in the outbox and goes after signing in again;
 * sign-out ends the session at the backend and keeps the cache.
 */
import { afterAll, beforeAll, expect } from 'vitest';
import { Hub } from '../../hub';
import { hashPassword } from '../../backend/auth/password';
import type { SqliteStore } from '../../backend/store/sqlite-store';
import { startTestBackend, TEST_TOKENS } from '../../harness/backend';
import { waitFor } from '../../harness/temp';
import { it } from '../../harness/fixtures';

let backend: Awaited<ReturnType<typeof startTestBackend>>;
beforeAll(async () => {
  backend = await startTestBackend({ auth: { sessionMaxMs: 5000, sweepMs: 100 } });
  await backend.store.setPassword('dispatcher', await hashPassword('dispatcher-password-1'));
  await backend.store.setPassword('duty', await hashPassword('duty-password-12'));
}, 60_000);
afterAll(async () => {
  await backend?.close();
  backend?.cleanup();
});

it('signs in, keeps queued commands through an expired session, signs in again, signs out', async ({ dataDir }) => {
  const hub = new Hub({ dataDir, version: 'test', link: { backoffBaseMs: 50, backoffMaxMs: 400 }, flushIntervalMs: 20 });
  try {
    hub.requireSignIn(backend.url);
    expect(hub.connection.value).toMatchObject({ status: 'offline', signIn: { state: 'required' }, lastError: { code: 'sign-in-required' } });
    expect(await hub.signIn('dispatcher', 'wrong-password')).toMatchObject({ ok: false, reason: 'wrong-password', message: expect.stringMatching(/用户名或密码错误/) });
    const ok = await hub.signIn('dispatcher', 'dispatcher-password-1');
    expect(ok).toMatchObject({ ok: true, user: { id: 'dispatcher' } });
    await waitFor(() => hub.connection.value.status === 'online', 'online after sign-in');
    expect(hub.connection.value).toMatchObject({ user: { id: 'dispatcher' }, signIn: { state: 'signed-in', demo: false } });

    // The session's absolute limit passes: the link stops and the windows are asked to sign in again.
    await waitFor(() => hub.connection.value.signIn.state === 'expired', 'the session to expire', 10_000);
    expect(hub.connection.value).toMatchObject({ status: 'offline', nextRetryAt: null, lastError: { code: 'session-expired' } });
    const event = [...hub.confirmed.collections.events.values()][0]!;
    hub.submitCommand({ commandId: 'cmd-after-expiry-1', type: 'event.comment', payload: { eventId: event.id, text: '过期后排队的批注' } });
    await new Promise((r) => setTimeout(r, 300));
    expect(hub.connection.value.pendingCommands).toBe(1);
    expect(hub.connection.value.status).toBe('offline');

    expect(await hub.signIn('dispatcher', 'dispatcher-password-1')).toMatchObject({ ok: true });
    await waitFor(() => hub.connection.value.status === 'online' && hub.connection.value.pendingCommands === 0, 'the queued command to go');
    expect((await backend.store.findCommand('cmd-after-expiry-1'))?.outcome.status).toBe('applied');

    const seq = hub.cache.lastSeq;
    await hub.signOut();
    expect(hub.connection.value).toMatchObject({ status: 'offline', signIn: { state: 'required' }, lastError: { code: 'signed-out' } });
    expect(hub.cache.lastSeq).toBe(seq);
    expect((backend.store as SqliteStore).auditLog(50).some((e) => e.kind === 'sign-out' && e.userId === 'dispatcher')).toBe(true);
  } finally {
    hub.close();
  }
}, 40_000);

it('a seat switch: refused while the previous user\'s commands wait, then the outgoing session is ended', async ({ dataDir }) => {
  const hub = new Hub({ dataDir, version: 'test', link: { backoffBaseMs: 50, backoffMaxMs: 400 }, flushIntervalMs: 20 });
  const signOuts = (userId: string): number => (backend.store as SqliteStore).auditLog(500).filter((e) => e.kind === 'sign-out' && e.userId === userId).length;
  try {
    hub.requireSignIn(backend.url);
    expect(await hub.signIn('dispatcher', 'dispatcher-password-1')).toMatchObject({ ok: true });
    await waitFor(() => hub.connection.value.status === 'online' && hub.connection.value.user?.id === 'dispatcher', 'online as dispatcher');
    await hub.signOut();
    const event = [...hub.confirmed.collections.events.values()][0]!;
    hub.submitCommand({ commandId: 'cmd-outgoing-1', type: 'event.comment', payload: { eventId: event.id, text: '交班前写下、未发出的批注' } });
    expect(hub.connection.value.pendingCommands).toBe(1);

    // Another user: refused (the backend's new session ended at once); the command is neither sent nor lost.
    const before = signOuts('duty');
    expect(await hub.signIn('duty', 'duty-password-12')).toMatchObject({ ok: false, reason: 'outbox-pending', pendingCommands: 1 });
    expect(signOuts('duty')).toBe(before + 1);
    expect(hub.connection.value).toMatchObject({ status: 'offline', signIn: { state: 'required' }, pendingCommands: 1 });
    expect(await backend.store.findCommand('cmd-outgoing-1')).toBeNull();

    // Discarded by a person: the incoming officer signs in.
    hub.discardCommand('cmd-outgoing-1');
    expect(await hub.signIn('duty', 'duty-password-12')).toMatchObject({ ok: true, user: { id: 'duty' } });
    await waitFor(() => hub.connection.value.status === 'online' && hub.connection.value.user?.id === 'duty', 'online as duty');

    // Signed in, another officer signs in at the same seat: the outgoing session is ended at the backend.
    const dutyOuts = signOuts('duty');
    expect(await hub.signIn('dispatcher', 'dispatcher-password-1')).toMatchObject({ ok: true });
    await waitFor(() => hub.connection.value.status === 'online' && hub.connection.value.user?.id === 'dispatcher', 'online as dispatcher again');
    expect(signOuts('duty')).toBe(dutyOuts + 1);
    expect(hub.connection.value.signIn.state).toBe('signed-in');
  } finally {
    hub.close();
  }
}, 40_000);

it("the area changed while the console was away: its cache is replaced by the new area's snapshot; unchanged, the stamp stays", async ({ dataDir }) => {
  const stored = (await backend.store.listUsers()).find((u) => u.id === 'dispatcher-d01')!;
  const open = async (): Promise<Hub> => {
    const hub = new Hub({ dataDir, version: 'test', backend: { url: backend.url, token: TEST_TOKENS['dispatcher-d01'] }, link: { backoffBaseMs: 50, backoffMaxMs: 400 } });
    await waitFor(() => hub.connection.value.status === 'online', 'online');
    return hub;
  };
  const districts = (hub: Hub): Set<string> => new Set([...hub.confirmed.collections.events.values()].map((e) => e.districtId));
  let hub = await open();
  try {
    expect(districts(hub)).toEqual(new Set(['d01']));
    hub.close();
    // Changed while no console of the user is connected (as the command line does): nothing closes, nothing marks.
    await backend.store.upsertUsers([{ ...stored, districtScope: ['d02'] }]);
    hub = await open();
    await waitFor(() => districts(hub).size === 1 && districts(hub).has('d02'), "only d02's events");
    const stamp = hub.cache.getMeta('syncStamp');
    hub.close();
    // The same area: the cursor and its stamp go again (the wire answers deltas: users-admin.test.ts).
    hub = await open();
    expect(stamp).toMatch(/^[\w-]{22}$/);
    expect(hub.cache.getMeta('syncStamp')).toBe(stamp);
    expect(districts(hub)).toEqual(new Set(['d02']));
  } finally {
    hub.close();
    await backend.store.upsertUsers([stored]);
  }
}, 40_000);
