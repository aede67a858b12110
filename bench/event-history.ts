/**
 * Bytes on the wire per comment as an event's history grows: the history as records of their own (what the
 * backend sends now: one small event and one entry per comment) beside the old way (the whole history inside
 * the event's record, re-sent to every console with every change — and past ~150 long comments larger than
 * a frame). Measured from the real backend's delta frames over a real WebSocket; the old figure is the same
 * delta with the event's history put back inside its record.
 * Run: npm run bench -- event-history   (BENCH_COMMENTS, default 1000)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocket } from 'ws';
import { MAX_FRAME_BYTES, WIRE_PROTOCOL_VERSION, encodeFrame, type GovEvent } from '../protocol';
import { startBackend } from '../backend/index';

const total = Number(process.env.BENCH_COMMENTS ?? 1000);
const marks = new Set([10, 100, 1000, total].filter((n) => n <= total));
const dir = mkdtempSync(join(tmpdir(), 'zongzhi-history-'));
const backend = await startBackend({ dbFile: join(dir, 'backend.sqlite'), simulate: false, historyDays: 0, tokens: { dispatcher: 'bench-token' }, tokensFile: null, kpiIntervalMs: 600_000, sip: undefined });

const ws = new WebSocket(backend.url);
const answers = new Map<string, (frame: { type: string; payload: unknown }) => void>();
let lastDeltaBytes = 0;
await new Promise<void>((resolve) => {
  ws.on('open', () => ws.send(encodeFrame('hello', { token: 'bench-token', clientId: 'bench-history-01', protocolVersion: WIRE_PROTOCOL_VERSION, lastSeq: null })));
  ws.on('message', (data: Buffer) => {
    const frame = JSON.parse(data.toString()) as { type: string; id?: string; payload: unknown };
    if (frame.type === 'snapshot.end') resolve();
    if (frame.type === 'delta') lastDeltaBytes = data.length;
    if (frame.id) answers.get(frame.id)?.(frame);
  });
});
let n = 0;
/** One command, answered; sent again after a pause when the server says it is over the rate (as a console does). */
async function command(type: string, payload: unknown): Promise<{ type: string; payload: unknown }> {
  const id = `bench-history-${String(n++).padStart(6, '0')}`;
  for (;;) {
    const answer = await new Promise<{ type: string; payload: unknown }>((resolve) => {
      answers.set(id, resolve);
      ws.send(encodeFrame('command', { commandId: id, type, payload, issuedAt: new Date().toISOString() }));
    });
    if (answer.type === 'error' && (answer.payload as { code: string }).code === 'rate-limited') await new Promise((r) => setTimeout(r, 100));
    else return answer;
  }
}

const grid = backend.state.all('grids').next().value!;
const report = await command('event.report', { source: 'hotline', category: 'noise', severity: 1, title: '噪音扰民', description: '', location: grid.center });
const eventId = String((report.payload as { result: { eventId: string } }).result.eventId);
const note = '网格员回访：'.repeat(50).slice(0, 300); // a 300-character comment, ~900 bytes

console.log(`comments on one event, ${note.length}-character notes: delta bytes per comment`);
console.log('entries │ history as records (now) │ history inside the event (old way) │ ratio');
for (let i = 1; i <= total; i++) {
  await command('event.comment', { eventId, text: `${i} ${note}` });
  if (!marks.has(i)) continue;
  const event = backend.state.get('events', eventId)! as GovEvent & { timelineCount?: number; actors?: string[] };
  const history = [...backend.state.all('timeline')].filter((t) => t.eventId === eventId).sort((a, b) => a.index - b.index);
  const { timelineCount: _count, actors: _actors, ...rest } = event;
  const oldRecord = { ...rest, timeline: history.map(({ id: _id, eventId: _e, districtId: _d, index: _i, ...entry }) => entry) };
  const oldBytes = Buffer.byteLength(JSON.stringify({ v: 1, type: 'delta', payload: { seq: backend.state.seq, at: new Date().toISOString(), changes: [{ op: 'upsert', collection: 'events', id: eventId, data: oldRecord }] } }));
  const over = oldBytes > MAX_FRAME_BYTES ? '  (over the 1 MiB frame limit)' : '';
  console.log(`${String(event.timelineCount).padStart(7)} │ ${String(lastDeltaBytes).padStart(21)} B │ ${String(oldBytes).padStart(32)} B │ ${(oldBytes / lastDeltaBytes).toFixed(0).padStart(5)}×${over}`);
}
ws.close();
await backend.close();
rmSync(dir, { recursive: true, force: true });
