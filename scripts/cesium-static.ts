import { createRequire } from 'node:module';
import { dirname, resolve } from 'node:path';
import { cpSync, createReadStream, existsSync, statSync } from 'node:fs';
import type { Plugin } from 'vite';

/**
 * Cesium's static parts (web workers, third-party wasm, the NaturalEarthII base imagery, widget CSS) served from
 * ./cesium/ beside the renderer: the map works offline with zero outbound requests. Copied at build time,
 * served from node_modules in dev.
 */
// Found through Node's resolution: this file is also inlined into bundled configs elsewhere.
const CESIUM_BUILD = resolve(dirname(createRequire(import.meta.url).resolve('cesium/package.json')), 'Build/Cesium');
const CESIUM_PARTS = ['Workers', 'ThirdParty', 'Assets', 'Widgets'];
export function cesiumStatic(): Plugin {
  let outDir = '';
  return {
    name: 'zongzhi-cesium-static',
    configResolved(config) {
      outDir = resolve(config.root, config.build.outDir);
    },
    closeBundle() {
      for (const part of CESIUM_PARTS) cpSync(resolve(CESIUM_BUILD, part), resolve(outDir, 'cesium', part), { recursive: true });
    },
    configureServer(server) {
      server.middlewares.use('/cesium', (req, res, next) => {
        const file = resolve(CESIUM_BUILD, `.${decodeURIComponent((req.url ?? '/').split('?')[0]!)}`);
        if (!file.startsWith(CESIUM_BUILD) || !existsSync(file) || !statSync(file).isFile()) return next();
        createReadStream(file).pipe(res);
      });
    },
  };
}
