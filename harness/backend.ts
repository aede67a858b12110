/** Starts a real reference backend on a temp SQLite file with known tokens (no simulator, no alarm rounds of its own unless asked). */
import { join } from 'node:path';
import { startBackend, type BackendConfig, type RunningBackend } from '../backend/index';
import { makeTempDir } from './temp';

export const TEST_TOKENS = {
  dispatcher: 'tok-dispatcher-0001',
  'dispatcher-d01': 'tok-dispatcher-d01',
  duty: 'tok-duty-0001',
  'duty-2': 'tok-duty-0002',
  leader: 'tok-leader-0001',
  viewer: 'tok-viewer-0001',
  admin: 'tok-admin-0001',
} as const;

export async function startTestBackend(config: Partial<BackendConfig> = {}, dir?: string): Promise<RunningBackend & { dir: string; cleanup: () => void }> {
  const temp = dir ? { dir, cleanup: () => {} } : makeTempDir('zongzhi-backend-');
  const backend = await startBackend({
    dbFile: join(temp.dir, 'backend.sqlite'),
    simulate: false,
    historyDays: 1,
    tokens: { ...TEST_TOKENS },
    tokensFile: null,
    // Like the simulator, the alarm system waits to be driven (backend.alarms.run()) unless a test starts it.
    alarms: false,
    ...config,
  });
  return Object.assign(backend, { dir: temp.dir, cleanup: temp.cleanup });
}
