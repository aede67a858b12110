/**
 * Live positions across the instances of a city. The positions an instance makes (the simulated staff on the
 * instance that runs the city life; phones connected to it) go to its own consoles and, through the broker, to
 * every other instance, which sends them to its consoles. On the bus they travel in the consoles' own binary
 * positions layout (protocol/positions-binary.ts), cut to the bus's message size: encoded once by the maker,
 * decoded once by each receiver. A receiver keeps the latest position in its memory too (what its snapshots
 * carry), like the maker does. Positions are presence: a message lost while the broker is away is replaced by
 * the next second's.
 */
import { STAFF_STATUS_CODES, decodePositionsBinary, encodePositionsBinary, type StaffStatus } from '../../protocol';
import type { CityState } from '../../domain';
import type { Logger } from '../../node-util/logger';
import { POSITION_MESSAGE_MAX_BYTES, type PositionBus, type PositionKind } from './position-bus';

export interface LivePosition {
  id: string;
  lon: number;
  lat: number;
  status: StaffStatus;
  districtId: string;
}

export interface PositionsRelayOptions {
  /** Null: one instance, nobody to tell. */
  bus: PositionBus | null;
  state: CityState;
  log: Logger;
  /**
   * To this instance's consoles (the fan-out: encoded once per scope and form). `whole`: these very items as one
   * binary positions frame, as the maker encoded it (sent on to city-wide consoles as it is).
   */
  broadcast(at: string, items: LivePosition[], whole?: Buffer): void;
  /** Staff whose phone sent these positions, on this instance or another (the simulator leaves them alone). */
  phones?(staffIds: readonly string[]): void;
}

export class PositionsRelay {
  private readonly stopListening: () => void;
  private lastWarning = 0;
  /** Positions from other instances whose staff this instance does not know (yet): dropped. */
  unknown = 0;

  constructor(private readonly o: PositionsRelayOptions) {
    this.stopListening = o.bus?.onPositions((bytes, from, kind) => this.received(bytes, from, kind)) ?? (() => {});
  }

  /** Positions made here (`phones`: sent by phones): to this instance's consoles, and to the other instances. */
  made(at: string, items: LivePosition[], kind: PositionKind = 'made'): void {
    if (kind === 'phones') this.o.phones?.(items.map((i) => i.id));
    this.o.broadcast(at, items);
    const bus = this.o.bus;
    if (!bus || bus.state !== 'up' || items.length === 0) return;
    const encoded = encodePositionsBinary({ at, items: items.map((i) => [i.id, i.lon, i.lat, STAFF_STATUS_CODES.indexOf(i.status)] as [string, number, number, number]) }, POSITION_MESSAGE_MAX_BYTES);
    if (!encoded.ok) return this.warn('positions could not be encoded for the other instances', encoded.error.message);
    for (const frame of encoded.frames) bus.publish(frame, kind);
  }

  private received(bytes: Uint8Array, from: string, kind: PositionKind): void {
    const decoded = decodePositionsBinary(bytes, POSITION_MESSAGE_MAX_BYTES);
    if (!decoded.ok) return this.warn(`positions from instance ${from} refused`, decoded.error.message);
    const items: LivePosition[] = [];
    for (const [id, lon, lat, code] of decoded.payload.items) {
      const staff = this.o.state.get('staff', id);
      const status = STAFF_STATUS_CODES[code];
      if (!staff || !status) {
        this.unknown++;
        continue;
      }
      staff.position = [lon, lat]; // volatile, as on the instance that made it
      items.push({ id, lon, lat, status, districtId: staff.districtId });
    }
    if (kind === 'phones' && items.length > 0) this.o.phones?.(items.map((i) => i.id));
    // Every row known here: the maker's frame is exactly what city-wide binary consoles get (one copy, the bus
    // lends its bytes).
    if (items.length > 0) this.o.broadcast(decoded.payload.at, items, items.length === decoded.payload.items.length ? Buffer.from(bytes) : undefined);
  }

  private warn(message: string, detail: string): void {
    if (Date.now() - this.lastWarning < 60_000) return;
    this.lastWarning = Date.now();
    this.o.log.warn(message, { detail });
  }

  close(): void {
    this.stopListening();
  }
}
