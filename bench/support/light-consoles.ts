/**
 * Light consoles for bench/backend-scale: a process (forked with IPC) holding many real wire-protocol
 * connections that keep no replica — each says hello, counts the bytes of its snapshot until `snapshot.end`
 * (the time to sync), then for every live positions frame (JSON or binary, as asked) notes the delay from the
 * frame's `at` to its arrival and the bytes. The frame's time is read from its head, never by parsing all of it:
 * what is measured is the backend's fan-out, not this process.
 *
 * Messages: parent → { type: 'start', urls, count, token, binary, prefix } | { type: 'measure' } | { type: 'report' };
 * child → { type: 'synced', ms[] } | { type: 'report', latencies[], bytes, frames, seconds, closed }.
 */
import WebSocket from 'ws';
import { POSITIONS_BINARY, POSITIONS_BINARY_TYPE, WIRE_PROTOCOL_VERSION, encodeFrame } from '../../protocol';

interface Start {
  type: 'start';
  urls: string[];
  count: number;
  token: string;
  binary: boolean;
  prefix: string;
}
type FromParent = Start | { type: 'measure' } | { type: 'report' };

const JSON_POSITIONS = '{"v":1,"type":"staff.positions","payload":{"at":"';
const SNAPSHOT_END = '{"v":1,"type":"snapshot.end"';

let measuring = false;
let measureStart = 0;
let latencies: number[] = [];
let bytes = 0;
let frames = 0;
let closed = 0;
const sockets: WebSocket[] = [];

function send(message: unknown): void {
  process.send?.(message);
}

function open(url: string, clientId: string, token: string, binary: boolean): Promise<number> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: false, maxPayload: 8 * 1024 * 1024 });
    sockets.push(ws);
    let synced = false;
    ws.on('open', () => {
      ws.send(encodeFrame('hello', { token, clientId, protocolVersion: WIRE_PROTOCOL_VERSION, lastSeq: null, ...(binary ? { accept: [POSITIONS_BINARY] } : {}) }));
    });
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      const now = Date.now();
      if (measuring) bytes += data.length;
      if (isBinary) {
        if (!synced || data[0] !== POSITIONS_BINARY_TYPE || data.length < 14) return;
        frames++;
        if (measuring) latencies.push(now - Number(data.readBigUInt64LE(2)));
        return;
      }
      if (!synced) {
        if (data.subarray(0, SNAPSHOT_END.length).toString('latin1') === SNAPSHOT_END) {
          synced = true;
          resolve(performance.now() - started);
        }
        return;
      }
      const head = data.subarray(0, JSON_POSITIONS.length + 24).toString('latin1');
      if (!head.startsWith(JSON_POSITIONS)) return;
      frames++;
      if (measuring) latencies.push(now - Date.parse(head.slice(JSON_POSITIONS.length)));
    });
    ws.on('close', () => {
      closed++;
      if (!synced) reject(new Error(`closed before it synced (${url})`));
    });
    ws.on('error', () => {});
  });
}

process.on('message', (message: FromParent) => {
  if (message.type === 'start') {
    const { urls, count, token, binary, prefix } = message;
    // A few at a time: a hundred snapshots at once would measure the machine's memory, not a room starting up.
    void (async () => {
      const ms: number[] = [];
      const queue = Array.from({ length: count }, (_, i) => i);
      await Promise.all(
        Array.from({ length: 4 }, async () => {
          for (let i = queue.shift(); i !== undefined; i = queue.shift()) ms.push(await open(urls[i % urls.length]!, `${prefix}-${i}`, token, binary));
        }),
      );
      send({ type: 'synced', ms });
    })().catch((e: unknown) => send({ type: 'failed', message: (e as Error).message }));
  } else if (message.type === 'measure') {
    measuring = true;
    measureStart = performance.now();
    latencies = [];
    bytes = 0;
  } else {
    measuring = false;
    send({ type: 'report', latencies, bytes, frames, seconds: (performance.now() - measureStart) / 1000, closed });
    for (const ws of sockets) ws.terminate();
  }
});
