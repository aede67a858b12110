import { describe, expect, it, vi } from 'vitest';
import { createMemoryHistory, createRouter } from 'vue-router';
import { PAUSE_AFTER_INPUT_MS, nextWorkspacePath, playlistSeconds, startPlaylist } from '../../renderer/src/playlist';

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
    const stop = startPlaylist(router, 5, target as never);
    await vi.advanceTimersByTimeAsync(5000);
    expect(router.currentRoute.value.path).toBe('/kpi');
    listeners.get('pointerdown')!();
    await vi.advanceTimersByTimeAsync(20_000);
    expect(router.currentRoute.value.path).toBe('/kpi');
    await vi.advanceTimersByTimeAsync(PAUSE_AFTER_INPUT_MS);
    expect(router.currentRoute.value.path).not.toBe('/kpi');
    stop();
    expect(listeners.size).toBe(0);
    vi.useRealTimers();
  });
});
