/**
 * Where the phone is (Geolocation API): one fix for a report or 到场, and while on duty (上班) a watch that sends
 * the position to the backend (POST /field/api/position) sparingly — at most every 10 s while moving more than
 * 20 m, every 60 s when still — and 下班 sends onDuty:false and stops. It says what is wrong in the app's language
 * (stateText): permission refused, no fix, a poor fix (accuracy worse than 100 m). The last fix is kept (localStorage)
 * so a report without a fresh one can go with the last known position, marked as such.
 */
import { ref } from 'vue';
import { i18n } from './i18n';

export interface Fix {
  lon: number;
  lat: number;
  /** Metres. */
  accuracy: number;
  /** When the phone took it (ISO). */
  at: string;
}

export type LocationState = 'idle' | 'locating' | 'ok' | 'poor' | 'denied' | 'unavailable' | 'unsupported';

/** A fix worse than this is 'poor' (the app says so; the report still goes, with its accuracy). */
export const POOR_ACCURACY_M = 100;
export const MOVING_INTERVAL_MS = 10_000;
export const STILL_INTERVAL_MS = 60_000;
export const MOVED_M = 20;
const LAST_KEY = 'zongzhi.field.lastFix';
const DUTY_KEY = 'zongzhi.field.onDuty';

/** What a location state means, in the app's language. */
export const stateText = (state: LocationState): string => i18n.global.t(`location.${state}`);

/** Metres between two fixes (equirectangular: fine for tens of metres). */
export function distanceM(a: Fix, b: Fix): number {
  const rad = Math.PI / 180;
  const x = (b.lon - a.lon) * rad * Math.cos(((a.lat + b.lat) / 2) * rad);
  const y = (b.lat - a.lat) * rad;
  return Math.hypot(x, y) * 6_371_000;
}

/** Whether a duty position is due: moved > 20 m and 10 s since the last one sent, or 60 s whatever. */
export function positionDue(last: { fix: Fix; sentAt: number } | null, fix: Fix, now: number): boolean {
  if (!last) return true;
  const since = now - last.sentAt;
  return since >= STILL_INTERVAL_MS || (since >= MOVING_INTERVAL_MS && distanceM(last.fix, fix) > MOVED_M);
}

function savedFix(): Fix | null {
  try {
    const fix = JSON.parse(localStorage.getItem(LAST_KEY) ?? 'null') as Fix | null;
    return fix && Number.isFinite(fix.lon) && Number.isFinite(fix.lat) ? fix : null;
  } catch {
    return null;
  }
}

export type SendPosition = (fix: Fix, onDuty: boolean) => Promise<string | null>;

export class Locator {
  readonly state = ref<LocationState>('idle');
  /** The latest fix (this session's or the last known one). */
  readonly fix = ref<Fix | null>(savedFix());
  readonly onDuty = ref(false);
  /** What happened to the last duty position sent ('' when fine). */
  readonly dutyError = ref('');
  readonly lastSentAt = ref<string | null>(null);
  private watch: number | null = null;
  private timer: ReturnType<typeof setInterval> | null = null;
  private lastSent: { fix: Fix; sentAt: number } | null = null;
  /** A move that came too soon after the last send goes when it is due (the watch may not fire again). */
  private due: ReturnType<typeof setTimeout> | null = null;

  constructor(private readonly sendPosition: SendPosition) {}

  /** Whether on duty was left on when the app closed (it resumes). */
  static dutySaved(): boolean {
    return localStorage.getItem(DUTY_KEY) === '1';
  }

  private take(p: GeolocationPosition): Fix {
    const fix: Fix = { lon: p.coords.longitude, lat: p.coords.latitude, accuracy: Math.round(p.coords.accuracy * 10) / 10, at: new Date(p.timestamp || Date.now()).toISOString() };
    this.fix.value = fix;
    this.state.value = fix.accuracy > POOR_ACCURACY_M ? 'poor' : 'ok';
    localStorage.setItem(LAST_KEY, JSON.stringify(fix));
    return fix;
  }

