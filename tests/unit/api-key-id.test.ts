import { describe, expect, it } from 'vitest';
import { newApiKey, newApiKeyId } from '../../backend/auth/api-keys';
import { API_KEY_PATTERN } from '../../protocol';

describe('an API key id', () => {
  it('is 8 letters and digits, so a command line never reads it as an option, and spread over all 62', () => {
    const ids = Array.from({ length: 4000 }, newApiKeyId);
    for (const id of ids) expect(id).toMatch(/^[A-Za-z0-9]{8}$/);
    expect(new Set(ids).size).toBe(ids.length);
    expect(new Set(ids.join('')).size).toBe(62);
    const { key, record } = newApiKey({ name: '甲', source: 'hotline-12345', createdBy: 'cli', at: '2026-11-30T00:00:00Z' });
    expect(key).toMatch(API_KEY_PATTERN);
    expect(key.slice(3, 11)).toBe(record.id);
  });
});
