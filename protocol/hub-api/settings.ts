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
 * ({z}/{x}/{y}, e.g. a city tile server or 天地图 with its tk= key), a TMS folder, or a WMTS endpoint;
 * terrain: a quantized-mesh server; a 3D Tiles tileset (倾斜摄影 oblique photography); grid boundaries as
 * GeoJSON (features with a 15-digit "code" property). null: the offline defaults (bundled NaturalEarthII, the
 * backend's synthetic buildings and grids).
 */
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
]);
export type ImagerySource = z.infer<typeof ImagerySource>;

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

export const MapSources = z
  .object({
    imagery: ImagerySource.nullable(),
    terrainUrl: MapUrl.nullable(),
    tilesetUrl: MapUrl.nullable(),
    gridsGeoJsonUrl: MapUrl.nullable(),
    /** null: the city's own extent, from the backend's grids. */
    home: MapHome.nullable(),
  })
  .strict();
export type MapSources = z.infer<typeof MapSources>;
export const DEFAULT_MAP_SOURCES: MapSources = { imagery: null, terrainUrl: null, tilesetUrl: null, gridsGeoJsonUrl: null, home: null };

/** Every origin the configured map sources load from (the CSP allows exactly these). */
export function mapSourceOrigins(sources: MapSources): string[] {
  const urls = [sources.imagery?.url, sources.terrainUrl, sources.tilesetUrl, sources.gridsGeoJsonUrl].filter((u): u is string => typeof u === 'string');
  const origins = new Set<string>();
  for (const url of urls) {
    const subdomains = sources.imagery && 'subdomains' in sources.imagery && url === sources.imagery.url ? (sources.imagery.subdomains ?? []) : [];
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
});
export type Settings = z.infer<typeof Settings>;

export const DEFAULT_SETTINGS: Settings = { locale: 'zh-CN', theme: 'day', backendUrl: null, map: DEFAULT_MAP_SOURCES };

export const SettingsPatch = Settings.partial().strict();
export type SettingsPatch = z.infer<typeof SettingsPatch>;
