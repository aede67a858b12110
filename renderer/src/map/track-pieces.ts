/** What the replay's tracks layer (layers/tracks.ts) draws at T: pure, without Cesium (unit-tested). */
import type { HistoryTracks, LonLat } from '../../../protocol';

/** How far back from T a track is drawn. */
export const TRACK_WINDOW_MS = 15 * 60_000;
/** A longer line between two points is a gap (the backend's tracks never span more). */
export const TRACK_GAP_MS = 2 * 60_000;

export interface TrackPiece {
  staffId: string;
  /** The status code the piece was walked in (STAFF_STATUS_CODES). */
  status: number;
  points: LonLat[];
}

/**
 * The pieces to draw at T: each track's points in [T − window, T], cut at gaps and where the status changes (a
 * piece ends on the first point of the next, so the line stays whole), pieces of one point left out.
 */
export function trackPiecesAt(tracks: HistoryTracks['tracks'], atMs: number, windowMs = TRACK_WINDOW_MS): TrackPiece[] {
  const pieces: TrackPiece[] = [];
  for (const track of tracks) {
    let piece: TrackPiece | null = null;
    let lastMs = -Infinity;
    for (const [ms, lon, lat, status] of track.points) {
      if (ms > atMs) break;
      if (ms < atMs - windowMs) continue;
      const point: LonLat = [lon, lat];
      if (piece && ms - lastMs > TRACK_GAP_MS) piece = null;
      if (piece && piece.status !== status) {
        piece.points.push(point);
        piece = null;
      }
      if (!piece) {
        piece = { staffId: track.staffId, status, points: [] };
        pieces.push(piece);
      }
      piece.points.push(point);
      lastMs = ms;
    }
  }
  return pieces.filter((p) => p.points.length >= 2);
}
