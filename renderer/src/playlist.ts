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

export function startPlaylist(router: Router, seconds: number, target: Pick<Window, 'addEventListener' | 'removeEventListener'> = window): () => void {
  let lastInput = 0;
  const onInput = (): void => void (lastInput = Date.now());
  for (const type of ['keydown', 'pointerdown', 'wheel'] as const) target.addEventListener(type, onInput, { passive: true });
  const timer = setInterval(() => {
    if (Date.now() - lastInput < PAUSE_AFTER_INPUT_MS) return;
    void router.push(nextWorkspacePath(router.currentRoute.value.path));
  }, seconds * 1000);
  return () => {
    clearInterval(timer);
    for (const type of ['keydown', 'pointerdown', 'wheel'] as const) target.removeEventListener(type, onInput);
  };
}
