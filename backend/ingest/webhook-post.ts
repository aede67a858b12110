/**
 * The webhook's one POST, to a URL an administrator typed: never to the backend's own network. The host is
 * resolved here and every address it resolves to is checked against the ranges a source system's platform never
 * lives in — loopback, private (RFC 1918, ULA), link-local (the cloud metadata address among them), CGNAT,
 * unspecified, multicast, and IPv4 inside IPv6 — and the connection goes to the address that was checked (the
 * lookup is the socket's own: a DNS answer that changes between check and connect cannot slip past). A refusal
 * names the address; nothing is sent. `allowPrivate` (a city whose platforms sit on its own private network, and
 * the tests' local receiver) turns the check off.
 */
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { BlockList, isIP, type LookupFunction } from 'node:net';

const BLOCKED = new BlockList();
for (const [net, prefix] of [['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12], ['192.168.0.0', 16], ['224.0.0.0', 4], ['240.0.0.0', 4]] as const) BLOCKED.addSubnet(net, prefix, 'ipv4');
// (IPv4 inside IPv6 — ::ffff:a.b.c.d — is checked as the IPv4 address it carries: a BlockList subnet of those
// would also match every plain IPv4 address.)
for (const [net, prefix] of [['::', 128], ['::1', 128], ['fc00::', 7], ['fe80::', 10], ['ff00::', 8]] as const) BLOCKED.addSubnet(net, prefix, 'ipv6');

/** Whether an address is one a webhook may not reach (see above). */
export function blockedAddress(address: string): boolean {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)?.[1];
  if (mapped) return blockedAddress(mapped);
  // NAT64 (64:ff9b::/96) reaches IPv4 through a gateway: whatever it carries may be internal.
  if (/^64:ff9b::/i.test(address)) return true;
  const family = isIP(address);
  if (family === 0) return true;
  return BLOCKED.check(address, family === 6 ? 'ipv6' : 'ipv4');
}

export class WebhookRefused extends Error {}

/** A lookup that answers only addresses a webhook may reach (all of them checked; the first one used). */
const checkedLookup: LookupFunction = (hostname, options, callback) => {
  dnsLookup(hostname, { ...options, all: true }, (error, addresses) => {
    if (error) return callback(error, '', 0);
    const list = addresses as LookupAddress[];
    const bad = list.find((a) => blockedAddress(a.address));
    if (bad || list.length === 0) return callback(new WebhookRefused(`回调地址 ${hostname} 解析到内部地址 ${bad?.address ?? '（无）'}，不发送 / the webhook host resolves to an internal address`), '', 0);
    if ((options as { all?: boolean }).all) return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, list);
    callback(null, list[0]!.address, list[0]!.family);
  });
};

/** POSTs `body` to `url` (no redirects followed); resolves with the HTTP status. */
export function postWebhook(url: string, headers: Record<string, string>, body: string, timeoutMs: number, allowPrivate: boolean): Promise<number> {
  return new Promise((resolve, reject) => {
    const target = new URL(url);
    const literal = target.hostname.replace(/^\[|\]$/g, '');
    if (!allowPrivate && isIP(literal) !== 0 && blockedAddress(literal)) return reject(new WebhookRefused(`回调地址是内部地址 ${literal}，不发送 / the webhook URL is an internal address`));
    const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
    const req = send(target, { method: 'POST', headers: { ...headers, 'Content-Length': Buffer.byteLength(body) }, timeout: timeoutMs, ...(allowPrivate ? {} : { lookup: checkedLookup }) }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer in ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(body);
  });
}
