/**
 * The center's alarm system (告警), run by the instance that holds the store's lead (the one that runs the city
 * life; another takes over when it goes, and carries on from the records as committed). Every `pollMs` it asks the
 * domain what is due (domain/alarms.ts alarmActions: new reasons raise, ringing alarms past their rung's time climb
 * one rung as a 督办 on the event's timeline, alarms of closed or merged events are removed) and submits each as a
 * command of the system actor through the command pipeline: committed, audited, sent to every console whose area
 * holds the event. The command ids are fixed by what each action does, so nothing is done twice, even when the lead
 * moves mid-round. The clock is the backend's (simulated time in demos; a fake one in tests).
 */
import { alarmActions, type Actor, type CityState } from '../../domain';
import type { Logger } from '../../node-util/logger';
import type { SimClock } from '../clock';
import type { CommandAnswer } from '../wire/commands';

export const ALARM_ACTOR: Actor = { id: 'system:alarms', name: '告警系统', role: 'system', districtScope: null };

export interface AlarmServiceOptions {
  state: CityState;
  clock: Pick<SimClock, 'nowMs'>;
  log: Logger;
  leading(): boolean;
  submit(actor: Actor, commandId: string, type: string, payload: unknown): Promise<CommandAnswer>;
  pollMs?: number;
}

export class AlarmService {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<number> | null = null;
  /** Command ids refused in this process (said once, not every second); bounded. */
  private readonly refused = new Set<string>();

  constructor(private readonly o: AlarmServiceOptions) {}

  start(): void {
    this.timer ??= setInterval(() => void this.run(), this.o.pollMs ?? 1000);
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running;
  }

  /** One round (also called by tests): how many actions were applied. Not on an instance that does not lead. */
  run(): Promise<number> {
    if (!this.o.leading()) return Promise.resolve(0);
    this.running ??= this.round().finally(() => (this.running = null));
    return this.running;
  }

  private async round(): Promise<number> {
    let applied = 0;
    try {
      for (const action of alarmActions(this.o.state, this.o.clock.nowMs())) {
        // The lead may go mid-round: the next leader carries on from the records.
        if (!this.o.leading()) break;
        if (this.refused.has(action.commandId)) continue;
        const { ack, frame } = await this.o.submit(ALARM_ACTOR, action.commandId, action.type, action.payload);
        if (ack) applied += ack.duplicate ? 0 : 1;
        else {
          // A race the next round settles with a new id (the event closed meanwhile, a person acknowledged first).
          if (this.refused.size > 10_000) this.refused.clear();
          this.refused.add(action.commandId);
          this.o.log.warn('alarm action refused', { type: action.type, commandId: action.commandId, frame: frame.slice(0, 300) });
        }
      }
    } catch (e) {
      this.o.log.error('alarm round failed', { error: (e as Error).stack });
    }
    return applied;
  }
}
