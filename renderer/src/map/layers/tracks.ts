/**
 * Staff tracks during 复盘回放: the last 15 minutes before T of each staff member on the map, drawn behind the
 * markers as thin lines in the colour of the status they walked in, from the hub's replayTracks (the backend's
 * GET /history/tracks). A line longer than 2 minutes between two points is a gap (nothing was heard): not drawn.
 * Not a layer of the panel: it is shown only while the console replays (views/map/replay-tracks.ts drives it).
 */
import { Color, Material, PolylineCollection, type Scene } from 'cesium';
import { STAFF_STATUS_CODES, type HistoryTracks } from '../../../../protocol';
import { trackPiecesAt } from '../track-pieces';
import { degrees } from './shared';
import { STAFF_COLORS } from './staff';

export { TRACK_GAP_MS, TRACK_WINDOW_MS, trackPiecesAt, type TrackPiece } from '../track-pieces';

export class TrackLayer {
  private readonly lines: PolylineCollection;
  private readonly materials = STAFF_STATUS_CODES.map((s) => Material.fromType('Color', { color: Color.fromCssColorString(STAFF_COLORS[s] ?? '#ffffff').withAlpha(0.75) }));
  private drawn = 0;

  constructor(private readonly scene: Scene) {
    this.lines = scene.primitives.add(new PolylineCollection()) as PolylineCollection;
  }

  /** Draws the tracks as they stood at T (replacing what was drawn); null: none (live). */
  show(tracks: HistoryTracks['tracks'] | null, atMs: number): void {
    this.lines.removeAll();
    this.drawn = 0;
    if (tracks) {
      for (const piece of trackPiecesAt(tracks, atMs)) {
        this.lines.add({ positions: piece.points.map((p) => degrees(p, 2)), width: 2, material: this.materials[piece.status] ?? this.materials[0] });
        this.drawn++;
      }
    }
    this.scene.requestRender();
  }

  /** Pieces drawn now (tests, the map's data attributes). */
  get count(): number {
    return this.drawn;
  }

  destroy(): void {
    this.scene.primitives.remove(this.lines);
  }
}
