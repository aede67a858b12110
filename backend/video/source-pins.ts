/**
 * Who keeps a camera's encoder running besides its viewers, and who listens to its MPEG-TS (camera-streams.ts):
 * a pin (the recorder's, per owner) holds an encoder up with nobody watching, and a pinned encoder that exits is
 * started again with back-off; a tap gets every camera's packets as they leave the encoder (the same bytes the
 * viewers get, never encoded twice) and stays across encoder restarts.
 */

/** Packets of a camera as they come (whole 188-byte TS packets); null: that encoder ended (a restart may follow). */
export type PacketListener = (cameraId: string, packets: Buffer | null) => void;

/** Back-off of a pinned encoder that keeps exiting: 1 s, 2 s, 4 s … up to this. */
const MAX_BACKOFF_MS = 30_000;
/** An encoder that ran this long is taken as healthy: its next exit restarts after the first delay again. */
const HEALTHY_MS = 30_000;

export class SourcePins {
  private readonly pins = new Map<string, Set<string>>();
  private readonly taps = new Map<string, Set<PacketListener>>();
  private readonly failures = new Map<string, number>();
  private readonly restarts = new Map<string, NodeJS.Timeout>();

  /** Adds an owner's pin; true when the camera had none before. */
  pin(cameraId: string, owner: string): boolean {
    const owners = this.pins.get(cameraId) ?? new Set<string>();
    const first = owners.size === 0;
    owners.add(owner);
    this.pins.set(cameraId, owners);
    return first;
  }

  /** Takes an owner's pin away; true when the camera has none left. */
  unpin(cameraId: string, owner: string): boolean {
    const owners = this.pins.get(cameraId);
    if (!owners?.delete(owner)) return false;
    if (owners.size > 0) return false;
    this.pins.delete(cameraId);
    this.failures.delete(cameraId);
    const timer = this.restarts.get(cameraId);
    if (timer) clearTimeout(timer);
    this.restarts.delete(cameraId);
    return true;
  }

  pinned(cameraId: string): boolean {
    return (this.pins.get(cameraId)?.size ?? 0) > 0;
  }

  /** The pinned cameras with their owners (tests, the recorder's health). */
  list(): Array<{ cameraId: string; owners: string[] }> {
    return [...this.pins].map(([cameraId, owners]) => ({ cameraId, owners: [...owners] }));
  }

  /** Listens to one camera's packets, or every camera's ('*'); returns the way to stop. */
  listen(cameraId: string, listener: PacketListener): () => void {
    const set = this.taps.get(cameraId) ?? new Set<PacketListener>();
    set.add(listener);
    this.taps.set(cameraId, set);
    return () => {
      set.delete(listener);
      if (set.size === 0 && this.taps.get(cameraId) === set) this.taps.delete(cameraId);
    };
  }

  emit(cameraId: string, packets: Buffer | null): void {
    for (const key of [cameraId, '*']) {
      for (const listener of this.taps.get(key) ?? []) listener(cameraId, packets);
    }
  }

  /**
   * A pinned camera's encoder ended after running `ranMs`: `start` is called after the back-off (unless the pin
   * goes meanwhile). Nothing for a camera nobody pins.
   */
  restartLater(cameraId: string, ranMs: number, start: () => void): void {
    if (!this.pinned(cameraId) || this.restarts.has(cameraId)) return;
    const failures = ranMs >= HEALTHY_MS ? 0 : (this.failures.get(cameraId) ?? 0) + 1;
    this.failures.set(cameraId, failures);
    const delay = Math.min(MAX_BACKOFF_MS, 1000 * 2 ** Math.max(0, failures - 1));
    const timer = setTimeout(() => {
      this.restarts.delete(cameraId);
      if (this.pinned(cameraId)) start();
    }, delay);
    timer.unref();
    this.restarts.set(cameraId, timer);
  }

  close(): void {
    for (const timer of this.restarts.values()) clearTimeout(timer);
    this.restarts.clear();
  }
}
