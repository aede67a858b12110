/**
 * The city's life on one backend instance: the live simulator (events, staff moving, the duty officer's alarm
 * acknowledgements) run through the real command pipeline, and the KPIs recomputed and committed as sequenced
 * changes. Only the
 * instance holding the store's lead runs it (several would each move the staff and make events; SQLite: the
 * only one); another takes over when it goes. backend/index.ts starts it as its last service.
 */
import { KpiPeriod, type Change, type KpiSnapshot, type Staff } from '../protocol';
import { upsert, type Actor, type CityState } from '../domain';
import type { Logger } from '../node-util/logger';
import type { SimClock } from './clock';
import { computeKpis } from './kpi';
import type { City } from './city-generator/city';
import type { RunningStore } from './store/open';
import type { Watch } from './store/types';
import type { BackendServer } from './wire/server';
import { SimulationEngine, type ApplyCommand } from './live-simulator/engine';
import { storedSimCity } from './live-simulator/stored-city';
import type { PositionsRelay } from './cluster/positions-relay';
import type { BackendService } from './services';
import { LivePeople } from './live-simulator/live-people';
import { SimulatedDutyOfficer } from './live-simulator/duty-officer';

const DUTY_OFFICER: Actor = { id: 'sim:duty-officer', name: '值班员（模拟）', role: 'system', districtScope: null };

const PERIODS = KpiPeriod.options;

export interface CityLifeOptions {
  server: BackendServer;
  store: RunningStore;
  state: CityState;
  clock: SimClock;
  log: Logger;
  /** The generated city and the seed it was made with. */
  city: City;
  seed: number;
  /** Where this tick's live positions go (the relay may be replaced when the position broker starts). */
  relay: () => PositionsRelay;
  /** Run the simulator (false: KPIs only). */
  simulate: boolean;
  /** Staff whose phone reported a position lately (the simulator leaves them where their phone says). */
  ownPhone?: (staffId: string) => boolean;
  tickMs: number;
  kpiIntervalMs: number;
}

export class CityLife {
  readonly engine: SimulationEngine;
  /** The simulated staff, liaisons and platforms, acting over HTTP on the real routes (live-simulator/live-people.ts). */
  readonly people: LivePeople;
  private kpiSeq = -1;
  private lastTick: number;
  private ticks = 0;
  private ticking: Promise<void> | null = null;
  private readonly timers: NodeJS.Timeout[] = [];
  private lead: Watch | null = null;
  private readonly dutyOfficer: SimulatedDutyOfficer;
  /** Stopping: a lead heard now is not taken up. */
  private stopped = false;

  constructor(private readonly o: CityLifeOptions) {
    const { server, state, city } = o;
    let simCommand = 0;
    const simRun = `${Date.now().toString(36)}`;
    const apply: ApplyCommand = async (actor, type, payload) => {
      const { ack, frame } = await server.submit(actor, `sim-${simRun}-${simCommand++}`, type, payload);
      return ack ? { ok: true, result: ack.result } : { ok: false, reason: frame };
    };
    // The city the store holds: the generated one, or an imported one (stored-city.ts), followed as it changes.
    this.people = new LivePeople({ store: o.store, state, port: () => server.port, log: o.log });
    this.engine = new SimulationEngine({ city: storedSimCity(state, city), state, seed: `live:${o.seed}:${simRun}`, apply, people: this.people, ...(o.ownPhone ? { ownPhone: o.ownPhone } : {}) });
    this.dutyOfficer = new SimulatedDutyOfficer(state, apply, DUTY_OFFICER, `${o.seed}:${simRun}`);
    this.lastTick = o.clock.nowMs();
  }

  /** Whether this instance runs the city life now (it holds the store's lead). */
  get leading(): boolean {
    return this.timers.length > 0;
  }

  /** KPIs: recomputed when events changed, at most every kpiIntervalMs; committed as sequenced changes. */
  async refreshKpis(): Promise<void> {
    const { state, server, clock } = this.o;
    if (state.seq === this.kpiSeq && state.collections.kpis.size === PERIODS.length) return;
    const seq = await server.commitSystemChanges(() => {
      const now = clock.now();
      return PERIODS.map((period): Change => upsert('kpis', computeKpis(state, period, now) as KpiSnapshot));
    });
    this.kpiSeq = seq ?? state.seq;
  }

