/**
 * What the 复盘 report is made of, gathered once when it opens:
 * - the event, its history, the staff, departments, grids, cameras and the 权责清单 rule from the window's rows (the
 *   data layer: scoped and masked by the hub exactly as every other view; during a replay, as they stood at T);
 * - the calls from the backend's call log (Hub API eventCalls) and the staff tracks (replayTracks), which no
 *   collection replicates;
 * - camera frames at the key moments from the backend's recordings (GET /recordings/<cam>/frame.jpg with the
 *   console's viewer ticket, fetched as blobs: the page's CSP allows the backend's origin for connections only).
 * What cannot be had is said in `notes` (in the reader's words by code), never thrown: the report shows the rest.
 */
import type { Camera, CollectionFilter, CollectionName, ConnectionState, Department, GovEvent, Grid, HistoryTracks, ResponsibilityRule, Staff, TimelineRecord, CallRecord } from '../../../protocol';
import { STREAM_TICKET_PARAM, TRACKS_MAX_STAFF, resolveStreamUrl, serverNowMs, type ViewRow } from '../../../protocol';
import { nearest } from '../../../domain';
import { useRowsStore } from '../data';
import { useHubStore } from '../stores/hub';

/** The tracks span (the Hub API's replayTracks answers at most 24 h) and the margin around the incident. */
const TRACKS_MAX_MS = 24 * 3_600_000;
const MARGIN_MS = 10 * 60_000;
/** Cameras looked for around the event when none reported it. */
const CAMERA_RADIUS_M = 500;
const FRAME_MOMENTS = ['report', 'arrive', 'feedback', 'close'] as const;

export interface ReviewFrame {
  moment: (typeof FRAME_MOMENTS)[number];
  at: string;
  cameraId: string;
  /** A blob: URL of the JPEG, or null with why. */
  url: string | null;
  problem: string | null;
}

export interface ReviewNote {
  code: 'no-event' | 'calls' | 'tracks' | 'frames-none' | 'no-ticket';
  detail: string;
}

export interface ReviewData {
  event: GovEvent | null;
  timeline: TimelineRecord[];
  calls: CallRecord[];
  staff: Staff[];
  departments: Department[];
  grids: Grid[];
  rule: ResponsibilityRule | null;
  tracks: HistoryTracks['tracks'];
  frames: ReviewFrame[];
  nowMs: number;
  notes: ReviewNote[];
}

export async function loadReview(eventId: string): Promise<ReviewData> {
  const rows = useRowsStore();
  const hub = useHubStore();
  const api = hub.api;
  if (!api) throw new Error('the hub is not connected');
  async function once<C extends CollectionName>(collection: C, filter?: CollectionFilter): Promise<Array<ViewRow<C>>> {
    let got: ReadonlyMap<string, ViewRow<C>> = new Map();
    const stop = await rows.read({ topic: 'collection', collection, ...(filter ? { filter } : {}) }, (r) => (got = r));
    const list = [...got.values()];
    await stop();
    return list;
  }
  const connection: ConnectionState | null = hub.connection;
  const nowMs = serverNowMs(connection?.serverClock ?? null);
  const notes: ReviewNote[] = [];
  const [event] = await once('events', { ids: [eventId] });
  const empty: ReviewData = { event: null, timeline: [], calls: [], staff: [], departments: [], grids: [], rule: null, tracks: [], frames: [], nowMs, notes };
  if (!event) return { ...empty, notes: [{ code: 'no-event', detail: eventId }] };

  const [timeline, departments, rules, grids] = await Promise.all([
    once('timeline', { eventIds: [eventId] }),
    once('departments'),
    once('rules', { categories: [event.category] }),
    once('grids', { districtIds: [event.districtId] }),
  ]);
  const actorIds = [...new Set(timeline.map((t) => t.actor))];
  const staffIds = [...new Set([event.assignee?.staffId, ...actorIds].filter((id): id is string => !!id))];
  const gridStaff = await once('staff', { gridIds: [event.gridId] });
  const named = staffIds.length > 0 ? await once('staff', { ids: staffIds }) : [];
  const staff = [...new Map([...gridStaff, ...named].map((s) => [s.id, s])).values()];

  const fromMs = Date.parse(event.reportedAt) - MARGIN_MS;
  const endMs = Math.min((event.closedAt ? Date.parse(event.closedAt) : nowMs) + MARGIN_MS, nowMs, fromMs + TRACKS_MAX_MS);
  const span = { from: new Date(fromMs).toISOString(), to: new Date(Math.max(endMs, fromMs + 60_000)).toISOString() };

  const callsP = api.eventCalls({ eventId, ...span }).then(
    (a) => a.calls,
    (e: unknown) => (notes.push({ code: 'calls', detail: (e as Error).message }), [] as CallRecord[]),
  );
  const trackStaff = staff.map((s) => s.id).slice(0, TRACKS_MAX_STAFF);
  const tracksP =
    trackStaff.length === 0
      ? Promise.resolve([] as HistoryTracks['tracks'])
      : api.replayTracks({ ...span, staffIds: trackStaff }).then(
          (a) => a.tracks,
          (e: unknown) => (notes.push({ code: 'tracks', detail: (e as Error).message }), [] as HistoryTracks['tracks']),
        );
  const framesP = frames(event, timeline, connection, await once('cameras'), notes);
  const [calls, tracks, shots] = await Promise.all([callsP, tracksP, framesP]);
  return { event, timeline, calls, staff, departments, grids, rule: rules[0] ?? null, tracks, frames: shots, nowMs, notes };
}

