/**
 * The SIP server the calls go through: the project's Kamailio config, run for real. Registration over SIP
 * over WebSocket with the backend-computed password (raw SIP and sip.js), wrong passwords and someone
 * else's credentials refused, malformed SIP dropped without harm.
 */
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { createHash, randomBytes } from 'node:crypto';
import { WebSocket } from 'ws';
import { Registerer, RegistererState, UserAgent } from 'sip.js';
import { sipPassword, startKamailio, type RunningKamailio } from '../../backend/sip/kamailio';
import { TEST_TOKENS } from '../../harness/backend';
import { waitFor } from '../../harness/temp';
import { it } from '../../harness/fixtures';

const SECRET = 'test-secret-0123456789';
let kamailio: RunningKamailio;
beforeAll(async () => {
  kamailio = await startKamailio({ secret: SECRET });
}, 20_000);
afterAll(async () => {
  await kamailio?.stop();
});

/** A bare SIP-over-WebSocket client: sends one request, returns the first final response. */
async function sipRequest(ws: WebSocket, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no SIP response in 3 s')), 3000);
    const onMessage = (data: Buffer): void => {
      const reply = data.toString();
      if (/^SIP\/2\.0 1\d\d/.test(reply)) return; // provisional
      clearTimeout(timer);
      ws.off('message', onMessage);
      resolve(reply);
    };
    ws.on('message', onMessage);
    ws.send(text);
  });
}
async function open(): Promise<WebSocket> {
  const ws = new WebSocket(kamailio.url, 'sip');
  await new Promise<void>((resolve, reject) => (ws.once('open', () => resolve()), ws.once('error', reject)));
  return ws;
}
function register(user: string, authorization = '', cseq = 1, callId = randomBytes(8).toString('hex')): string {
  const host = '127.0.0.1';
  return [
    `REGISTER sip:${host} SIP/2.0`,
    `Via: SIP/2.0/WS abc.invalid;branch=z9hG4bK${randomBytes(6).toString('hex')}`,
    'Max-Forwards: 70',
    `To: <sip:${user}@${host}>`,
    `From: <sip:${user}@${host}>;tag=${randomBytes(4).toString('hex')}`,
    `Call-ID: ${callId}`,
    `CSeq: ${cseq} REGISTER`,
    `Contact: <sip:${user}@abc.invalid;transport=ws>;expires=60`,
    ...(authorization ? [`Authorization: ${authorization}`] : []),
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
}
const md5 = (s: string): string => createHash('md5').update(s).digest('hex');
function digest(challenge: string, user: string, password: string): string {
  const realm = /realm="([^"]+)"/.exec(challenge)![1]!;
  const nonce = /nonce="([^"]+)"/.exec(challenge)![1]!;
  const uri = 'sip:127.0.0.1';
  const response = md5(`${md5(`${user}:${realm}:${password}`)}:${nonce}:${md5(`REGISTER:${uri}`)}`);
  return `Digest username="${user}", realm="${realm}", nonce="${nonce}", uri="${uri}", response="${response}", algorithm=MD5`;
}

