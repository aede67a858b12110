// Where the Electron binary is, or null. Reads electron's path.txt instead of require('electron'): since
// Electron 45, requiring it with the binary missing starts a download (which fails offline, slowly).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export function findElectronBinary(projectRoot) {
  const pkg = join(projectRoot, 'node_modules/electron');
  const pathFile = join(pkg, 'path.txt');
  const relative = existsSync(pathFile) ? readFileSync(pathFile, 'utf8').trim() : 'electron';
  const dist = process.env.ELECTRON_OVERRIDE_DIST_PATH ?? join(pkg, 'dist');
  if (!process.env.ELECTRON_OVERRIDE_DIST_PATH && !existsSync(pathFile)) return null;
  const binary = join(dist, relative);
  return existsSync(binary) ? binary : null;
}
