/** Hub transport over the preload's explicit methods (Electron IPC). The preload's replies are validated too. */
import { HubReply, SubscriptionUpdate, describeIssues, validate, type HubTransport, type PreloadHubApi } from '../../../protocol';

export function createIpcTransport(preload: PreloadHubApi): HubTransport {
  const stops = new Set<() => void>();
  return {
    async call(method, params) {
      let raw: unknown;
      try {
        raw = await preload[method](params);
      } catch (e) {
        return { ok: false, error: { code: 'unavailable', message: `IPC call ${method} failed: ${(e as Error).message}` } };
      }
      const reply = validate(HubReply, raw);
      return reply.ok ? reply.value : { ok: false, error: { code: 'internal', message: `invalid IPC reply to ${method}: ${describeIssues(reply.issues)}` } };
    },
    onUpdate(listener) {
      const stop = preload.onUpdate((raw) => {
        const update = validate(SubscriptionUpdate, raw);
        if (update.ok) listener(update.value);
        else console.error(`hub pushed an invalid update: ${describeIssues(update.issues)}`);
      });
      stops.add(stop);
      return () => {
        stop();
        stops.delete(stop);
      };
    },
    close() {
      for (const stop of stops) stop();
      stops.clear();
    },
  };
}
