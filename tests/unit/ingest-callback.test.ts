/**
 * A report's callbackUrl (backend/ingest/reports.ts checkCallback): a key without a webhook secret is refused (it
 * could not be signed); without --webhooks-to-private only https, and never a literal internal address; with it,
 * http and the city's own addresses too (a host name is resolved and checked at each try, webhook-post.ts).
 */
import { describe, expect, it } from 'vitest';
import { checkCallback, Refused } from '../../backend/ingest/reports';
import type { ApiKeyRecord } from '../../backend/store/types';

const key = (webhookSecret: string | null): ApiKeyRecord => ({ id: 'Ab3dE6gH', name: '12345', source: 'hotline', keyHash: 'a'.repeat(64), ratePerMinute: 600, createdAt: 't', createdBy: 'admin', revokedAt: null, revokedBy: null, lastUsedAt: null, webhookUrl: null, webhookSecret });
const refusal = (url: string, k: ApiKeyRecord, allowPrivate: boolean): Refused | null => {
  try {
    checkCallback(url, k, allowPrivate);
    return null;
  } catch (e) {
    if (e instanceof Refused) return e;
    throw e;
  }
};

describe('a report’s callbackUrl', () => {
  it('is taken when https (and, with private webhooks allowed, http and internal addresses)', () => {
    expect(refusal('https://12345.example/cb/1', key('whsec_x'), false)).toBeNull();
    expect(refusal('http://10.0.0.8/cb', key('whsec_x'), true)).toBeNull();
    expect(refusal('http://12345.example/cb', key('whsec_x'), true)).toBeNull();
  });

  it('is refused 400 on the callbackUrl path: no secret to sign it, http, a literal internal address', () => {
    const cases: Array<[string, string | null, RegExp]> = [
      ['https://12345.example/cb', null, /没有 webhook 签名密钥/],
      ['http://12345.example/cb', 'whsec_x', /须为 https/],
      ['https://127.0.0.1/cb', 'whsec_x', /内部地址 127\.0\.0\.1/],
      ['https://[::1]/cb', 'whsec_x', /内部地址 ::1/],
      ['https://169.254.169.254/latest', 'whsec_x', /内部地址 169\.254\.169\.254/],
    ];
    for (const [url, secret, message] of cases) {
      const r = refusal(url, key(secret), false);
      expect(r?.status, url).toBe(400);
      expect(r?.body, url).toMatchObject({ code: 'invalid', path: 'callbackUrl', message: expect.stringMatching(message) });
    }
  });
});