describe('Kamailio (SIP over WebSocket)', () => {
  it('challenges, then registers an account with its password; refuses a wrong one and borrowed credentials', async () => {
    const ws = await open();
    const callId = randomBytes(8).toString('hex');
    const challenge = await sipRequest(ws, register('staff0001', '', 1, callId));
    expect(challenge).toMatch(/^SIP\/2\.0 401/);
    expect(challenge).toMatch(/WWW-Authenticate: Digest realm="zongzhi"/);
    const ok = await sipRequest(ws, register('staff0001', digest(challenge, 'staff0001', sipPassword(SECRET, 'staff0001')), 2, callId));
    expect(ok).toMatch(/^SIP\/2\.0 200/);
    const wrong = await sipRequest(ws, register('staff0002', digest(challenge, 'staff0002', 'not-the-password'), 3, callId));
    expect(wrong).toMatch(/^SIP\/2\.0 401/);
    // Registering staff0003 with staff0001's (valid) credentials: checked against staff0003's password.
    const fresh = await sipRequest(ws, register('staff0003'));
    const borrowed = await sipRequest(ws, register('staff0003', digest(fresh, 'staff0001', sipPassword(SECRET, 'staff0001'))));
    expect(borrowed).toMatch(/^SIP\/2\.0 401/);
    // staff0003's password under another auth name: the names must match.
    const named = await sipRequest(ws, register('staff0003', digest(fresh, 'staff0001', sipPassword(SECRET, 'staff0003'))));
    expect(named).toMatch(/^SIP\/2\.0 (401|403)/);
    ws.close();
  });

  it('sip.js (what the console and the field client use) registers and unregisters', async () => {
    const userAgent = new UserAgent({
      uri: UserAgent.makeURI('sip:dispatcher@127.0.0.1')!,
      transportOptions: { server: kamailio.url },
      authorizationUsername: 'dispatcher',
      authorizationPassword: sipPassword(SECRET, 'dispatcher'),
      logLevel: 'error',
    });
    await userAgent.start();
    const registerer = new Registerer(userAgent, { expires: 60 });
    const registered = new Promise<void>((resolve) => registerer.stateChange.addListener((s) => s === RegistererState.Registered && resolve()));
    await registerer.register();
    await registered;
    await registerer.unregister();
    await userAgent.stop();

    const impostor = new UserAgent({ uri: UserAgent.makeURI('sip:leader@127.0.0.1')!, transportOptions: { server: kamailio.url }, authorizationUsername: 'leader', authorizationPassword: 'guess', logLevel: 'error' });
    await impostor.start();
    const rejected = new Promise<number>((resolve) => void new Registerer(impostor).register({ requestDelegate: { onReject: (r) => resolve(r.message.statusCode!) } }));
    expect(await rejected).toBe(401);
    await impostor.stop();
  }, 20_000);

  it('drops malformed SIP and keeps serving', async () => {
    const ws = await open();
    ws.send('HELLO KAMAILIO\r\n\r\n');
    ws.send('REGISTER sip:127.0.0.1 SIP/2.0\r\nVia: nonsense\r\nCSeq: x\r\n\r\n');
    ws.send(Buffer.from(randomBytes(512)));
    await new Promise((r) => setTimeout(r, 300));
    const other = await open();
    expect(await sipRequest(other, register('staff0009'))).toMatch(/^SIP\/2\.0 401/);
    expect(kamailio.process.exitCode).toBeNull();
    ws.close();
    other.close();
  });

  it('the backend gives the signed-in user a SIP account (through the hub, memory only) that Kamailio accepts', async ({ startBackend, newHub }) => {
    // The test's own backend and hub (closed after it, with its temp dir).
    const backend = await startBackend({ historyDays: 0, sip: { url: kamailio.url, secret: SECRET } });
    const hub = newHub({ version: 'test', backend: { url: backend.url, token: TEST_TOKENS.dispatcher } });
    await waitFor(() => hub.sipAccount.value.account !== null, 'the SIP account from the welcome', 20_000);
    const account = hub.sipAccount.value.account!;
    expect(account).toMatchObject({ url: kamailio.url, username: 'dispatcher', realm: 'zongzhi', domain: '127.0.0.1' });
    const userAgent = new UserAgent({ uri: UserAgent.makeURI(`sip:${account.username}@${account.domain}`)!, transportOptions: { server: account.url }, authorizationUsername: account.username, authorizationPassword: account.password, logLevel: 'error' });
    await userAgent.start();
    const registerer = new Registerer(userAgent);
    const registered = new Promise<void>((resolve) => registerer.stateChange.addListener((s) => s === RegistererState.Registered && resolve()));
    await registerer.register();
    await registered;
    await userAgent.stop();
    // Never in the cache file.
    expect(JSON.stringify(hub.cache.getMeta('user'))).not.toContain(account.password);
  }, 60_000);
});
