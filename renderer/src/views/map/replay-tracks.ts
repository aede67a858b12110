/**
 * 复盘回放 on the map: the staff tracks of the last 15 minutes before T behind the markers (map/layers/tracks.ts).
 * The tracks of the staff on the map are read once for [T − 15 min, T + 5 min] and redrawn locally as T moves;
 * read again when T leaves that window (a seek, or playing past it). Live: nothing is drawn.
 */
import { ref, watch, type ShallowRef } from 'vue';
import { TRACKS_MAX_STAFF, type HistoryTracks } from '../../../../protocol';
import type { CityMap } from '../../map/city-map';
import { TRACK_WINDOW_MS } from '../../map/track-pieces';
import { useMapDataStore } from '../../stores/map-data';
import { useReplayStore } from '../../stores/replay';

/** How far past T a read reaches, so playing redraws without reading again. */
const AHEAD_MS = 5 * 60_000;

export function useReplayTracks(map: ShallowRef<CityMap | null>) {
  const replay = useReplayStore();
  const model = useMapDataStore();
  /** Pieces drawn now (data-tracks on the map, for tests); the last read's refusal (its code) if it failed. */
  const drawn = ref(0);
  const problem = ref<string | null>(null);
  let held: { fromMs: number; toMs: number; tracks: HistoryTracks['tracks'] } | null = null;
  let reading: Promise<void> | null = null;

  function draw(atMs: number | null): void {
    const m = map.value;
    if (!m) return;
    m.tracks.show(atMs === null || !held ? null : held.tracks, atMs ?? 0);
    drawn.value = m.tracks.count;
  }

  async function read(atMs: number): Promise<void> {
    const staffIds = [...model.source.positions.keys()].slice(0, TRACKS_MAX_STAFF);
    const fromMs = atMs - TRACK_WINDOW_MS;
    const toMs = atMs + AHEAD_MS;
    if (staffIds.length === 0) {
      held = { fromMs, toMs, tracks: [] };
      return;
    }
    try {
      const answer = await replay.tracks(new Date(fromMs).toISOString(), new Date(toMs).toISOString(), staffIds);
      held = { fromMs, toMs, tracks: answer.tracks };
      problem.value = null;
    } catch (e) {
      // No track recorded then (no-data) or refused: nothing drawn, the replay carries on.
      held = { fromMs, toMs, tracks: [] };
      problem.value = (e as { code?: string }).code ?? 'failed';
    }
  }

  watch(
    [() => replay.atMs, map],
    ([atMs]) => {
      if (atMs === null) {
        held = null;
        draw(null);
        return;
      }
      if (held && atMs - TRACK_WINDOW_MS >= held.fromMs && atMs <= held.toMs) return draw(atMs);
      if (reading) return;
      reading = read(atMs).finally(() => {
        reading = null;
        draw(replay.atMs);
      });
    },
    { immediate: true },
  );

  return { drawn, problem };
}
