/**
 * The console's settings (settings.json): language, theme, the backend to use, and the real city map sources,
 * changed by configuration without a code change.
 */
import { z } from 'zod';
import { Locale, Theme } from '../vocabulary';

const shown = (value: unknown): string => {
  const text = String(value);
  return text.length > 80 ? `${text.slice(0, 80)}…` : text;
};

/** One backend address (its wire endpoint, ws:// or wss://). Refusals in Chinese: a person typed it. */
export const BackendUrl = z
  .string({ error: '后台地址须为 ws:// 或 wss:// 开头的文本' })
  .max(2048, { error: '后台地址过长（最多 2048 个字符）' })
  .regex(/^wss?:\/\/[^\s]+$/, { error: (issue) => `后台地址「${shown(issue.input)}」无效：须以 ws:// 或 wss:// 开头，且不含空白` });

/** The same address written twice (e.g. a trailing slash or upper-case host apart) is one address. */
function sameAddress(url: string): string {
  try {
    return new URL(url).href;
  } catch {
    return url;
  }
}

/**
 * The backend to link to: one address (a single instance, or several behind a load balancer), or a list of
 * instances on one database, tried in turn when the current one refuses or dies (failover). A list is not
 * empty, holds at most 16 addresses, and none twice.
 */
export const BackendUrlSetting = z.union(
  [
    BackendUrl,
    z
      .array(BackendUrl)
      .min(1, { error: '后台地址列表不能为空' })
      .max(16, { error: '后台地址最多 16 个' })
      .superRefine((urls, ctx) => {
        const seen = new Set<string>();
        urls.forEach((url, index) => {
          const key = sameAddress(url);
          if (seen.has(key)) ctx.addIssue({ code: 'custom', path: [index], message: `后台地址「${shown(url)}」重复` });
          seen.add(key);
        });
      }),
  ],
  { error: '后台地址须为一个 ws:// 或 wss:// 地址，或这样的地址列表' },
);
export type BackendUrlSetting = z.infer<typeof BackendUrlSetting>;

/** The addresses of a backendUrl setting, in order (none for null: the embedded backend). */
export function backendUrlList(setting: string | readonly string[] | null | undefined): string[] {
  if (setting === null || setting === undefined) return [];
  return typeof setting === 'string' ? [setting] : [...setting];
}

const MapUrl = z.string().max(2048).regex(/^https?:\/\/[^\s/]+(\/[^\s]*)?$/, 'map source URLs start with http:// or https://');

/**
 * Real city map data by configuration (settings.json), no code change. Imagery: an XYZ template
 * ({z}/{x}/{y}), a TMS folder, a WMTS endpoint, or the 天地图 preset (its tk key, the layer, its 注记 on top);
 * terrain: a quantized-mesh server; a 3D Tiles tileset (倾斜摄影 oblique photography) with its offset; grid
 * boundaries as GeoJSON (features with a 15-digit "code" property). null: the offline defaults (bundled
 * NaturalEarthII, the backend's synthetic buildings and grids). docs/map-sources.md has examples.
 */
const TIANDITU_KEY = /^[0-9a-f]{32}$/i;
export const TiandituSource = z
  .object({
    type: z.literal('tianditu'),
    /** The city's 天地图 key (tk): 32 hex digits, from console.tianditu.gov.cn, authorised for the console's domain or IP. */
    key: z.string().regex(TIANDITU_KEY, { error: (issue) => `天地图密钥（key）「${shown(issue.input)}」无效：须为 32 位十六进制字符（天地图控制台申请的 tk）` }),
    /** 影像 img, 矢量 vec, 地形晕渲 ter. */
    layer: z.enum(['img', 'vec', 'ter'], { error: '天地图图层（layer）须为 img（影像）、vec（矢量）或 ter（地形晕渲）' }).default('img'),
    /** The matching 注记 layer (cia / cva / cta) drawn on top. */
    annotation: z.boolean().default(true),
    /** w: Web Mercator (EPSG:3857); c: longitude/latitude (CGCS2000, EPSG:4490). */
    projection: z.enum(['w', 'c'], { error: '天地图投影（projection）须为 w（球面墨卡托）或 c（经纬度）' }).default('w'),
    /** Another host serving the same paths (a city's 天地图 mirror, an intranet / 政务外网 proxy); may hold {s}. Default https://t{s}.tianditu.gov.cn. */
    baseUrl: MapUrl.optional(),
    maximumLevel: z.number().int().min(1).max(18).optional(),
    credit: z.string().max(200).optional(),
  })
  .strict();
