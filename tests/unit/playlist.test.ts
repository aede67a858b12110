import { describe, expect, it, vi } from 'vitest';
import { createMemoryHistory, createRouter } from 'vue-router';
import { PAUSE_AFTER_INPUT_MS, nextWorkspacePath, playlistSeconds, startPlaylist } from '../../renderer/src/playlist';
import { IncidentTour, TOUR_MAX, startIncidentTour, tourSeconds } from '../../renderer/src/show-tour';

describe('demo playlist', () => {
  it('reads its interval from the address, with sane bounds', () => {
    expect(playlistSeconds('?playlist=45')).toBe(45);
    expect(playlistSeconds('?playlist=')).toBe(30);
    expect(playlistSeconds('?playlist=0')).toBe(30);
    expect(playlistSeconds('?playlist=abc')).toBe(30);
    expect(playlistSeconds('?demo=1')).toBeNull();
  });

  it('cycles through the four workspaces', () => {
    expect(['/map', '/kpi', '/video', '/dispatch'].map(nextWorkspacePath)).toEqual(['/kpi', '/video', '/dispatch', '/map']);
  });

  it('rotates by itself, pauses after someone touches the screen, then resumes', async () => {
    vi.useFakeTimers();
    const router = createRouter({ history: createMemoryHistory(), routes: ['/map', '/kpi', '/video', '/dispatch'].map((path) => ({ path, component: {} })) });
    await router.push('/map');
    const listeners = new Map<string, () => void>();
    const target = { addEventListener: (t: string, fn: () => void) => listeners.set(t, fn), removeEventListener: (t: string) => listeners.delete(t) };
    const playlist = startPlaylist(router, 5, target as never);
    await vi.advanceTimersByTimeAsync(5000);
    expect(router.currentRoute.value.path).toBe('/kpi');
    listeners.get('pointerdown')!();
    await vi.advanceTimersByTimeAsync(20_000);
    expect(router.currentRoute.value.path).toBe('/kpi');
    await vi.advanceTimersByTimeAsync(PAUSE_AFTER_INPUT_MS);
    expect(router.currentRoute.value.path).not.toBe('/kpi');
    playlist.stop();
    expect(listeners.size).toBe(0);
    vi.useRealTimers();
  });
});

describe('the show map tour', () => {
  const at = (min: number): string => new Date(Date.UTC(2026, 10, 30, 8, min)).toISOString();
  const alarm = (eventId: string, reported: number, raised = reported) => ({ eventId, reportedAt: at(reported), raisedAt: at(raised) });

  it('reads its dwell from the address; a playlist screen tours too', () => {
    expect(tourSeconds('?tour=30')).toBe(30);
    expect(tourSeconds('?tour=1')).toBe(20);
    expect(tourSeconds('?playlist=45')).toBe(20);
    expect(tourSeconds('?demo=1')).toBeNull();
  });

  it('visits each incident newest first, one per event, at most TOUR_MAX, and starts over', () => {
    const alarms = [alarm('E1', 1), alarm('E2', 5), alarm('E3', 3), alarm('E2', 5)];
    const tour = new IncidentTour(() => Date.parse(at(0)));
    expect([1, 2, 3, 4].map(() => tour.next(alarms))).toEqual(['E2', 'E3', 'E1', 'E2']);
    // The current one closed: the round goes on from the start.
    expect(tour.next([alarm('E1', 1), alarm('E3', 3)])).toBe('E3');
    expect(tour.next([])).toBeNull();
    const many = Array.from({ length: 30 }, (_, i) => alarm(`M${String(i).padStart(2, '0')}`, i));
    expect(IncidentTour.order(many)).toHaveLength(TOUR_MAX);
    expect(IncidentTour.order(many)[0]).toBe('M29');
  });

  it('shows a fresh incident at once, once; old incidents and alarms from before the start never jump the queue', () => {
    let clock: number | null = null;
    const tour = new IncidentTour(() => clock);
    // The backend's clock is not known yet: nothing is fresh (and the start is not taken from the local clock).
    expect(tour.fresh([alarm('NEW', 12)])).toBeNull();
    clock = Date.parse(at(10));
    // Raised before the tour started: not fresh.
    expect(tour.fresh([alarm('OLD', 9)])).toBeNull();
    // Raised now, but reported 11 minutes ago (an old incident turning overdue): not fresh.
    expect(tour.fresh([alarm('OLD', 9), alarm('LATE', 0, 11)])).toBeNull();
    expect(tour.fresh([alarm('OLD', 9), alarm('NEW', 12)])).toBe('NEW');
    // Fresh until shown (a paused screen shows it later), then never again.
    expect(tour.fresh([alarm('OLD', 9), alarm('NEW', 12)])).toBe('NEW');
    tour.shown('NEW');
    expect(tour.fresh([alarm('OLD', 9), alarm('NEW', 12, 14)])).toBeNull();
    // The round continues after the fresh one.
    expect(tour.next([alarm('OLD', 9), alarm('NEW', 12)])).toBe('OLD');
  });

  it('flies the map on a timer while the map shows, jumps a playlist screen to the map for a fresh incident, pauses on input', async () => {
    vi.useFakeTimers({ now: Date.parse(at(10)) });
    const router = createRouter({ history: createMemoryHistory(), routes: ['/map', '/kpi', '/video', '/dispatch'].map((path) => ({ path, component: {} })) });
    await router.push('/kpi');
    const listeners = new Map<string, () => void>();
    const input = { addEventListener: (t: string, fn: () => void) => listeners.set(t, fn), removeEventListener: (t: string) => listeners.delete(t) };
    let alarms = [alarm('E1', 1)];
    const shown: Array<string | null> = [];
    let jumps = 0;
    const tour = startIncidentTour(router, 10, { alarms: () => alarms, show: (id) => shown.push(id), now: () => Date.now() }, { playlist: true, input: input as never, jumped: () => jumps++ });
    tour.alarmsChanged();
    await vi.advanceTimersByTimeAsync(10_000);
    expect(shown).toEqual([]); // not on the map
    alarms = [alarm('E1', 1), alarm('NEW', 10)];
    tour.alarmsChanged();
    await vi.advanceTimersByTimeAsync(0);
    expect(router.currentRoute.value.path).toBe('/map');
    expect(shown).toEqual(['NEW']);
    expect(jumps).toBe(1);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(shown).toEqual(['NEW', 'E1']);
    listeners.get('keydown')!();
    await vi.advanceTimersByTimeAsync(30_000);
    expect(shown).toHaveLength(2);
    // A fresh incident during the pause is not lost: the first step after the pause shows it.
    alarms = [alarm('E1', 1), alarm('NEW', 10), alarm('NEW2', 13, 13)];
    tour.alarmsChanged();
    expect(shown).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(PAUSE_AFTER_INPUT_MS);
    expect(shown.at(-1)).toBe('NEW2');
    // Another window asked the map to show something: the tour holds for as long as asked.
    tour.hold(60_000);
    const held = shown.length;
    await vi.advanceTimersByTimeAsync(50_000);
    expect(shown).toHaveLength(held);
    await vi.advanceTimersByTimeAsync(20_000);
    expect(shown.length).toBeGreaterThan(held);
    alarms = [];
    await vi.advanceTimersByTimeAsync(PAUSE_AFTER_INPUT_MS);
    expect(shown.at(-1)).toBeNull(); // nothing left: back to the whole city, once
    const n = shown.length;
    await vi.advanceTimersByTimeAsync(30_000);
    expect(shown).toHaveLength(n);
    tour.stop();
    expect(listeners.size).toBe(0);
    vi.useRealTimers();
  });
});
