import { describe, expect, it } from 'vitest';
import { startServices, type BackendService } from '../../backend/services';
import { silentLogger } from '../../node-util/logger';

const service = (name: string, log: string[], failStart = false): BackendService => ({
  name,
  start: async () => {
    if (failStart) throw new Error(`${name} refused`);
    log.push(`start ${name}`);
  },
  stop: async () => void log.push(`stop ${name}`),
});

describe('the backend as a list of services', () => {
  it('starts them in order and stops them in reverse', async () => {
    const log: string[] = [];
    const stop = await startServices([service('sip', log), service('server', log), service('city', log)], silentLogger);
    await stop();
    expect(log).toEqual(['start sip', 'start server', 'start city', 'stop city', 'stop server', 'stop sip']);
  });

  it('a start that fails stops what had started, in reverse, and reports the failure', async () => {
    const log: string[] = [];
    await expect(startServices([service('sip', log), service('video', log), service('server', log, true), service('city', log)], silentLogger)).rejects.toThrow('server refused');
    expect(log).toEqual(['start sip', 'start video', 'stop video', 'stop sip']);
  });
});