export type TiandituSource = z.infer<typeof TiandituSource>;

export const ImagerySource = z.discriminatedUnion('type', [
  z.object({ type: z.literal('xyz'), url: MapUrl, maximumLevel: z.number().int().min(1).max(22).optional(), subdomains: z.array(z.string().max(16)).max(8).optional(), credit: z.string().max(200).optional() }).strict(),
  z.object({ type: z.literal('tms'), url: MapUrl, maximumLevel: z.number().int().min(1).max(22).optional(), credit: z.string().max(200).optional() }).strict(),
  z
    .object({
      type: z.literal('wmts'),
      url: MapUrl,
      layer: z.string().max(128),
      style: z.string().max(128).default('default'),
      tileMatrixSetID: z.string().max(128),
      format: z.string().max(64).default('image/png'),
      maximumLevel: z.number().int().min(1).max(22).optional(),
      credit: z.string().max(200).optional(),
    })
    .strict(),
  TiandituSource,
]);
export type ImagerySource = z.infer<typeof ImagerySource>;

const TIANDITU_HOST = 'https://t{s}.tianditu.gov.cn';
const TIANDITU_SUBDOMAINS = ['0', '1', '2', '3', '4', '5', '6', '7'];
const TIANDITU_ANNOTATION = { img: 'cia', vec: 'cva', ter: 'cta' } as const;

/** One 天地图 layer as a tile URL template: {s} a subdomain, {z}/{x}/{y} the tile (for c: {z} is 天地图's level, the engine's + 1). */
export interface TileTemplate {
  url: string;
  subdomains: string[];
}

/**
 * The 天地图 preset's tile URLs, base and 注记: its WMTS GetTile in key-value form, e.g.
 * https://t{s}.tianditu.gov.cn/img_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0&LAYER=img&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles&TILEMATRIX={z}&TILEROW={y}&TILECOL={x}&tk=KEY
 */
export function tiandituTemplates(source: TiandituSource): { base: TileTemplate; annotation: TileTemplate | null } {
  const host = (source.baseUrl ?? TIANDITU_HOST).replace(/\/+$/, '');
  const subdomains = host.includes('{s}') ? TIANDITU_SUBDOMAINS : [];
  const one = (layer: string): TileTemplate => ({
    url: `${host}/${layer}_${source.projection}/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0&LAYER=${layer}&STYLE=default&TILEMATRIXSET=${source.projection}&FORMAT=tiles&TILEMATRIX={z}&TILEROW={y}&TILECOL={x}&tk=${source.key}`,
    subdomains,
  });
  return { base: one(source.layer), annotation: source.annotation ? one(TIANDITU_ANNOTATION[source.layer]) : null };
}

/** The map's home view (全市, Esc at the top, a new map): the point looked at, the camera's height in metres, its heading in degrees. */
export const MapHome = z
  .object({
    lon: z.number().min(-180).max(180),
    lat: z.number().min(-90).max(90),
    height: z.number().min(50).max(20_000_000),
    heading: z.number().min(0).max(360).default(0),
  })
  .strict();
export type MapHome = z.infer<typeof MapHome>;

/**
 * Where the 3D tileset sits against the terrain (倾斜摄影 often floats or sinks where the terrain differs from
 * the one it was made on): metres up, east and north, applied through the tileset's model matrix.
 */