  /** One simulator tick (also run directly by tests). */
  async tick(): Promise<void> {
    if (this.ticking) return;
    this.ticking = this.tickOnce().finally(() => (this.ticking = null));
    return this.ticking;
  }

  private async tickOnce(): Promise<void> {
    const { engine } = this;
    const { clock, server, state, store, log } = this.o;
    try {
      const now = clock.nowMs();
      if (this.ticks % 10 === 0) {
        await this.people.refresh();
        engine.adoptOpenEvents(now);
      }
      // 督办 of what is overdue comes from the alarm system's escalation now (backend/duty/alarm-service.ts), once
      // per rung; the simulated duty officer acknowledges alarms in time, or not quite.
      await this.dutyOfficer.act(now);
      await engine.advance(now);
      // Positions carry the time they are computed at (the events above may have taken a while: a burst through
      // the write turn) and leave before this tick's own commit, which must not hold them up.
      const movedAt = clock.nowMs();
      const moved = engine.moveStaff(movedAt, movedAt - this.lastTick);
      this.lastTick = movedAt;
      this.o.relay().made(new Date(movedAt).toISOString(), moved.positions);
      // Built in the write turn from the records as committed by then (another instance may have changed a
      // staff member meanwhile): only what moving changes — status, position, time — is taken from the move.
      if (moved.changes.length > 0) {
        await server.commitSystemChanges(() =>
          moved.changes.flatMap((change): Change[] => {
            if (change.op !== 'upsert' || change.collection !== 'staff') return [change];
            const current = state.get('staff', change.id);
            const made = change.data as Staff;
            return current ? [upsert('staff', { ...current, status: made.status, position: made.position, updatedAt: made.updatedAt })] : [];
          }),
        );
      }
      if (this.ticks % 30 === 29) {
        await store.savePositions(moved.positions.map((p) => [p.id, p.lon, p.lat]));
        await store.setMeta('simTime', String(movedAt));
      }
      this.ticks++;
    } catch (e) {
      log.error('simulator tick failed', { error: (e as Error).stack });
    }
  }

  private begin(): void {
    if (this.timers.length > 0 || this.stopped) return;
    const { log, clock } = this.o;
    log.info('this instance runs the city life (simulation, KPIs)');
    // Whatever simulated accounts and keys another instance (or this one before) used are replaced first, with the
    // simulator or without (live-people.ts); the simulator's people wait for that before they act.
    void this.people.takeLead();
    if (this.o.simulate) {
      this.engine.adoptOpenEvents(clock.nowMs());
      this.lastTick = clock.nowMs();
      this.timers.push(setInterval(() => void this.tick(), this.o.tickMs));
    }
    this.timers.push(setInterval(() => this.refreshKpis().catch((e: unknown) => log.error('KPI refresh failed', { error: (e as Error).stack })), this.o.kpiIntervalMs));
  }

  private end(stopping = false): void {
    if (this.timers.length === 0) return;
    for (const t of this.timers.splice(0)) clearInterval(t);
    // Another instance leads now and replaces the simulated accounts' tokens and keys: nothing written here.
    if (!stopping) this.people.loseLead();
    if (!stopping) this.o.log.warn('this instance lost the lead (its database connection went): another instance runs the city life');
  }

  /** The backend service (backend/services.ts): contends for the lead, runs the life while it holds it. */
  service(): BackendService {
    return {
      // One instance of a city runs its life (several would each move the staff and make events): the one that
      // holds the store's lead (SQLite: the only one); another takes over when it goes.
      name: 'city life (simulator, KPIs)',
      start: async () => {
        this.lead = this.o.store.lead((leading) => (leading ? this.begin() : this.end()));
        // A lead taken at once (SQLite: always) releases the simulated accounts before the start is done.
        await new Promise((resolve) => setImmediate(resolve));
        await this.people.settled();
      },
      stop: async () => {
        const leading = this.timers.length > 0;
        this.stopped = true;
        this.end(true);
        await this.ticking;
        // While the lead is still held: the simulated accounts' staff and keys this instance made let go.
        await this.people.close(leading).catch((e: unknown) => this.o.log.warn('simulated accounts not released on stopping', { error: (e as Error).message.slice(0, 200) }));
        if (leading) await this.o.store.setMeta('simTime', String(this.o.clock.nowMs()));
        await this.lead?.close();
      },
    };
  }
}
