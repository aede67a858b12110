/**
 * What the assignee of a dispatched event does next in the simulation: a grid staff member 签收, registers 到场 at
 * the place, then 处置反馈 (through the field app's routes); a department's liaison 签收 (now and then 退回: not ours),
 * sometimes asks for more time (申请延期, decided by the duty chief), then 处置反馈 (through the department page's).
 */
import type { GovEvent, Staff } from '../../protocol';
import type { Actor } from '../../domain';
import type { Rng } from '../city-generator/random';
import type { ApplyCommand } from './engine';
import type { Outcome, SimPeople } from './people';

const NOTES = ['已到现场处置完毕', '已协调相关方解决', '问题已整改到位', '已清理完毕并拍照留存', '已调解，双方达成一致'];
const round6 = (x: number): number => Math.round(x * 1e6) / 1e6;

/** The step's outcome, the event marked in `done` once it succeeded (never before: a refused step did not happen). */
async function marked(step: Promise<Outcome>, done: Set<string>, eventId: string): Promise<Outcome> {
  const outcome = await step;
  if (outcome.ok) done.add(eventId);
  return outcome;
}

export class AssigneeSteps {
  /** Events whose simulated staff member registered 到场 (arrival comes before the feedback): marked once the route took it. */
  readonly arrived = new Set<string>();
  /** Events a simulated department returned once (退回: it does not do it twice): marked once the route took it. */
  private readonly returned = new Set<string>();

  constructor(
    private readonly rng: Rng,
    private readonly people: SimPeople,
    private readonly apply: ApplyCommand,
    /** Who decides an extension asked for (the duty chief, a console user). */
    private readonly duty: Actor,
  ) {}

  /** The next step on a dispatched or handling event; null when the simulator does not play its assignee. */
  next(event: GovEvent, staff: Staff | undefined, departmentId: string | null, at: number): Promise<Outcome> | null {
    const { people, rng } = this;
    const baseVersion = event.version;
    if (staff) {
      if (!people.plays(staff.id)) return null;
      if (event.status === 'dispatched') return people.fieldAction(staff, event.id, 'sign', { baseVersion }, at);
      if (!this.arrived.has(event.id)) {
        const position: [number, number] = [round6(event.location[0] + rng.float(-0.0002, 0.0002)), round6(event.location[1] + rng.float(-0.0002, 0.0002))];
        // A refused 到场 is not one: the engine tries the step again later (engine.ts, bounded).
        return marked(people.fieldAction(staff, event.id, 'arrive', { baseVersion, position, accuracy: rng.int(5, 25) }, at), this.arrived, event.id);
      }
      return people.fieldAction(staff, event.id, 'feedback', { baseVersion, note: rng.pick(NOTES) }, at);
    }
    if (!departmentId) return null;
    const pending = (event.extensionRequests ?? []).find((r) => r.state === 'pending');
    if (pending) return this.apply(this.duty, 'event.extension.decide', { eventId: event.id, baseVersion, requestId: pending.id, approve: rng.chance(0.85) }, at);
    if (event.status === 'dispatched') {
      if (!this.returned.has(event.id) && rng.chance(0.03)) {
        return marked(people.departmentAction(departmentId, event.id, 'return', { baseVersion, reason: '经核实不属于本部门职责范围，请重新派遣' }, at), this.returned, event.id);
      }
      return people.departmentAction(departmentId, event.id, 'sign', { baseVersion }, at);
    }
    if ((event.extensionRequests ?? []).length === 0 && rng.chance(0.05)) {
      return people.departmentAction(departmentId, event.id, 'extension', { baseVersion, minutes: rng.pick([120, 240, 1440]), reason: '需协调施工队伍及材料，申请延长办理时限' }, at);
    }
    return people.departmentAction(departmentId, event.id, 'feedback', { baseVersion, note: rng.pick(NOTES) }, at);
  }
}
