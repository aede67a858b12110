#!/usr/bin/env node
// `npm start`: builds, then launches Electron. Where the Electron binary is missing (it cannot be downloaded
// on this kind of machine) it says so in one line and runs the browser host instead, opening Chromium in app
// mode when there is a display, else printing the address.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { tsImport } from 'tsx/esm/api';
import { findElectronBinary } from './lib/electron-binary.mjs';

// The console (Electron or the browser host) ends with this launcher however the launcher ends, SIGKILL
// included: the project's one helper for owned children (a TypeScript module, loaded through tsx).
/** @type {typeof import('../node-util/child-process.ts')} */
const { spawnOwned } = await tsImport('../node-util/child-process.ts', import.meta.url);

const root = join(import.meta.dirname, '..');
const passThrough = process.argv.slice(2);

const build = spawnSync(process.execPath, [join(root, 'node_modules/electron-vite/bin/electron-vite.js'), 'build'], { cwd: root, stdio: 'inherit' });
if (build.status !== 0) {
  console.error('build failed: see the errors above');
  process.exit(build.status ?? 1);
}

const electron = findElectronBinary(root);
const child = electron
  ? spawnOwned(electron, [join(root, 'out/main/index.js'), ...passThrough], { stdio: 'inherit', parentDeathSignal: 'SIGTERM' })
  : (console.log('Electron binary not installed (it could not be downloaded here): running the console in the browser host instead.'),
    spawnOwned(process.execPath, [join(root, 'out/main/host.js'), '--open', ...passThrough], { stdio: 'inherit', parentDeathSignal: 'SIGTERM' }));
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
child.on('exit', (code) => process.exit(code ?? 0));
