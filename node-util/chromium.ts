/** Where Chromium is on this machine (Debian's, or Chrome): the host opens the console in it, the demo's simulated field staff run in it. */
import { existsSync } from 'node:fs';

export const CHROMIUM_CANDIDATES = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'];

/** CHROMIUM_PATH when set and present, else the first candidate installed; null when none is. */
export function findChromium(candidates = CHROMIUM_CANDIDATES): string | null {
  const given = process.env.CHROMIUM_PATH;
  if (given && existsSync(given)) return given;
  return candidates.find((path) => existsSync(path)) ?? null;
}
