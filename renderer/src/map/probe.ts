/**
 * The map's test probe (window.zongzhiMap): tests and the benchmark read the map through it — positions on
 * screen, the camera, layer counts and readiness, what is selected, the drill path, and the frame just drawn.
 */
import type { CityMap } from './city-map';
import type { LayerId, Picked } from './layers';
import type { DrillPath } from './model';

interface ProbeWindow {
  zongzhiMap?: unknown;
}

export function installMapProbe(map: () => CityMap | null, selected: () => Picked | null, path: () => DrillPath): () => void {
  (window as ProbeWindow).zongzhiMap = {
    toScreen: (lon: number, lat: number) => map()?.toScreen([lon, lat]) ?? null,
    camera: () => map()?.cameraState() ?? null,
    staffCount: () => map()?.layers.staff.count ?? 0,
    /** 下沉干部 drawn now (on duty at their grid while the level calls them). */
    cadreCount: () => map()?.layers.staff.cadreCount ?? 0,
    eventIds: () => map()?.layers.events.ids ?? [],
    gridsReady: () => map()?.layers.grids.ready ?? false,
    /** A grid's fill now (CSS colour): the choropleth, the KPI layer, the focus fade. */
    gridColor: (id: string) => map()?.layers.grids.colorOf(id) ?? null,
    selected,
    path,
    layerVisible: (id: LayerId) => map()?.isLayerVisible(id) ?? false,
    /** The base imagery in use: 'configured', or 'bundled' (NaturalEarthII: none configured, or fallen back). */
    imagery: () => map()?.imagery ?? null,
    /** The 3D tileset's centre now (lon/lat/height, after its offset), null without one. */
    tileset: () => map()?.tilesetPosition() ?? null,
    /** Reads the frame just drawn: how many sampled pixels are lit, and how many distinct colours they have. */
    sample: () =>
      new Promise<{ lit: number; samples: number; colors: number }>((resolve) => {
        const scene = map()!.viewer.scene;
        const gl = (scene as unknown as { context: { _gl: WebGL2RenderingContext } }).context._gl;
        const stop = scene.postRender.addEventListener(() => {
          stop();
          const w = gl.drawingBufferWidth;
          const h = gl.drawingBufferHeight;
          const px = new Uint8Array(w * h * 4);
          // The finished frame is in the default framebuffer; put Cesium's binding back afterwards.
          const bound = gl.getParameter(gl.FRAMEBUFFER_BINDING) as WebGLFramebuffer | null;
          gl.bindFramebuffer(gl.FRAMEBUFFER, null);
          gl.readPixels(0, 0, w, h, gl.RGBA, gl.UNSIGNED_BYTE, px);
          gl.bindFramebuffer(gl.FRAMEBUFFER, bound);
          let lit = 0;
          let samples = 0;
          const colors = new Set<number>();
          for (let i = 0; i < px.length; i += 4 * 97) {
            samples++;
            if (px[i]! + px[i + 1]! + px[i + 2]! > 60) lit++;
            colors.add(((px[i]! >> 4) << 8) | ((px[i + 1]! >> 4) << 4) | (px[i + 2]! >> 4));
          }
          resolve({ lit, samples, colors: colors.size });
        });
        scene.requestRender();
      }),
    loseContext: () => (map()?.viewer.scene as unknown as { context: { _gl: WebGLRenderingContext } } | undefined)?.context._gl.getExtension('WEBGL_lose_context')?.loseContext(),
  };
  return () => delete (window as ProbeWindow).zongzhiMap;
}
