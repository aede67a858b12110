import { homedir } from 'node:os';
import { join } from 'node:path';

/** The per-user data dir outside Electron (Electron passes app.getPath('userData') instead). */
export function defaultDataDir(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): string {
  if (env.ZONGZHI_DATA_DIR) return env.ZONGZHI_DATA_DIR;
  if (platform === 'win32') return join(env.APPDATA ?? join(homedir(), 'AppData', 'Roaming'), 'zongzhi-console');
  if (platform === 'darwin') return join(homedir(), 'Library', 'Application Support', 'zongzhi-console');
  return join(env.XDG_DATA_HOME ?? join(homedir(), '.local', 'share'), 'zongzhi-console');
}
