/**
 * A new build of 网格通, offered, never forced: the service worker (scripts/field-pwa.ts) of a new build waits
 * while this page runs the old one. When one is waiting, `waiting` holds it and the app shows 「有新版本，点此更新」;
 * the tap asks it to take over, and every page of the app reloads on the new build when it does (controllerchange).
 * The browser looks for a new build at each start; a page left open also looks every 30 minutes.
 */
import { shallowRef } from 'vue';

export const waiting = shallowRef<ServiceWorker | null>(null);
const CHECK_MS = 30 * 60_000;

export async function registerWorker(url: string): Promise<void> {
  const workers = navigator.serviceWorker;
  // A page that was controlled when the worker changed runs the old build: it reloads. The first worker's claim
  // (no controller before) does not reload.
  let controlled = workers.controller !== null;
  workers.addEventListener('controllerchange', () => {
    if (controlled) location.reload();
    controlled = true;
  });
  const registration = await workers.register(url, { scope: './' });
  const offer = (worker: ServiceWorker | null): void => {
    if (worker && workers.controller) waiting.value = worker;
  };
  offer(registration.waiting);
  registration.addEventListener('updatefound', () => {
    const worker = registration.installing;
    worker?.addEventListener('statechange', () => {
      if (worker.state === 'installed') offer(worker);
    });
  });
  setInterval(() => void registration.update().catch(() => undefined), CHECK_MS);
}

/** The user's tap: the waiting worker takes over (the pages reload when it has). */
export function applyUpdate(): void {
  waiting.value?.postMessage({ type: 'skip-waiting' });
}
