import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { HubError, DEFAULT_MAP_SOURCES } from '../../protocol';
import { SETTINGS_FILE_NAME, SettingsStore, silentLogger } from '../../hub';
import { makeTempDir } from '../../harness/temp';

describe('settings store (a real file)', () => {
  let temp: ReturnType<typeof makeTempDir>;
  beforeEach(() => (temp = makeTempDir()));
  afterEach(() => temp.cleanup());

  it('starts from defaults without creating a file, then writes atomically', () => {
    const store = new SettingsStore(temp.dir, silentLogger);
    expect(store.settings.value.locale).toBe('zh-CN');
    expect(existsSync(store.file)).toBe(false);
    store.update({ theme: 'night' });
    expect(JSON.parse(readFileSync(store.file, 'utf8'))).toMatchObject({ theme: 'night' });
    expect(readdirSync(temp.dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('keeps a corrupt file aside, uses defaults and says so', () => {
    writeFileSync(join(temp.dir, SETTINGS_FILE_NAME), '{"locale": "zh-CN", "theme":');
    const store = new SettingsStore(temp.dir, silentLogger);
    expect(store.settings.value).toEqual({ locale: 'zh-CN', theme: 'day', backendUrl: null, map: DEFAULT_MAP_SOURCES });
    expect(store.startupNotice).toMatch(/unusable/);
    const aside = readdirSync(temp.dir).find((f) => f.startsWith(`${SETTINGS_FILE_NAME}.corrupt-`));
    expect(aside).toBeDefined();
    expect(readFileSync(join(temp.dir, aside!), 'utf8')).toContain('"theme":');
  });

  it('treats a file with invalid values as unusable too', () => {
    writeFileSync(join(temp.dir, SETTINGS_FILE_NAME), JSON.stringify({ locale: 'xx', theme: 'day', backendUrl: null }));
    const store = new SettingsStore(temp.dir, silentLogger);
    expect(store.settings.value.locale).toBe('zh-CN');
    expect(store.startupNotice).toMatch(/locale/);
  });

  it('fills keys added by newer versions from the defaults', () => {
    writeFileSync(join(temp.dir, SETTINGS_FILE_NAME), JSON.stringify({ locale: 'en' }));
    const store = new SettingsStore(temp.dir, silentLogger);
    expect(store.settings.value).toEqual({ locale: 'en', theme: 'day', backendUrl: null, map: DEFAULT_MAP_SOURCES });
    expect(store.startupNotice).toBeNull();
  });

  it('refuses an invalid patch without touching the file or notifying', () => {
    const store = new SettingsStore(temp.dir, silentLogger);
    store.update({ locale: 'en' });
    const before = readFileSync(store.file, 'utf8');
    let notified = 0;
    store.settings.subscribe(() => notified++);
    expect(() => store.update({ backendUrl: 'ftp://x' })).toThrow(HubError);
    expect(() => store.update(null)).toThrow(HubError);
    expect(readFileSync(store.file, 'utf8')).toBe(before);
    expect(notified).toBe(1); // only the immediate call on subscribe
  });
});
