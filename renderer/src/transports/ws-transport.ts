/** Hub transport over the browser host's WebSocket: request/response by id, plus pushed updates. */
import { HUB_WS_PATH, HubError, HubWsServerMessage, describeIssues, validate, type HubMethod, type HubReply, type HubTransport, type SubscriptionUpdate } from '../../../protocol';

export const CALL_TIMEOUT_MS = 15_000;

export interface WsTransportOptions {
  /** Origin of the host, e.g. "http://127.0.0.1:5173" (the page's own origin in a browser). */
  origin: string;
  token: string;
  role?: string;
  /** A demo screen: the hub masks personal data for it. */
  demo?: boolean;
  /** Called once if the link to the hub drops after it was open. */
  onClosed?: (detail: string) => void;
}

export function hubSocketUrl(origin: string, token: string, role?: string, demo?: boolean): string {
  const url = new URL(HUB_WS_PATH, origin);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  url.searchParams.set('token', token);
  if (role) url.searchParams.set('role', role);
  if (demo) url.searchParams.set('demo', '1');
  return url.toString();
}

export function connectWsTransport(options: WsTransportOptions): Promise<HubTransport> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(hubSocketUrl(options.origin, options.token, options.role, options.demo));
    const pending = new Map<number, { resolve: (reply: HubReply) => void; timer: ReturnType<typeof setTimeout> }>();
    const listeners = new Set<(update: SubscriptionUpdate) => void>();
    let nextId = 1;
    let opened = false;
    let closedByUs = false;

    const failAll = (message: string): void => {
      for (const [id, call] of pending) {
        clearTimeout(call.timer);
        call.resolve({ ok: false, error: { code: 'unavailable', message } });
        pending.delete(id);
      }
    };

    socket.addEventListener('open', () => {
      opened = true;
      resolve(transport);
    });
    socket.addEventListener('close', (event) => {
      const detail = `hub WebSocket closed (code ${event.code}${event.reason ? `, ${event.reason}` : ''})`;
      failAll(detail);
      if (!opened) {
        reject(new HubError('unauthorized', `${detail} before it opened: the access token is wrong or the host is not running`));
      } else if (!closedByUs) {
        options.onClosed?.(detail);
      }
    });
    socket.addEventListener('message', (event) => {
      let parsed: unknown;
      try {
        parsed = JSON.parse(String(event.data));
      } catch {
        console.error('hub sent a frame that is not JSON');
        return;
      }
      const message = validate(HubWsServerMessage, parsed);
      if (!message.ok) {
        console.error(`hub sent an invalid frame: ${describeIssues(message.issues)}`);
        return;
      }
      const value = message.value;
      if ('update' in value) {
        for (const listener of listeners) listener(value.update);
        return;
      }
      const call = pending.get(value.id);
      if (!call) return; // answer to a call that already timed out
      clearTimeout(call.timer);
      pending.delete(value.id);
      call.resolve(value.reply);
    });

    const transport: HubTransport = {
      call(method: HubMethod, params: unknown): Promise<HubReply> {
        if (socket.readyState !== WebSocket.OPEN) {
          return Promise.resolve({ ok: false, error: { code: 'unavailable', message: 'not connected to the hub' } });
        }
        const id = nextId++;
        return new Promise((resolveCall) => {
          const timer = setTimeout(() => {
            pending.delete(id);
            resolveCall({ ok: false, error: { code: 'unavailable', message: `hub did not answer ${method} within ${CALL_TIMEOUT_MS} ms` } });
          }, CALL_TIMEOUT_MS);
          pending.set(id, { resolve: resolveCall, timer });
          socket.send(JSON.stringify({ id, method, params }));
        });
      },
      onUpdate(listener) {
        listeners.add(listener);
        return () => listeners.delete(listener);
      },
      close() {
        closedByUs = true;
        listeners.clear();
        socket.close(1000, 'closed by the console');
      },
    };
  });
}
