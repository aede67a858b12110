/**
 * The demo's duty officer (值班员, simulated): acknowledges the alarms ringing at the center after a while of their
 * own — 1 to 5 simulated minutes, so some climb a rung first, as at a real desk — through the same command a person's
 * console sends (`alarm.acknowledge`), as the simulator's duty actor. Without it an unattended demo would ring at the
 * center leader's rung for ever. Each alarm is decided once per ringing (its version): acknowledged at its moment.
 */
import { isRinging, type Actor, type CityState } from '../../domain';
import { Rng } from '../city-generator/random';
import type { ApplyCommand } from './engine';

const MINUTE = 60_000;

export class SimulatedDutyOfficer {
  private readonly rng: Rng;
  /** When each ringing alarm (id@version) is acknowledged. */
  private readonly due = new Map<string, number>();

  constructor(
    private readonly state: CityState,
    private readonly apply: ApplyCommand,
    private readonly actor: Actor,
    seed: string,
  ) {
    this.rng = new Rng(`duty-officer:${seed}`);
  }

  /** Acknowledges what is due at `nowMs` (simulated time); returns how many. */
  async act(nowMs: number): Promise<number> {
    let done = 0;
    const ringing = new Set<string>();
    for (const alarm of this.state.all('alarms')) {
      if (!isRinging(alarm)) continue;
      const key = `${alarm.id}@${alarm.version}`;
      ringing.add(key);
      let at = this.due.get(key);
      if (at === undefined) this.due.set(key, (at = Date.parse(alarm.raisedAt) + (1 + this.rng.next() * 4) * MINUTE));
      if (at > nowMs) continue;
      const answer = await this.apply(this.actor, 'alarm.acknowledge', { alarmId: alarm.id, note: '模拟值班员确认' }, nowMs);
      if (answer.ok) done++;
    }
    for (const key of this.due.keys()) if (!ringing.has(key)) this.due.delete(key);
    return done;
  }
}