/** One frame per key moment from the camera that reported the event, else the nearest one with a recording. */
async function frames(event: GovEvent, timeline: readonly TimelineRecord[], connection: ConnectionState | null, cameras: readonly Camera[], notes: ReviewNote[]): Promise<ReviewFrame[]> {
  const moments = FRAME_MOMENTS.map((moment) => ({ moment, at: moment === 'report' ? event.reportedAt : timeline.find((t) => t.action === moment)?.at })).filter(
    (m): m is { moment: (typeof FRAME_MOMENTS)[number]; at: string } => m.at !== undefined,
  );
  const candidates = event.cameraId ? [event.cameraId] : nearest(cameras, event.location, CAMERA_RADIUS_M, 3, (c) => c.position).map((c) => c.item.id);
  if (candidates.length === 0) {
    notes.push({ code: 'frames-none', detail: '' });
    return [];
  }
  const ticket = connection?.streamTicket ?? null;
  if (!ticket || !connection?.backendUrl) {
    notes.push({ code: 'no-ticket', detail: '' });
    return [];
  }
  // The first camera with a recording at the report (one cut each: frames are rate-limited) gives every moment.
  let why = '';
  for (const cameraId of candidates) {
    const first = await frame(connection.backendUrl, ticket, cameraId, moments[0]!.moment, moments[0]!.at);
    if (first.url === null) {
      why = first.problem ?? '';
      continue;
    }
    const rest: ReviewFrame[] = [];
    for (const m of moments.slice(1)) rest.push(await frame(connection.backendUrl, ticket, cameraId, m.moment, m.at));
    return [first, ...rest];
  }
  notes.push({ code: 'frames-none', detail: why });
  return [];
}

async function frame(backendUrl: string, ticket: string, cameraId: string, moment: ReviewFrame['moment'], at: string): Promise<ReviewFrame> {
  const base = resolveStreamUrl(`/recordings/${encodeURIComponent(cameraId)}/frame.jpg`, backendUrl, 'http');
  if (!base) return { moment, at, cameraId, url: null, problem: 'bad backend address' };
  const url = new URL(base);
  url.searchParams.set('at', String(Date.parse(at)));
  url.searchParams.set(STREAM_TICKET_PARAM, ticket);
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(20_000) });
    if (!res.ok) {
      const body = (await res.json().catch(() => null)) as { message?: unknown } | null;
      return { moment, at, cameraId, url: null, problem: typeof body?.message === 'string' ? body.message : `HTTP ${res.status}` };
    }
    return { moment, at, cameraId, url: URL.createObjectURL(await res.blob()), problem: null };
  } catch (e) {
    return { moment, at, cameraId, url: null, problem: (e as Error).message };
  }
}