  private failed(e: GeolocationPositionError): void {
    this.state.value = e.code === e.PERMISSION_DENIED ? 'denied' : 'unavailable';
    // Refused: no duty without a position (the app says why; 上班 again once allowed).
    if (e.code === e.PERMISSION_DENIED && this.onDuty.value) {
      this.pause();
      localStorage.removeItem(DUTY_KEY);
    }
  }

  /** Back online: the position now (not at the next minute), so the console sees the phone again at once. */
  nudge(): void {
    if (!this.onDuty.value || !this.fix.value) return;
    this.lastSent = null;
    void this.maybeSend(this.fix.value);
  }

  /** One fresh fix (null when refused or none within 15 s: `state` says why; `fix` keeps the last known one). */
  locate(): Promise<Fix | null> {
    if (!('geolocation' in navigator)) {
      this.state.value = 'unsupported';
      return Promise.resolve(null);
    }
    this.state.value = 'locating';
    return new Promise((resolve) => {
      navigator.geolocation.getCurrentPosition(
        (p) => resolve(this.take(p)),
        (e) => {
          this.failed(e);
          resolve(null);
        },
        { enableHighAccuracy: true, timeout: 15_000, maximumAge: 10_000 },
      );
    });
  }

  /** Whether a fix is fresh (taken in the last 2 minutes). */
  fresh(fix: Fix | null = this.fix.value, now = Date.now()): boolean {
    return fix !== null && now - Date.parse(fix.at) < 120_000;
  }

  /** 上班: watch the position and send it sparingly. */
  startDuty(): void {
    if (this.onDuty.value) return;
    if (!('geolocation' in navigator)) {
      this.state.value = 'unsupported';
      return;
    }
    this.onDuty.value = true;
    localStorage.setItem(DUTY_KEY, '1');
    this.lastSent = null;
    this.state.value = 'locating';
    this.watch = navigator.geolocation.watchPosition(
      (p) => void this.maybeSend(this.take(p)),
      (e) => this.failed(e),
      // Battery: the network/wifi fix is enough for the staff layer; a cached fix up to 10 s old is fine.
      { enableHighAccuracy: false, maximumAge: 10_000, timeout: 60_000 },
    );
    // Still phones often report nothing: the last fix again every minute keeps the staff member on the map.
    this.timer = setInterval(() => {
      if (this.fix.value && this.state.value !== 'denied') void this.maybeSend(this.fix.value);
    }, STILL_INTERVAL_MS);
  }

  /** 下班: onDuty:false with the last fix, and the watch stopped. */
  async endDuty(): Promise<void> {
    const was = this.onDuty.value;
    this.pause();
    localStorage.removeItem(DUTY_KEY);
    if (was && this.fix.value) this.dutyError.value = (await this.sendPosition(this.fix.value, false)) ?? '';
  }

  /** Stops watching without ending the duty (sign-out of the page, the app closing). */
  pause(): void {
    if (this.watch !== null) navigator.geolocation.clearWatch(this.watch);
    if (this.timer) clearInterval(this.timer);
    if (this.due) clearTimeout(this.due);
    this.watch = this.timer = this.due = null;
    this.onDuty.value = false;
  }

  private async maybeSend(fix: Fix): Promise<void> {
    const now = Date.now();
    if (!this.onDuty.value) return;
    if (!positionDue(this.lastSent, fix, now)) {
      if (this.lastSent && !this.due && distanceM(this.lastSent.fix, fix) > MOVED_M) {
        this.due = setTimeout(() => {
          this.due = null;
          if (this.fix.value) void this.maybeSend(this.fix.value);
        }, this.lastSent.sentAt + MOVING_INTERVAL_MS - now);
      }
      return;
    }
    this.lastSent = { fix, sentAt: now };
    const error = await this.sendPosition(fix, true);
    this.dutyError.value = error ?? '';
    if (!error) this.lastSentAt.value = new Date(now).toISOString();
  }
}
