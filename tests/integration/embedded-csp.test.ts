/**
 * A page loaded before the embedded backend (and its SIP server) was up may still reach them: while the hub
 * waits for an embedded backend (starting, or running but not yet welcomed the hub), the page's policy names
 * loopback on any port, so calls and video come by themselves. Once the welcome said the backend's address and
 * SIP account, pages name those exact origins; a failed or retrying embedded backend gets no wildcard; a console
 * linked to a configured backend names that backend's origins only.
 */
import { expect } from 'vitest';
import { buildContentSecurityPolicy } from '../../web-serving/csp';
import { EMBEDDED_BACKEND_ORIGINS, consoleMediaOrigins } from '../../hub/media-origins';
import { it } from '../../harness/fixtures';
import { TEST_TOKENS } from '../../harness/backend';
import { waitFor } from '../../harness/temp';

const connectSrc = (origins: string[]): string => buildContentSecurityPolicy({ mediaOrigins: origins }).split('; ').find((d) => d.startsWith('connect-src'))!;
const supervised = (state: 'starting' | 'running' | 'retrying' | 'failed') => ({ state, failures: state === 'starting' || state === 'running' ? 0 : 1, nextRetryAt: null, lastError: state === 'starting' || state === 'running' ? null : { code: 'exited', message: 'embedded backend exited (code 1)', path: null } });

it('names loopback on any port from the first page while the embedded backend starts, and nothing more otherwise', ({ newHub }) => {
  const hub = newHub({ version: 'test' });
  expect(consoleMediaOrigins(hub)).toEqual([]);
  expect(connectSrc(consoleMediaOrigins(hub))).toBe("connect-src 'self'");
  hub.setEmbeddedBackend(supervised('starting'));
  expect(consoleMediaOrigins(hub)).toEqual([...EMBEDDED_BACKEND_ORIGINS]);
  expect(connectSrc(consoleMediaOrigins(hub))).toBe("connect-src 'self' ws://127.0.0.1:* http://127.0.0.1:*");
});

it('no loopback wildcard for a failed or retrying embedded backend', ({ newHub }) => {
  const hub = newHub({ version: 'test' });
  hub.setEmbeddedBackend(supervised('failed'));
  expect(consoleMediaOrigins(hub)).toEqual([]);
  hub.setEmbeddedBackend(supervised('retrying'));
  expect(consoleMediaOrigins(hub)).toEqual([]);
  hub.setEmbeddedBackend(supervised('starting'));
  expect(consoleMediaOrigins(hub)).toEqual([...EMBEDDED_BACKEND_ORIGINS]);
});

it('once the running backend welcomed the hub: its address and its SIP server exactly, no wildcard', async ({ newHub, startBackend }) => {
  const backend = await startBackend({ sip: { url: 'ws://127.0.0.1:5999', secret: 'embedded-csp-test-sip-secret' } });
  const hub = newHub({ version: 'test' });
  hub.setEmbeddedBackend(supervised('running'));
  expect(consoleMediaOrigins(hub)).toEqual([...EMBEDDED_BACKEND_ORIGINS]); // running, address not known yet
  hub.connectTo({ url: backend.url, token: TEST_TOKENS.dispatcher });
  expect(consoleMediaOrigins(hub)).toEqual(expect.arrayContaining([...EMBEDDED_BACKEND_ORIGINS])); // linking: no welcome yet
  await waitFor(() => hub.connection.value.status === 'online', 'the hub online');
  const port = new URL(backend.url).port;
  const origins = consoleMediaOrigins(hub);
  expect(origins).toEqual(expect.arrayContaining([`ws://127.0.0.1:${port}`, `http://127.0.0.1:${port}`, 'ws://127.0.0.1:5999', 'http://127.0.0.1:5999']));
  expect(origins.some((o) => o.includes('*'))).toBe(false);
  // Started again (other ports, maybe): the pages loaded meanwhile may reach it wherever it comes up.
  hub.setEmbeddedBackend(supervised('starting'));
  expect(consoleMediaOrigins(hub)).toEqual(expect.arrayContaining([...EMBEDDED_BACKEND_ORIGINS]));
});

it('a configured backend: its own origins, no loopback wildcard', ({ newHub }) => {
  const hub = newHub({ version: 'test', backend: { url: 'ws://10.1.2.3:8080/ws', token: 'not-used-here' } });
  const origins = consoleMediaOrigins(hub);
  expect(origins).toEqual(expect.arrayContaining(['ws://10.1.2.3:8080', 'http://10.1.2.3:8080']));
  expect(origins.some((o) => o.includes('*'))).toBe(false);
});
