import { resolve } from 'node:path';
import { readFileSync } from 'node:fs';
import { defineConfig } from 'electron-vite';
import vue from '@vitejs/plugin-vue';
import { cesiumStatic } from './scripts/cesium-static';
import { fieldPwa } from './scripts/field-pwa';

const { version } = JSON.parse(readFileSync(resolve(import.meta.dirname, 'package.json'), 'utf8')) as { version: string };
const define = { __APP_VERSION__: JSON.stringify(version) };

export default defineConfig({
  main: {
    define,
    build: {
      // Three programs from one build: the Electron main process, the browser host that runs without Electron,
      // and the reference backend the console starts as its embedded default.
      rolldownOptions: { input: { index: resolve('electron/main.ts'), host: resolve('host/cli.ts'), backend: resolve('backend/cli.ts') } },
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
      // The console, and the pages the backend serves: the field client at /field/ (backend/sip/field.ts), the
      // department liaison page at /department/ (backend/department-api.ts).
      rolldownOptions: { input: { index: resolve('renderer/index.html'), field: resolve('renderer/field.html'), department: resolve('renderer/department.html') } },
      chunkSizeWarningLimit: 2048,
    },
    plugins: [vue(), cesiumStatic(), fieldPwa()],
  },
});
