/**
 * A page loaded before the embedded backend (and its SIP server) was up may still reach them: while the hub
 * supervises an embedded backend, the page's policy names loopback on any port, so calls and video come by
 * themselves; a console linked to a configured backend names that backend's origins only.
 */
import { expect } from 'vitest';
import { buildContentSecurityPolicy } from '../../web-serving/csp';
import { EMBEDDED_BACKEND_ORIGINS, consoleMediaOrigins } from '../../hub/media-origins';
import { it } from '../../harness/fixtures';

const connectSrc = (origins: string[]): string => buildContentSecurityPolicy({ mediaOrigins: origins }).split('; ').find((d) => d.startsWith('connect-src'))!;

it('names loopback on any port from the first page while the embedded backend starts, and nothing more otherwise', ({ newHub }) => {
  const hub = newHub({ version: 'test' });
  expect(consoleMediaOrigins(hub)).toEqual([]);
  expect(connectSrc(consoleMediaOrigins(hub))).toBe("connect-src 'self'");
  hub.setEmbeddedBackend({ state: 'starting', failures: 0, nextRetryAt: null, lastError: null });
  expect(consoleMediaOrigins(hub)).toEqual([...EMBEDDED_BACKEND_ORIGINS]);
  expect(connectSrc(consoleMediaOrigins(hub))).toBe("connect-src 'self' ws://127.0.0.1:* http://127.0.0.1:*");
});

it('a configured backend: its own origins, no loopback wildcard', ({ newHub }) => {
  const hub = newHub({ version: 'test', backend: { url: 'ws://10.1.2.3:8080/ws', token: 'not-used-here' } });
  const origins = consoleMediaOrigins(hub);
  expect(origins).toEqual(expect.arrayContaining(['ws://10.1.2.3:8080', 'http://10.1.2.3:8080']));
  expect(origins.some((o) => o.includes('*'))).toBe(false);
});
