/**
 * The map's base imagery: the bundled NaturalEarthII, or the city's own (XYZ, TMS, WMTS, the 天地图 preset with
 * its 注记 on top), and what watches it: a configured server that is dead (down, CORS, 401/403/5xx, 天地图
 * refusing its key, a page instead of a tile) is replaced by the bundled imagery instead of leaving the globe
 * dark; a dead 注记 layer is dropped alone, the base stays.
 */
import {
  buildModuleUrl,
  Credit,
  GeographicTilingScheme,
  ImageryLayer,
  TileMapServiceImageryProvider,
  UrlTemplateImageryProvider,
  WebMapTileServiceImageryProvider,
  type CesiumWidget,
  type ImageryProvider,
} from 'cesium';
import { tiandituTemplates, type ImagerySource, type TiandituSource, type TileTemplate } from '../../../protocol';
import { SourceError, deadSource, diagnose, fetchTileChecked, sampleTileUrl, type SourceProblem } from './source-check';

/** The offline imagery bundled with Cesium (NaturalEarthII): the default, and the fallback for a dead server. */
export function bundledImagery(): Promise<ImageryProvider> {
  return TileMapServiceImageryProvider.fromUrl(buildModuleUrl('Assets/Textures/NaturalEarthII'));
}

/** Dark big-screen style: dim the base imagery so overlays carry the picture. */
export function dim(layer: ImageryLayer): ImageryLayer {
  layer.brightness = 0.45;
  layer.saturation = 0.4;
  return layer;
}

/** One 天地图 layer: w on Web Mercator from level 1 (天地图 has no level 0); c on longitude/latitude, 天地图's level = the engine's + 1. */
function tiandituProvider(source: TiandituSource, template: TileTemplate, credit: Credit | undefined): ImageryProvider {
  const common = { ...(template.subdomains.length > 0 ? { subdomains: template.subdomains } : {}), ...(credit ? { credit } : {}) };
  if (source.projection === 'w') return new UrlTemplateImageryProvider({ url: template.url, minimumLevel: 1, maximumLevel: source.maximumLevel ?? 18, ...common });
  return new UrlTemplateImageryProvider({
    url: template.url.replace('{z}', '{tiandituLevel}'),
    tilingScheme: new GeographicTilingScheme(),
    maximumLevel: (source.maximumLevel ?? 18) - 1,
    customTags: { tiandituLevel: (_provider: unknown, _x: number, _y: number, level: number) => String(level + 1) },
    ...common,
  });
}

function providerFor(s: ImagerySource): Promise<ImageryProvider> {
  const credit = s.credit ? new Credit(s.credit) : undefined;
  if (s.type === 'xyz') return Promise.resolve(new UrlTemplateImageryProvider({ url: s.url, ...(s.maximumLevel ? { maximumLevel: s.maximumLevel } : {}), ...(s.subdomains ? { subdomains: s.subdomains } : {}), ...(credit ? { credit } : {}) }));
  if (s.type === 'tms') return TileMapServiceImageryProvider.fromUrl(s.url, { ...(s.maximumLevel ? { maximumLevel: s.maximumLevel } : {}), ...(credit ? { credit } : {}) });
  if (s.type === 'tianditu') return Promise.resolve(tiandituProvider(s, tiandituTemplates(s).base, credit));
  return Promise.resolve(new WebMapTileServiceImageryProvider({ url: s.url, layer: s.layer, style: s.style, tileMatrixSetID: s.tileMatrixSetID, format: s.format, ...(s.maximumLevel ? { maximumLevel: s.maximumLevel } : {}), ...(credit ? { credit } : {}) }));
}

/** The base layer for the settings' imagery (dimmed), the bundled one when none is configured. */
export function baseLayerFor(imagery: ImagerySource | null): ImageryLayer {
  return dim(ImageryLayer.fromProviderAsync(imagery ? providerFor(imagery) : bundledImagery()));
}

/** The 天地图 注记 layer on top of its base (not dimmed: names must stay readable), or nothing. */
export function addAnnotationLayer(widget: CesiumWidget, imagery: ImagerySource | null): ImageryLayer | null {
  if (imagery?.type !== 'tianditu') return null;
  const template = tiandituTemplates(imagery).annotation;
  if (!template) return null;
  const layer = widget.imageryLayers.addImageryProvider(tiandituProvider(imagery, template, undefined));
  layer.brightness = 0.85;
  return layer;
}

/** How a tile template is named in a failure line: the server and path, without the query (天地图's key stays off the wall). */
function shownUrl(imagery: ImagerySource, template: TileTemplate): string {
  return imagery.type === 'tianditu' ? template.url.split('?')[0]!.replaceAll('{s}', template.subdomains[0] ?? '') : imagery.url;
}

/**
 * Looks at the configured imagery once (a sample tile of the base, then of the 注记) and on the base layer's own
 * error; reports each failure and falls back as said above. Returns whether it fell back (read at any time).
 */
export function superviseImagery(widget: CesiumWidget, imagery: ImagerySource, annotation: ImageryLayer | null, report: (problem: SourceProblem) => void, fellBackTo: () => void): () => boolean {
  let fellBack = false;
  const tianditu = imagery.type === 'tianditu';
  const templates = tianditu ? tiandituTemplates(imagery) : { base: { url: imagery.url, subdomains: imagery.type === 'xyz' ? (imagery.subdomains ?? []) : [] }, annotation: null };
  // 天地图 has no level 0 on w: its sample is level 1 (there on w and c alike).
  const sample = (t: TileTemplate): string => sampleTileUrl(t.url, t.subdomains, tianditu ? { z: 1, x: 1, y: 0 } : undefined);
  const baseUrl = shownUrl(imagery, templates.base);
  const fallBack = (problem: SourceProblem): void => {
    if (widget.isDestroyed() || fellBack) return;
    fellBack = true;
    const layers = widget.imageryLayers;
    layers.removeAll(true);
    layers.add(dim(ImageryLayer.fromProviderAsync(bundledImagery())), 0);
    fellBackTo();
    report({ ...problem, fellBack: true });
  };
  const problemOf = (e: unknown): Omit<SourceProblem, 'source' | 'url'> => (e instanceof SourceError ? e.problem : { cause: 'other', detail: String(e) });
  const checkAnnotation = (): void => {
    const t = templates.annotation;
    if (!t || !annotation) return;
    fetchTileChecked(sample(t), tianditu).then(
      () => {},
      (e: unknown) => {
        const p = problemOf(e);
        if (!deadSource(p) || widget.isDestroyed() || fellBack) return;
        widget.imageryLayers.remove(annotation, true);
        widget.scene.requestRender();
        report({ source: 'annotation', url: shownUrl(imagery, t), ...p });
      },
    );
  };
  fetchTileChecked(sample(templates.base), tianditu).then(checkAnnotation, (e: unknown) => {
    const p = problemOf(e);
    // A 404 for one sample tile proves nothing (a city server may serve its own extent only).
    if (deadSource(p)) fallBack({ source: 'imagery', url: baseUrl, ...p });
    else checkAnnotation();
  });
  widget.imageryLayers.get(0)?.errorEvent.addEventListener((e: unknown) => void diagnose('imagery', baseUrl, sample(templates.base), e, tianditu).then(fallBack));
  return () => fellBack;
}
