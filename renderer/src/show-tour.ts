/**
 * The show's map tour (迎检演示): a screen opened with tour=SECONDS (and any playlist screen) flies its map to each
 * incident in turn — the open events the center alarms for (backend/duty/alarm-service.ts), newest report first,
 * at most TOUR_MAX — and dwells SECONDS on each. A fresh incident (its alarm raised within minutes of its report,
 * after the tour started) is shown at once, and a playlist screen switches to the map for it. With no incident
 * left the map goes back to the whole city. Someone touching the screen pauses the tour like the playlist.
 */
import type { Router } from 'vue-router';
import { inputPause } from './playlist';

/** The most incidents one round of the tour visits (a city's history of alarms is not a show). */
export const TOUR_MAX = 12;
/** An alarm raised this long after its event's report is an old incident's: toured in turn, never at once. */
export const FRESH_INCIDENT_MS = 10 * 60_000;
const DEFAULT_SECONDS = 20;

/** The tour's dwell per incident from the address: tour=SECONDS, or the default on a playlist screen; else null. */
export function tourSeconds(search: string): number | null {
  const params = new URLSearchParams(search);
  const raw = params.get('tour');
  if (raw === null) return params.has('playlist') ? DEFAULT_SECONDS : null;
  const seconds = Number(raw || DEFAULT_SECONDS);
  return Number.isFinite(seconds) && seconds >= 5 && seconds <= 600 ? seconds : DEFAULT_SECONDS;
}

/** What the tour reads of an alarm. */
export interface TourAlarm {
  eventId: string;
  reportedAt: string;
  raisedAt: string;
}

/** Which incident comes next: the order of the round, and the fresh ones shown at once (each once, when shown). */
export class IncidentTour {
  private current: string | null = null;
  private announced = new Set<string>();
  /** When the tour first saw the alarms, on the backend's clock: alarms raised before are never "fresh". */
  private startedAt: number | null = null;

  /** now: the backend's clock, null while it is not known yet (nothing is "fresh" before it is). */
  constructor(private readonly now: () => number | null) {}

  /** The incidents of one round: one per event, newest report first, at most TOUR_MAX. */
  static order(alarms: readonly TourAlarm[]): string[] {
    const newest = [...alarms].sort((a, b) => b.reportedAt.localeCompare(a.reportedAt) || a.eventId.localeCompare(b.eventId));
    return [...new Set(newest.map((a) => a.eventId))].slice(0, TOUR_MAX);
  }

  /** The newest fresh incident not shown yet, or null (shown() marks it shown; until then it stays fresh). */
  fresh(alarms: readonly TourAlarm[]): string | null {
    this.startedAt ??= this.now();
    const startedAt = this.startedAt;
    if (startedAt === null) return null;
    const present = new Set(alarms.map((a) => a.eventId));
    for (const id of this.announced) if (!present.has(id)) this.announced.delete(id);
    const candidates = alarms.filter((a) => {
      const raised = Date.parse(a.raisedAt);
      return !this.announced.has(a.eventId) && raised >= startedAt && raised - Date.parse(a.reportedAt) <= FRESH_INCIDENT_MS;
    });
    return candidates.length === 0 ? null : IncidentTour.order(candidates)[0]!;
  }

  /** A fresh incident was shown: it is the current one, and never fresh again. */
  shown(eventId: string): void {
    this.announced.add(eventId);
    this.current = eventId;
  }

  /** The incident after the current one in the round (from the start when the current one is gone), or null. */
  next(alarms: readonly TourAlarm[]): string | null {
    const order = IncidentTour.order(alarms);
    if (order.length === 0) {
      this.current = null;
      return null;
    }
    const at = this.current === null ? -1 : order.indexOf(this.current);
    this.current = order[(at + 1) % order.length]!;
    return this.current;
  }
}

export interface TourTarget {
  /** The alarms now (the console's alarm store, acknowledged ones too: an acknowledged incident is still shown). */
  alarms(): readonly TourAlarm[];
  /** Flies the map to an event (a focus request), or back to the whole city (null). */
  show(eventId: string | null): void;
  /** The backend's clock now (ms); null while the window does not know it yet. */
  now(): number | null;
}

export interface IncidentTourHandle {
  /** The alarms changed: a fresh incident is shown at once (or as soon as the tour may). */
  alarmsChanged(): void;
  /** Someone else told the map what to show (a desk's 「在大屏显示」, the KPI wall): the tour waits `ms`. */
  hold(ms: number): void;
  stop(): void;
}

/**
 * Runs the tour: a step every `seconds` while the map is on screen and nobody touched the screen (or held the tour)
 * lately; a fresh incident is shown at once, or at the first step the tour may take (never skipped). `jumped` is
 * told when a playlist screen was switched to the map for one (the playlist then gives the map its full slot).
 */
export function startIncidentTour(
  router: Router,
  seconds: number,
  target: TourTarget,
  opts: { playlist: boolean; input?: Pick<Window, 'addEventListener' | 'removeEventListener'>; jumped?: () => void },
): IncidentTourHandle {
  const tour = new IncidentTour(target.now);
  const pause = inputPause(opts.input ?? window);
  let heldUntil = 0;
  let atHome = true;
  const onMap = (): boolean => router.currentRoute.value.path === '/map';
  const blocked = (): boolean => pause.paused() || Date.now() < heldUntil;
  const showFresh = (id: string): void => {
    tour.shown(id);
    atHome = false;
    target.show(id);
  };
  const step = (): void => {
    if (blocked() || !onMap()) return;
    const alarms = target.alarms();
    const fresh = tour.fresh(alarms);
    if (fresh !== null) return showFresh(fresh);
    const next = tour.next(alarms);
    if (next !== null) {
      atHome = false;
      target.show(next);
    } else if (!atHome) {
      atHome = true;
      target.show(null);
    }
  };
  let timer = setInterval(step, seconds * 1000);
  const restart = (): void => {
    clearInterval(timer);
    timer = setInterval(step, seconds * 1000);
  };
  return {
    alarmsChanged: () => {
      const fresh = tour.fresh(target.alarms());
      // Not now (a touch, a hold, another workspace on a tour-only screen): the first step that may shows it.
      if (fresh === null || blocked() || (!onMap() && !opts.playlist)) return;
      if (!onMap()) {
        void router.push('/map');
        opts.jumped?.();
      }
      showFresh(fresh);
      restart(); // the fresh incident gets its full dwell
    },
    hold: (ms) => {
      heldUntil = Math.max(heldUntil, Date.now() + ms);
      restart();
    },
    stop: () => {
      clearInterval(timer);
      pause.stop();
    },
  };
}
