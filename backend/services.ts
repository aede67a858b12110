/**
 * The running backend as a list of services, each with its own start and stop: started in order, stopped in
 * reverse. A new service (a database, a broker, an ingest API) plugs in by adding one to the list; a start
 * that fails stops what had started, so nothing (a SIP server, an encoder, a browser) is left running behind
 * a refusal.
 */
import type { Logger } from '../node-util/logger';

export interface BackendService {
  readonly name: string;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** Starts the services in order; resolves with the function that stops them (in reverse). */
export async function startServices(services: readonly BackendService[], log: Logger): Promise<() => Promise<void>> {
  const started: BackendService[] = [];
  const stopAll = async (): Promise<void> => {
    for (const service of started.splice(0).reverse()) {
      try {
        await service.stop();
      } catch (e) {
        log.error('service did not stop cleanly', { service: service.name, error: (e as Error).message });
      }
    }
  };
  for (const service of services) {
    try {
      await service.start();
    } catch (e) {
      log.error('service did not start; stopping the others', { service: service.name, error: (e as Error).message });
      await stopAll();
      throw e;
    }
    started.push(service);
  }
  return stopAll;
}
