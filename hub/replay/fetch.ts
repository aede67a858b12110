/**
 * The backend's history as a replaying hub reads it (backend/history/*routes.ts), over HTTP with the link's
 * token, every answer validated (the backend is a boundary). A refusal comes back as a ReplayFailure with the
 * route's code and its Chinese message, as the replay topic shows it.
 */
import { z } from 'zod';
import {
  CallsAnswer,
  HistoryBatches,
  HistoryChanges,
  HistoryPositions,
  HistoryRefusal,
  HistoryState,
  HistoryTracks,
  HubError,
  describeIssues,
  validate,
  type HubErrorCode,
} from '../../protocol';
import type { LayerSource } from '../city-layers';

export class ReplayFailure extends Error {
  constructor(
    readonly code: string,
    message: string,
    /** The HTTP status (0: no answer). */
    readonly status = 0,
  ) {
    super(message);
    this.name = 'ReplayFailure';
  }

  /** As a Hub API error (a call that cannot go on: start, tracks). */
  toHubError(): HubError {
    const code: HubErrorCode =
      this.status === 400 ? 'invalid-params' : this.status === 401 || this.status === 403 ? 'unauthorized' : this.status === 404 || this.status === 410 ? 'not-found' : 'unavailable';
    return new HubError(code, this.message);
  }
}

export interface HistoryReads {
  changes(fromSeq: number, atMs: number): Promise<HistoryChanges>;
  batches(after: number, untilMs: number, limit: number): Promise<HistoryBatches>;
  positions(atMs: number): Promise<HistoryPositions>;
  tracks(fromMs: number, toMs: number, staffIds?: readonly string[]): Promise<HistoryTracks>;
  /** The timeline records as they stood at `atMs` (the marks of a range). */
  timeline(atMs: number): Promise<HistoryState>;
  /** The calls about one event begun in [from, to) (GET /calls, for the 复盘 report). */
  calls(eventId: string, fromMs: number, toMs: number, limit?: number): Promise<CallsAnswer>;
}

/** Reads of the linked backend's history (null: none linked, each read refused in Chinese). */
export function historyReads(backend: () => LayerSource | null): HistoryReads {
  async function get<S extends z.ZodType>(path: string, query: Record<string, string>, schema: S): Promise<z.output<S>> {
    const source = backend();
    if (!source) throw new ReplayFailure('no-backend', '未连接后端，无法回放 / no backend is linked: replay reads its history');
    const url = `${source.url.replace(/^ws/, 'http').replace(/\/ws$/, '')}${path}?${new URLSearchParams(query)}`;
    let response: Response;
    try {
      response = await fetch(url, { headers: { Authorization: `Bearer ${source.token}` }, signal: AbortSignal.timeout(60_000) });
    } catch (e) {
      throw new ReplayFailure('unreachable', `后端不可达，无法读取回放记录 / could not reach the backend for its history: ${(e as Error).message}`);
    }
    const body: unknown = await response.json().catch(() => null);
    if (!response.ok) {
      const refusal = HistoryRefusal.safeParse(body);
      if (refusal.success) throw new ReplayFailure(String(refusal.data.code), refusal.data.message, response.status);
      throw new ReplayFailure('failed', `后端答复 ${response.status}，无法读取回放记录 / the backend answered ${response.status} for ${path}`, response.status);
    }
    const checked = validate(schema, body);
    if (!checked.ok) throw new ReplayFailure('invalid', `后端的回放记录无效 / the backend sent an invalid ${path} answer: ${describeIssues(checked.issues).slice(0, 200)}`, response.status);
    return checked.value;
  }
  const iso = (ms: number): string => new Date(ms).toISOString();
  return {
    changes: (fromSeq, atMs) => get('/history/changes', { fromSeq: String(fromSeq), at: iso(atMs) }, HistoryChanges),
    batches: (after, untilMs, limit) => get('/history/batches', { after: String(after), until: iso(untilMs), limit: String(limit) }, HistoryBatches),
    positions: (atMs) => get('/history/positions', { at: iso(atMs) }, HistoryPositions),
    tracks: (fromMs, toMs, staffIds) => get('/history/tracks', { from: iso(fromMs), to: iso(toMs), ...(staffIds?.length ? { staff: staffIds.join(',') } : {}) }, HistoryTracks),
    timeline: (atMs) => get('/history/state', { at: iso(atMs), collections: 'timeline,events' }, HistoryState),
    calls: (eventId, fromMs, toMs, limit) => get('/calls', { eventId, from: iso(fromMs), to: iso(toMs), ...(limit ? { limit: String(limit) } : {}) }, CallsAnswer),
  };
}