export const TilesetOffset = z
  .object({
    height: z.number({ error: '三维模型高度偏移（height）须为数字（米）' }).min(-1000, { error: '三维模型高度偏移须在 −1000 到 1000 米之间' }).max(1000, { error: '三维模型高度偏移须在 −1000 到 1000 米之间' }).default(0),
    east: z.number({ error: '三维模型东向偏移（east）须为数字（米）' }).min(-5000, { error: '三维模型东向偏移须在 −5000 到 5000 米之间' }).max(5000, { error: '三维模型东向偏移须在 −5000 到 5000 米之间' }).default(0),
    north: z.number({ error: '三维模型北向偏移（north）须为数字（米）' }).min(-5000, { error: '三维模型北向偏移须在 −5000 到 5000 米之间' }).max(5000, { error: '三维模型北向偏移须在 −5000 到 5000 米之间' }).default(0),
  })
  .strict();
export type TilesetOffset = z.infer<typeof TilesetOffset>;
export const NO_TILESET_OFFSET: TilesetOffset = { height: 0, east: 0, north: 0 };

export const MapSources = z
  .object({
    imagery: ImagerySource.nullable(),
    terrainUrl: MapUrl.nullable(),
    tilesetUrl: MapUrl.nullable(),
    /** Left out (older files): no offset. */
    tilesetOffset: TilesetOffset.default(NO_TILESET_OFFSET),
    gridsGeoJsonUrl: MapUrl.nullable(),
    /** null: the city's own extent, from the backend's grids. */
    home: MapHome.nullable(),
  })
  .strict();
export type MapSources = z.infer<typeof MapSources>;
export const DEFAULT_MAP_SOURCES: MapSources = { imagery: null, terrainUrl: null, tilesetUrl: null, tilesetOffset: NO_TILESET_OFFSET, gridsGeoJsonUrl: null, home: null };

/** The imagery's tile URL templates, in drawing order (base first; the 天地图 注记 on top). */
export function imageryTemplates(imagery: ImagerySource): TileTemplate[] {
  if (imagery.type === 'tianditu') {
    const { base, annotation } = tiandituTemplates(imagery);
    return annotation ? [base, annotation] : [base];
  }
  return [{ url: imagery.url, subdomains: imagery.type === 'xyz' ? (imagery.subdomains ?? []) : [] }];
}

/** Every origin the configured map sources load from (the CSP allows exactly these). */
export function mapSourceOrigins(sources: MapSources): string[] {
  const templates = [...(sources.imagery ? imageryTemplates(sources.imagery) : []), ...[sources.terrainUrl, sources.tilesetUrl, sources.gridsGeoJsonUrl].filter((u): u is string => typeof u === 'string').map((url) => ({ url, subdomains: [] }))];
  const origins = new Set<string>();
  for (const { url, subdomains } of templates) {
    const variants = url.includes('{s}') && subdomains.length > 0 ? subdomains.map((sub) => url.replaceAll('{s}', sub)) : [url];
    for (const variant of variants) {
      const match = /^(https?:\/\/[^/?#]+)/i.exec(variant);
      if (match) origins.add(match[1]!.toLowerCase());
    }
  }
  return [...origins];
}

export const Settings = z.object({
  locale: Locale,
  theme: Theme,
  /** null: use the embedded backend started by the console itself; a list: instances tried in turn (failover). */
  backendUrl: BackendUrlSetting.nullable(),
  map: MapSources,
  /**
   * The most MiB of attachments (photos, videos, voice notes) the hub keeps for offline viewing; the least
   * recently used go first, and one larger than a quarter of it is shown but not kept.
   */
  attachmentCacheMiB: z.number().int().min(16).max(65_536),
  /**
   * Record this console's side of each call (its microphone, never the far end) and keep it with the call on
   * the backend, as an attachment of the call's history entry; off unless set.
   */
  recordCalls: z.boolean(),
});
export type Settings = z.infer<typeof Settings>;

export const DEFAULT_ATTACHMENT_CACHE_MIB = 512;
export const DEFAULT_SETTINGS: Settings = { locale: 'zh-CN', theme: 'day', backendUrl: null, map: DEFAULT_MAP_SOURCES, attachmentCacheMiB: DEFAULT_ATTACHMENT_CACHE_MIB, recordCalls: false };

export const SettingsPatch = Settings.partial().strict();
export type SettingsPatch = z.infer<typeof SettingsPatch>;
