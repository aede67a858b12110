/**
 * Demo playlist (迎检演示): a screen opened with playlist=SECONDS rotates through the workspaces by itself,
 * like a Grafana playlist that never drops out. Someone touching the screen pauses it for a while; it resumes
 * on its own.
 */
import type { Router } from 'vue-router';
import { WORKSPACES } from './workspaces';

export const PAUSE_AFTER_INPUT_MS = 120_000;

export function playlistSeconds(search: string): number | null {
  const raw = new URLSearchParams(search).get('playlist');
  if (raw === null) return null;
  const seconds = Number(raw || 30);
  return Number.isFinite(seconds) && seconds >= 2 && seconds <= 3600 ? seconds : 30;
}

export function nextWorkspacePath(current: string): string {
  const index = WORKSPACES.findIndex((w) => w.path === current);
  return WORKSPACES[(index + 1) % WORKSPACES.length]!.path;
}

/** Whether someone touched the screen in the last PAUSE_AFTER_INPUT_MS (the playlist and the map tour wait). */
export function inputPause(target: Pick<Window, 'addEventListener' | 'removeEventListener'>): { paused: () => boolean; stop: () => void } {
  let lastInput = -Infinity;
  const onInput = (): void => void (lastInput = Date.now());
  for (const type of ['keydown', 'pointerdown', 'wheel'] as const) target.addEventListener(type, onInput, { passive: true });
  return {
    paused: () => Date.now() - lastInput < PAUSE_AFTER_INPUT_MS,
    stop: () => {
      for (const type of ['keydown', 'pointerdown', 'wheel'] as const) target.removeEventListener(type, onInput);
    },
  };
}

/** The playlist's handle: stop it, or hold the current workspace for `ms` (its slot starts again after). */
export interface PlaylistHandle {
  stop(): void;
  hold(ms: number): void;
}

export function startPlaylist(router: Router, seconds: number, target: Pick<Window, 'addEventListener' | 'removeEventListener'> = window): PlaylistHandle {
  const pause = inputPause(target);
  let heldUntil = 0;
  const tick = (): void => {
    if (pause.paused() || Date.now() < heldUntil) return;
    void router.push(nextWorkspacePath(router.currentRoute.value.path));
  };
  let timer = setInterval(tick, seconds * 1000);
  return {
    stop: () => {
      clearInterval(timer);
      pause.stop();
    },
    hold: (ms) => {
      heldUntil = Date.now() + ms;
      clearInterval(timer);
      timer = setInterval(tick, seconds * 1000);
    },
  };
}
