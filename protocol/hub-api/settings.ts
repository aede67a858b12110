/**
 * The console's settings (settings.json): language, theme, the backend to use, and the real city map sources,
 * changed by configuration without a code change.
 */
import { z } from 'zod';
import { Locale, Theme } from '../vocabulary';

export const BackendUrl = z
  .string()
  .max(2048)
  .regex(/^wss?:\/\/[^\s]+$/, 'backend URL must start with ws:// or wss://');

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

export const MapSources = z
  .object({
    imagery: ImagerySource.nullable(),
    terrainUrl: MapUrl.nullable(),
    tilesetUrl: MapUrl.nullable(),
    gridsGeoJsonUrl: MapUrl.nullable(),
  })
  .strict();
export type MapSources = z.infer<typeof MapSources>;
export const DEFAULT_MAP_SOURCES: MapSources = { imagery: null, terrainUrl: null, tilesetUrl: null, gridsGeoJsonUrl: null };

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
  /** null: use the embedded backend started by the console itself. */
  backendUrl: BackendUrl.nullable(),
  map: MapSources,
});
export type Settings = z.infer<typeof Settings>;

export const DEFAULT_SETTINGS: Settings = { locale: 'zh-CN', theme: 'day', backendUrl: null, map: DEFAULT_MAP_SOURCES };

export const SettingsPatch = Settings.partial().strict();
export type SettingsPatch = z.infer<typeof SettingsPatch>;
