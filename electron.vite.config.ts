import { resolve } from 'node:path';
import { cpSync, createReadStream, existsSync, readFileSync, statSync } from 'node:fs';
import { defineConfig } from 'electron-vite';
import type { Plugin } from 'vite';
import vue from '@vitejs/plugin-vue';

const { version } = JSON.parse(readFileSync(resolve(import.meta.dirname, 'package.json'), 'utf8')) as { version: string };
const define = { __APP_VERSION__: JSON.stringify(version) };

/**
 * Cesium's static parts (web workers, third-party wasm, the NaturalEarthII base imagery, widget CSS) served from
 * ./cesium/ beside the renderer: the map works offline with zero outbound requests. Copied at build time,
 * served from node_modules in dev.
 */
const CESIUM_BUILD = resolve(import.meta.dirname, 'node_modules/cesium/Build/Cesium');
const CESIUM_PARTS = ['Workers', 'ThirdParty', 'Assets', 'Widgets'];
function cesiumStatic(): Plugin {
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

export default defineConfig({
  main: {
    define,
    build: {
      // Three programs from one build: the Electron main process, the browser host that runs without Electron,
      // and the reference backend the console starts as its embedded default.
      rolldownOptions: { input: { index: resolve('electron/main.ts'), host: resolve('electron/host/cli.ts'), backend: resolve('backend/cli.ts') } },
    },
  },
  preload: {
    build: {
      // Sandboxed preloads must be CommonJS; .cjs because the package is "type": "module".
      rolldownOptions: { input: { index: resolve('preload/index.ts') }, output: { format: 'cjs', entryFileNames: '[name].cjs' } },
    },
  },
  renderer: {
    root: resolve('renderer'),
    define: {
      __VUE_I18N_FULL_INSTALL__: 'true',
      __VUE_I18N_LEGACY_API__: 'false',
      __INTLIFY_PROD_DEVTOOLS__: 'false',
    },
    build: {
      rolldownOptions: { input: resolve('renderer/index.html') },
      chunkSizeWarningLimit: 2048,
    },
    plugins: [vue(), cesiumStatic()],
  },
});
