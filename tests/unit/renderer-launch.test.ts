import { describe, expect, it } from 'vitest';
import { readLaunchParams } from '../../renderer/src/transports/connect';
import { hubSocketUrl } from '../../renderer/src/transports/ws-transport';
import { homeWorkspace } from '../../renderer/src/workspaces';
import zh from '../../renderer/src/i18n/zh-CN';
import en from '../../renderer/src/i18n/en';

function memoryStorage() {
  const data = new Map<string, string>();
  return { getItem: (k: string) => data.get(k) ?? null, setItem: (k: string, v: string) => void data.set(k, v) };
}

describe('renderer launch parameters', () => {
  it('takes the token from the URL and keeps it for reloads (after the URL was cleaned)', () => {
    const storage = memoryStorage();
    expect(readLaunchParams({ origin: 'http://127.0.0.1:1', search: '?token=abc&role=kpi' }, storage)).toEqual({ token: 'abc', role: 'kpi', demo: false });
    expect(readLaunchParams({ origin: 'http://127.0.0.1:1', search: '' }, storage)).toEqual({ token: 'abc', role: null, demo: false });
    expect(readLaunchParams({ origin: 'http://x', search: '?demo=1' }, storage).demo).toBe(true);
  });
  it('has no token when none was ever given', () => {
    expect(readLaunchParams({ origin: 'http://x', search: '?role=map' }, memoryStorage()).token).toBeNull();
  });
  it('builds the hub socket URL on the page origin', () => {
    expect(hubSocketUrl('http://127.0.0.1:5000', 'a b', 'map')).toBe('ws://127.0.0.1:5000/hub?token=a+b&role=map');
    expect(hubSocketUrl('https://wall.local', 't')).toBe('wss://wall.local/hub?token=t');
  });
  it('opens each display role on its own workspace', () => {
    expect(homeWorkspace('combined')).toBe('map');
    expect(homeWorkspace('video')).toBe('video');
  });
});

describe('translations', () => {
  function keys(obj: unknown, prefix = ''): string[] {
    if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) return [prefix];
    return Object.entries(obj).flatMap(([k, v]) => keys(v, prefix ? `${prefix}.${k}` : k));
  }
  it('English has every Chinese key, and no empty text', () => {
    expect(keys(en).sort()).toEqual(keys(zh).sort());
    const texts = JSON.stringify([zh, en]);
    expect(texts).not.toMatch(/""/);
  });
});
