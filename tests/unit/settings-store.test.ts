import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { HubError, DEFAULT_MAP_SOURCES, DEFAULT_SETTINGS } from '../../protocol';
import zhCN from '../../renderer/src/i18n/zh-CN';
import en from '../../renderer/src/i18n/en';
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
    expect(store.settings.value).toEqual({ locale: 'zh-CN', theme: 'day', backendUrl: null, map: DEFAULT_MAP_SOURCES, attachmentCacheMiB: 512, recordCalls: false });
    expect(store.startupNotice).toMatchObject({ code: 'settings-set-aside', keptAs: expect.stringContaining(`${SETTINGS_FILE_NAME}.corrupt-`) });
    const aside = readdirSync(temp.dir).find((f) => f.startsWith(`${SETTINGS_FILE_NAME}.corrupt-`));
    expect(aside).toBeDefined();
    expect(readFileSync(join(temp.dir, aside!), 'utf8')).toContain('"theme":');
  });

  it('treats a file with invalid values as unusable too', () => {
    writeFileSync(join(temp.dir, SETTINGS_FILE_NAME), JSON.stringify({ locale: 'xx', theme: 'day', backendUrl: null }));
    const store = new SettingsStore(temp.dir, silentLogger);
    expect(store.settings.value.locale).toBe('zh-CN');
    expect(store.startupNotice?.code).toBe('settings-set-aside');
    expect(store.startupNotice?.detail).toMatch(/locale/);
  });

  it('fills keys added by newer versions from the defaults', () => {
    writeFileSync(join(temp.dir, SETTINGS_FILE_NAME), JSON.stringify({ locale: 'en' }));
    const store = new SettingsStore(temp.dir, silentLogger);
    expect(store.settings.value).toEqual({ locale: 'en', theme: 'day', backendUrl: null, map: DEFAULT_MAP_SOURCES, attachmentCacheMiB: 512, recordCalls: false });
    expect(store.startupNotice).toBeNull();
  });

  it('a file with only some map keys takes the defaults for the rest, at both levels', () => {
    writeFileSync(join(temp.dir, SETTINGS_FILE_NAME), JSON.stringify({ map: { gridsGeoJsonUrl: 'https://gis.city.example/grids.geojson' } }));
    const store = new SettingsStore(temp.dir, silentLogger);
    expect(store.startupNotice).toBeNull();
    expect(store.settings.value).toEqual({ ...DEFAULT_SETTINGS, map: { ...DEFAULT_MAP_SOURCES, gridsGeoJsonUrl: 'https://gis.city.example/grids.geojson' } });
    expect(readdirSync(temp.dir).filter((f) => f.includes('.corrupt-'))).toEqual([]);
  });

  it('still sets real garbage aside: a wrong type, unknown keys inside map, a map that is not an object, not an object at all', () => {
    const cases: [unknown, RegExp][] = [
      [{ map: { tilesetUrl: 42 } }, /map\.tilesetUrl/],
      [{ map: { gridsGeoJsonUrl: 'ftp://x/grids.json' } }, /map\.gridsGeoJsonUrl/],
      [{ map: { gridsGeoJsonUrl: null, gridUrl: 'https://x/g.json' } }, /gridUrl/],
      [{ map: 'https://x/g.json' }, /map/],
      [{ map: null }, /map/],
      [{ theme: 7 }, /theme/],
      [{ map: { home: { lon: 200, lat: 30, height: 5000 } } }, /map\.home\.lon/],
      [{ map: { home: { lon: 120, lat: 30 } } }, /map\.home\.height/],
      [[{ locale: 'en' }], /JSON object/],
      ['zh-CN', /JSON object/],
      [null, /JSON object/],
    ];
    for (const [i, [content, detail]] of cases.entries()) {
      const sub = join(temp.dir, String(i));
      mkdirSync(sub);
      writeFileSync(join(sub, SETTINGS_FILE_NAME), JSON.stringify(content));
      const store = new SettingsStore(sub, silentLogger);
      expect(store.settings.value, JSON.stringify(content)).toEqual(DEFAULT_SETTINGS);
      expect(store.startupNotice?.code, JSON.stringify(content)).toBe('settings-set-aside');
      expect(store.startupNotice?.detail, JSON.stringify(content)).toMatch(detail);
      expect(readdirSync(sub).some((f) => f.startsWith(`${SETTINGS_FILE_NAME}.corrupt-`))).toBe(true);
    }
  });

  it('takes a home view for the map (heading 0 unless given), null by default', () => {
    writeFileSync(join(temp.dir, SETTINGS_FILE_NAME), JSON.stringify({ map: { home: { lon: 120.15, lat: 30.27, height: 12000 } } }));
    const store = new SettingsStore(temp.dir, silentLogger);
    expect(store.startupNotice).toBeNull();
    expect(store.settings.value.map.home).toEqual({ lon: 120.15, lat: 30.27, height: 12000, heading: 0 });
    expect(DEFAULT_MAP_SOURCES.home).toBeNull();
  });

  it('takes a 天地图 preset and a partial tileset offset from the file; saves an offset change; sets a bad key aside', () => {
    const key = 'a'.repeat(32);
    writeFileSync(join(temp.dir, SETTINGS_FILE_NAME), JSON.stringify({ map: { imagery: { type: 'tianditu', key }, tilesetUrl: 'https://gis.city.example/tileset.json', tilesetOffset: { height: -8 } } }));
    const store = new SettingsStore(temp.dir, silentLogger);
    expect(store.startupNotice).toBeNull();
    expect(store.settings.value.map.imagery).toEqual({ type: 'tianditu', key, layer: 'img', annotation: true, projection: 'w' });
    expect(store.settings.value.map.tilesetOffset).toEqual({ height: -8, east: 0, north: 0 });
    store.update({ map: { ...store.settings.value.map, tilesetOffset: { height: 2, east: 0, north: 0 } } });
    expect(new SettingsStore(temp.dir, silentLogger).settings.value.map.tilesetOffset.height).toBe(2);
    expect(() => store.update({ map: { ...store.settings.value.map, tilesetOffset: { height: 5000, east: 0, north: 0 } } })).toThrow(/三维模型高度偏移须在/);
    const sub = join(temp.dir, 'bad-key');
    mkdirSync(sub);
    writeFileSync(join(sub, SETTINGS_FILE_NAME), JSON.stringify({ map: { imagery: { type: 'tianditu', key: 'my-key' } } }));
    const refused = new SettingsStore(sub, silentLogger);
    expect(refused.settings.value).toEqual(DEFAULT_SETTINGS);
    expect(refused.startupNotice?.detail).toMatch(/map\.imagery\.key.*天地图密钥/);
  });

  it('words the set-aside notice in Chinese by default, in English when asked, with the file kept', () => {
    const notice = { code: 'settings-set-aside', keptAs: '/data/settings.json.corrupt-1', detail: 'x' } as const;
    expect(zhCN.notice.code[notice.code].replace('{keptAs}', notice.keptAs)).toBe('设置文件（settings.json）无法使用，已改用默认设置；原文件另存为 /data/settings.json.corrupt-1');
    expect(en.notice.code[notice.code]).toMatch(/^The settings file .*\{keptAs\}$/);
    expect(DEFAULT_SETTINGS.locale).toBe('zh-CN');
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

  it('takes one backend address or a list of instances; an existing file with one address still loads', () => {
    writeFileSync(join(temp.dir, SETTINGS_FILE_NAME), JSON.stringify({ locale: 'zh-CN', theme: 'day', backendUrl: 'ws://10.0.0.5:7700/ws' }));
    const store = new SettingsStore(temp.dir, silentLogger);
    expect(store.startupNotice).toBeNull();
    expect(store.settings.value.backendUrl).toBe('ws://10.0.0.5:7700/ws');
    const list = ['ws://10.0.0.5:7700/ws', 'wss://backend-2.example:8443/ws'];
    store.update({ backendUrl: list });
    expect(new SettingsStore(temp.dir, silentLogger).settings.value.backendUrl).toEqual(list);
  });

  it('refuses a list with a bad entry, an empty list or an address twice, in Chinese, naming the entry', () => {
    const store = new SettingsStore(temp.dir, silentLogger);
    const refusal = (backendUrl: unknown): HubError => {
      try {
        store.update({ backendUrl });
      } catch (e) {
        expect(e).toBeInstanceOf(HubError);
        return e as HubError;
      }
      throw new Error(`accepted ${JSON.stringify(backendUrl)}`);
    };
    const bad = refusal(['ws://10.0.0.5:7700/ws', 'http://10.0.0.6:7700/ws']);
    expect(bad.code).toBe('invalid-params');
    expect(bad.issues).toEqual([{ path: 'backendUrl.1', message: '后台地址「http://10.0.0.6:7700/ws」无效：须以 ws:// 或 wss:// 开头，且不含空白' }]);
    expect(bad.message).toContain('backendUrl.1: 后台地址「http://10.0.0.6:7700/ws」无效');
    expect(refusal([]).issues?.[0]?.message).toBe('后台地址列表不能为空');
    expect(refusal(['ws://a.example/ws', 'ws://A.example/ws']).issues).toEqual([{ path: 'backendUrl.1', message: '后台地址「ws://A.example/ws」重复' }]);
    expect(refusal(['ws://a.example/ws', 7]).issues?.[0]?.message).toBe('后台地址须为一个 ws:// 或 wss:// 地址，或这样的地址列表');
    expect(refusal('ws://has space/ws').issues?.[0]?.message).toMatch(/^后台地址「ws:\/\/has space\/ws」无效/);
    expect(existsSync(store.file)).toBe(false);
  });
});
