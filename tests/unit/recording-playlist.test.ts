/**
 * The recordings' playlist and notes (backend/video/recordings-http.ts) from index rows: segments dated by their
 * city start at any clock rate, a discontinuity after a gap or a skipped damaged segment, and the spans that do not
 * play named.
 */
import { describe, expect, it } from 'vitest';
import { describeRange, vodPlaylist } from '../../backend/video/recordings-http';
import type { SegmentRow } from '../../backend/video/recording-index';

const CITY = Date.UTC(2026, 0, 1, 2, 0, 0);
const WALL = Date.UTC(2026, 5, 1, 8, 0, 0);
/** A 10-s (wall) segment starting `k` 10-s steps in, the city clock at ×60. */
const seg = (k: number, status: SegmentRow['status'] = 'ok', lengthS = 10): SegmentRow => ({ cameraId: 'c1', startWallMs: WALL + k * 10_000, endWallMs: WALL + k * 10_000 + lengthS * 1000, startCityMs: CITY + k * 600_000, rate: 60, bytes: 375_000, status, note: status === 'corrupt' ? '没有关键帧 / no keyframe' : null });

describe('recordings playlist', () => {
  it('dates each segment by its city start and marks gaps and skipped segments as discontinuities', () => {
    // 0 and 1 follow each other; 2 is damaged; 3 plays; then a gap (4 missing); 5 plays.
    const rows = [seg(0), seg(1), seg(2, 'corrupt'), seg(3), seg(5)];
    const { playable, notes } = describeRange(rows, CITY, CITY + 6 * 600_000);
    expect(playable.map((s) => [s.startWallMs - WALL, s.gapBefore])).toEqual([[0, false], [10_000, false], [30_000, true], [50_000, true]]);
    expect(notes).toEqual([
      { fromCityMs: CITY + 1_200_000, toCityMs: CITY + 1_800_000, kind: 'corrupt', note: expect.stringContaining('没有关键帧') },
      { fromCityMs: CITY + 2_400_000, toCityMs: CITY + 3_000_000, kind: 'missing', note: expect.stringContaining('没有录像') },
    ]);
    const playlist = vodPlaylist(playable);
    expect(playlist.split('\n')).toEqual([
      '#EXTM3U',
      '#EXT-X-VERSION:3',
      '#EXT-X-PLAYLIST-TYPE:VOD',
      '#EXT-X-TARGETDURATION:10',
      '#EXT-X-MEDIA-SEQUENCE:0',
      '#EXT-X-PROGRAM-DATE-TIME:2026-01-01T02:00:00.000Z',
      '#EXTINF:10.000,',
      `${WALL}.ts`,
      '#EXT-X-PROGRAM-DATE-TIME:2026-01-01T02:10:00.000Z',
      '#EXTINF:10.000,',
      `${WALL + 10_000}.ts`,
      '#EXT-X-DISCONTINUITY',
      '#EXT-X-PROGRAM-DATE-TIME:2026-01-01T02:30:00.000Z',
      '#EXTINF:10.000,',
      `${WALL + 30_000}.ts`,
      '#EXT-X-DISCONTINUITY',
      '#EXT-X-PROGRAM-DATE-TIME:2026-01-01T02:50:00.000Z',
      '#EXTINF:10.000,',
      `${WALL + 50_000}.ts`,
      '#EXT-X-ENDLIST',
      '',
    ]);
  });

  it('names the uncovered start and end of the range', () => {
    const { playable, notes } = describeRange([seg(1, 'ok', 9.5)], CITY, CITY + 3 * 600_000);
    expect(playable).toHaveLength(1);
    expect(notes.map((n) => [n.kind, n.fromCityMs - CITY, n.toCityMs - CITY])).toEqual([
      ['missing', 0, 600_000],
      ['missing', 600_000 + 570_000, 1_800_000],
    ]);
  });
});
