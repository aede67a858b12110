/**
 * The map sources in settings.json: the 天地图 preset (its key's shape, its layers, the URLs built from it and the
 * origins the CSP allows), the tileset's offset, and files written before either existed.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_MAP_SOURCES, DEFAULT_SETTINGS, MapSources, Settings, imageryTemplates, mapSourceOrigins, tiandituTemplates, validate, type TiandituSource } from '../../protocol';
import { deadSource, sampleTileUrl } from '../../renderer/src/map/source-check';

const KEY = '0123456789abcdef0123456789ABCDEF';
const tianditu = (extra: Record<string, unknown> = {}): TiandituSource => {
  const parsed = validate(MapSources, { ...DEFAULT_MAP_SOURCES, imagery: { type: 'tianditu', key: KEY, ...extra } });
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.issues));
  if (parsed.value.imagery?.type !== 'tianditu') throw new Error('not tianditu');
  return parsed.value.imagery;
};
const messages = (map: unknown): string[] => {
  const checked = validate(MapSources, map);
  return checked.ok ? [] : checked.issues.map((i) => `${i.path}: ${i.message}`);
};

describe('天地图 preset', () => {
  it('takes a key and defaults to 影像 with its 注记 on Web Mercator', () => {
    expect(tianditu()).toEqual({ type: 'tianditu', key: KEY, layer: 'img', annotation: true, projection: 'w' });
  });

  it('refuses a key that is not 32 hex digits, an unknown layer or projection, an unknown key, in Chinese', () => {
    const bad = (imagery: Record<string, unknown>): string[] => messages({ ...DEFAULT_MAP_SOURCES, imagery: { type: 'tianditu', key: KEY, ...imagery } });
    expect(bad({ key: 'abc' })).toEqual(['imagery.key: 天地图密钥（key）「abc」无效：须为 32 位十六进制字符（天地图控制台申请的 tk）']);
    expect(bad({ key: `${KEY.slice(0, 31)}g` })[0]).toMatch(/^imagery\.key: 天地图密钥（key）/);
    expect(bad({ key: `${KEY}0` })[0]).toMatch(/^imagery\.key: /);
    expect(bad({ layer: 'sat' })).toEqual(['imagery.layer: 天地图图层（layer）须为 img（影像）、vec（矢量）或 ter（地形晕渲）']);
    expect(bad({ projection: 'm' })).toEqual(['imagery.projection: 天地图投影（projection）须为 w（球面墨卡托）或 c（经纬度）']);
    expect(bad({ baseUrl: 'ftp://10.1.2.3/tdt' })[0]).toMatch(/^imagery\.baseUrl: /);
    expect(bad({ tk: KEY })[0]).toMatch(/tk/);
    expect(messages({ ...DEFAULT_MAP_SOURCES, imagery: { type: 'tianditu' } })[0]).toMatch(/^imagery\.key: /);
  });

  it('builds 天地图 WMTS GetTile URLs for the base and its matching 注记 layer', () => {
    const { base, annotation } = tiandituTemplates(tianditu());
    expect(base).toEqual({
      url: `https://t{s}.tianditu.gov.cn/img_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0&LAYER=img&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles&TILEMATRIX={z}&TILEROW={y}&TILECOL={x}&tk=${KEY}`,
      subdomains: ['0', '1', '2', '3', '4', '5', '6', '7'],
    });
    expect(annotation?.url).toContain('/cia_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0&LAYER=cia&STYLE=default&TILEMATRIXSET=w&');
    expect(tiandituTemplates(tianditu({ layer: 'vec', projection: 'c' })).annotation?.url).toContain('/cva_c/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0&LAYER=cva&STYLE=default&TILEMATRIXSET=c&');
    expect(tiandituTemplates(tianditu({ layer: 'ter' })).annotation?.url).toContain('LAYER=cta&');
    expect(tiandituTemplates(tianditu({ annotation: false })).annotation).toBeNull();
    expect(imageryTemplates(tianditu({ annotation: false }))).toHaveLength(1);
  });

  it('goes through a mirror or an intranet proxy (baseUrl), with or without subdomains', () => {
    const proxied = tiandituTemplates(tianditu({ baseUrl: 'http://10.20.0.8:8080/tianditu/' }));
    expect(proxied.base.url).toMatch(/^http:\/\/10\.20\.0\.8:8080\/tianditu\/img_w\/wmts\?SERVICE=WMTS&/);
    expect(proxied.base.subdomains).toEqual([]);
    expect(tiandituTemplates(tianditu({ baseUrl: 'https://tdt{s}.gov.city.example' })).base.subdomains).toHaveLength(8);
  });

  it('a sample tile of level 1 has every parameter filled in', () => {
    const { base } = tiandituTemplates(tianditu());
    expect(sampleTileUrl(base.url, base.subdomains, { z: 1, x: 1, y: 0 })).toBe(`https://t0.tianditu.gov.cn/img_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0&LAYER=img&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles&TILEMATRIX=1&TILEROW=0&TILECOL=1&tk=${KEY}`);
    expect(sampleTileUrl('https://{s}.tiles.example/{z}/{x}/{y}.png', ['a', 'b'])).toBe('https://a.tiles.example/0/0/0.png');
  });

  it('the CSP allows the eight 天地图 hosts, or the proxy alone, and nothing else', () => {
    const origins = mapSourceOrigins({ ...DEFAULT_MAP_SOURCES, imagery: tianditu(), tilesetUrl: 'https://gis.city.example/3dtiles/tileset.json' });
    expect(origins).toEqual([...Array.from({ length: 8 }, (_, i) => `https://t${i}.tianditu.gov.cn`), 'https://gis.city.example']);
    expect(mapSourceOrigins({ ...DEFAULT_MAP_SOURCES, imagery: tianditu({ baseUrl: 'http://10.20.0.8:8080/tianditu' }) })).toEqual(['http://10.20.0.8:8080']);
  });

  it('a refused key or an error page instead of a tile means the server is dead for us; a 404 for one tile does not', () => {
    expect(deadSource({ cause: 'tianditu-key', status: 403, detail: '' })).toBe(true);
    expect(deadSource({ cause: 'not-image', detail: '' })).toBe(true);
    expect(deadSource({ cause: 'http', status: 404, detail: '' })).toBe(false);
  });
});

describe('tileset offset and older settings files', () => {
  it('a file written before the offset existed (tilesetUrl a string, no tilesetOffset) still loads, with no offset', () => {
    const old = { locale: 'zh-CN', theme: 'day', backendUrl: null, map: { imagery: { type: 'xyz', url: 'https://tiles.example/{z}/{x}/{y}.png' }, terrainUrl: null, tilesetUrl: 'https://gis.city.example/tileset.json', gridsGeoJsonUrl: null, home: null } };
    // Top-level keys added since (attachmentCacheMiB) are filled from the defaults by the settings store.
    const checked = validate(Settings, { ...DEFAULT_SETTINGS, ...old });
    expect(checked.ok && checked.value.map.tilesetOffset).toEqual({ height: 0, east: 0, north: 0 });
  });

  it('takes part of an offset, and refuses one out of range or not a number, in Chinese', () => {
    const checked = validate(MapSources, { ...DEFAULT_MAP_SOURCES, tilesetOffset: { height: -12.5 } });
    expect(checked.ok && checked.value.tilesetOffset).toEqual({ height: -12.5, east: 0, north: 0 });
    expect(messages({ ...DEFAULT_MAP_SOURCES, tilesetOffset: { height: 1001 } })).toEqual(['tilesetOffset.height: 三维模型高度偏移须在 −1000 到 1000 米之间']);
    expect(messages({ ...DEFAULT_MAP_SOURCES, tilesetOffset: { east: -5001 } })).toEqual(['tilesetOffset.east: 三维模型东向偏移须在 −5000 到 5000 米之间']);
    expect(messages({ ...DEFAULT_MAP_SOURCES, tilesetOffset: { north: '3' } })).toEqual(['tilesetOffset.north: 三维模型北向偏移（north）须为数字（米）']);
    expect(messages({ ...DEFAULT_MAP_SOURCES, tilesetOffset: { up: 3 } })[0]).toMatch(/up/);
  });
});
