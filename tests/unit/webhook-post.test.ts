/** A webhook never reaches the backend's own network: addresses checked, names resolved and checked, nothing sent. */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { WebhookRefused, blockedAddress, postWebhook } from '../../backend/ingest/webhook-post';

describe('webhook addresses', () => {
  it('refuses loopback, private, link-local (metadata), CGNAT, unspecified, ULA and IPv4-in-IPv6; lets public ones through', () => {
    for (const a of ['127.0.0.1', '10.1.2.3', '172.20.0.1', '192.168.1.1', '169.254.169.254', '100.64.0.1', '0.0.0.0', '::1', '::', 'fd00::1', 'fe80::1', '::ffff:127.0.0.1', 'not-an-ip']) expect(blockedAddress(a), a).toBe(true);
    for (const a of ['8.8.8.8', '202.96.128.86', '2400:3200::1']) expect(blockedAddress(a), a).toBe(false);
  });

  it('sends nothing to an internal address or a name that resolves to one; sends when a city allows its own network', async () => {
    let received = 0;
    const server = createServer((req, res) => {
      received++;
      req.resume();
      res.writeHead(204).end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    try {
      await expect(postWebhook(`http://127.0.0.1:${port}/hook`, {}, '{}', 2000, false)).rejects.toBeInstanceOf(WebhookRefused);
      await expect(postWebhook(`http://localhost:${port}/hook`, {}, '{}', 2000, false)).rejects.toThrow(/内部地址/);
      await expect(postWebhook(`http://[::ffff:127.0.0.1]:${port}/hook`, {}, '{}', 2000, false)).rejects.toBeInstanceOf(WebhookRefused);
      expect(received).toBe(0);
      expect(await postWebhook(`http://127.0.0.1:${port}/hook`, { 'Content-Type': 'application/json' }, '{"a":1}', 2000, true)).toBe(204);
      expect(received).toBe(1);
    } finally {
      server.close();
    }
  });
});
