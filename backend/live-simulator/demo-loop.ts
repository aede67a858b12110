/**
 * 迎检: the show that runs itself. Every `everyMs` of wall-clock time (what the audience sees, whatever the clock's
 * speed) the leading instance injects the next scripted incident — 暴雨内涝, 人员聚集, 火灾隐患, 交通事故 in turn, each in
 * the next district — through the simulated people's real routes; the simulated desk, departments and grid staff
 * then dispatch, handle and close them like any other. Runs until the backend stops; nothing accumulates here.
 */
import { SCENARIO_KINDS, type ScenarioKind } from './reports';

export interface DemoLoopOptions {
  everyMs: number;
  /** The districts to go round (ids). */
  districts(): readonly string[];
  leading(): boolean;
  inject(kind: ScenarioKind, districtId: string | undefined): Promise<string[]>;
  onError(e: unknown): void;
}

export class DemoLoop {
  private timer: NodeJS.Timeout | null = null;
  /** Carries on roughly where it was when the lead moves to another instance (the wall clock's turn). */
  private turn: number;
  private running = false;

  constructor(private readonly o: DemoLoopOptions) {
    if (!(o.everyMs >= 10_000)) throw new Error('the demo loop needs at least 10 s between incidents');
    this.turn = Math.floor(Date.now() / o.everyMs);
  }

  start(): void {
    this.timer ??= setInterval(() => void this.next(), this.o.everyMs);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** The next incident now (on the leading instance only; one at a time): the kind, district and events made. */
  async next(): Promise<{ kind: ScenarioKind; districtId: string | undefined; ids: string[] } | null> {
    if (this.running || !this.o.leading()) return null;
    this.running = true;
    try {
      const kind = SCENARIO_KINDS[this.turn % SCENARIO_KINDS.length]!;
      const districts = this.o.districts();
      // The district moves on one more every round of kinds, so no kind keeps to the same districts.
      const districtId = districts.length > 0 ? districts[(this.turn + Math.floor(this.turn / SCENARIO_KINDS.length)) % districts.length] : undefined;
      this.turn++;
      const ids = await this.o.inject(kind, districtId);
      return { kind, districtId, ids };
    } catch (e) {
      this.o.onError(e);
      return null;
    } finally {
      this.running = false;
    }
  }
}
