/**
 * The field app's (外勤端) work routes beside GET /field/api/me (backend/sip/field.ts), with a field account's
 * session as bearer (protocol/field.ts has the bodies and answers):
 *
 *   POST /field/api/reports                    一键上报: event.report as the staff member (source grid-app, reporter the
 *                                              staff member, the grid from the position, in the staff member's district)
 *   POST /field/api/tasks/<eventId>/<action>   sign | arrive | feedback | cohandle on a task assigned to them
 *   POST /field/api/position                   a position while on duty (to the consoles' staff layer, through the
 *                                              positions relay like the simulator's: every instance, the broker);
 *                                              onDuty:false ends the duty (offline)
 *
 * Every command runs through the command pipeline as the account (the domain checks the role and that the task is
 * theirs), its command id derived from the phone's clientId: a retry from the offline queue runs it once.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { FIELD_POSITION_MIN_INTERVAL_MS, FIELD_TASK_BODIES, FieldAction, FieldPosition, FieldReport, type Change, type FieldActionAnswer, type FieldReportAnswer, type GovEvent, type LonLat, type Staff, type StaffStatus } from '../../protocol';
import { upsert, type Actor, type CityState } from '../../domain';
import type { Auth } from '../auth/sessions';
import { withAppBearer } from '../auth/app-bearer';
import type { BackendStore, UserRecord } from '../store/types';
import { decodedSegment, send } from '../http-answers';
import type { LivePosition } from '../cluster/positions-relay';
import { derivedCommandId, EVENT_ID_SEGMENT, readJson, refusalBody, runCommand, type SubmitCommand } from './http-command';

export interface FieldApiOptions {
  auth: Pick<Auth, 'check'>;
  store: Pick<BackendStore, 'audit'>;
  state: CityState;
  submit: SubmitCommand;
  /** Grid and district of a point; null outside the city's grids. */
  locate(location: LonLat): { gridId: string; districtId: string } | null;
  /** Commits the server's own changes (a staff member's duty status) in the pipeline's order. */
  commitSystemChanges(build: () => Change[]): Promise<number | null>;
  /** Live positions made on this instance: its consoles and, through the broker, the other instances'. */
  positions(at: string, items: LivePosition[]): void;
  /** The city's clock (simulated time): positions carry it, as the simulator's do. */
  now(): Date;
}

const COMMAND_OF: Record<FieldAction, 'event.sign' | 'event.arrive' | 'event.feedback' | 'event.cohandle.request'> = {
  sign: 'event.sign',
  arrive: 'event.arrive',
  feedback: 'event.feedback',
  cohandle: 'event.cohandle.request',
};

/** What a grid staff member may do on their task now (the phone's buttons; the domain decides in the end). */
export function fieldActions(event: GovEvent): FieldAction[] {
  if (event.status === 'dispatched') return ['sign', 'cohandle'];
  if (event.status === 'handling') return ['arrive', 'feedback', 'cohandle'];
  return [];
}

/** The actor a field account's commands run as: their staff record, in their district (where they may report). */
export function fieldActor(user: UserRecord, staff: Staff): Actor {
  return { id: user.id, name: staff.name, role: 'field', districtScope: [staff.districtId], staffId: staff.id };
}

export function fieldApiRoutes(o: FieldApiOptions): (req: IncomingMessage, res: ServerResponse) => boolean {
  /** When each staff member's last position was taken (wall clock), for the rate limit. */
  const lastPosition = new Map<string, number>();

  const report = async (req: IncomingMessage, res: ServerResponse, actor: Actor, staff: Staff): Promise<void> => {
    const body = await readJson(req, res, FieldReport);
    if (!body) return;
    const rule = o.state.get('rules', body.category);
    if (!rule) return send(res, 400, { code: 'invalid', message: `没有事件类别 ${body.category} / unknown event category`, path: 'category' });
    const payload = {
      source: 'grid-app',
      category: body.category,
      severity: body.severity ?? 2,
      // Never the person's name in the title: titles are shown whole on demo screens (the reporter is masked there).
      title: body.title ?? `${rule.categoryName}（网格员上报）`,
      description: body.description,
      location: body.location,
      accuracy: body.accuracy,
      ...(body.address ? { address: body.address } : {}),
      // The staff member reports: their name, not their phone (staff phones are the city's own records).
      reporter: { name: staff.name, phone: '' },
      ...(body.attachments.length > 0 ? { attachments: body.attachments } : {}),
    };
    const done = await runCommand(o.submit, actor, derivedCommandId(actor.id, 'report', body.clientId), 'event.report', payload);
    if (!done.ok) return send(res, done.status, refusalBody(done));
    const answer: FieldReportAnswer = { eventId: String(done.result['eventId']), duplicate: done.duplicate };
    send(res, done.duplicate ? 200 : 201, answer);
  };

  const task = async (req: IncomingMessage, res: ServerResponse, actor: Actor, eventId: string, action: FieldAction): Promise<void> => {
    const body = await readJson(req, res, FIELD_TASK_BODIES[action]);
    if (!body) return;
    if (!o.state.get('events', eventId)) return send(res, 404, { code: 'no-event', message: `事件 ${eventId} 不存在 / event ${eventId} does not exist` });
    const { clientId, ...rest } = body;
    const done = await runCommand(o.submit, actor, derivedCommandId(actor.id, `${action}:${eventId}`, clientId), COMMAND_OF[action], { eventId, ...rest });
    if (!done.ok) return send(res, done.status, refusalBody(done));
    const event = o.state.get('events', eventId)!;
    const answer: FieldActionAnswer = { eventId, status: event.status, version: event.version, duplicate: done.duplicate };
    send(res, 200, answer);
  };

  const position = async (req: IncomingMessage, res: ServerResponse, staff: Staff): Promise<void> => {
    const body = await readJson(req, res, FieldPosition);
    if (!body) return;
    const at: LonLat = [Math.round(body.lon * 1e6) / 1e6, Math.round(body.lat * 1e6) / 1e6];
    if (!o.locate(at)) return send(res, 400, { code: 'outside-city', message: `位置 ${at.join(',')} 不在本市网格范围内 / the position is outside the city`, path: 'lon' });
    const now = Date.now();
    const since = now - (lastPosition.get(staff.id) ?? 0);
    if (since < FIELD_POSITION_MIN_INTERVAL_MS) {
      const wait = Math.ceil((FIELD_POSITION_MIN_INTERVAL_MS - since) / 1000);
      res.setHeader('Retry-After', String(wait));
      return send(res, 429, { code: 'too-often', message: `位置上报过于频繁（至少间隔 ${FIELD_POSITION_MIN_INTERVAL_MS / 1000} 秒），请 ${wait} 秒后再试 / positions too often, retry in ${wait} s` });
    }
    if (lastPosition.size >= 100_000) lastPosition.clear();
    lastPosition.set(staff.id, now);
    const current = o.state.get('staff', staff.id) ?? staff;
    const status: StaffStatus = !body.onDuty ? 'offline' : current.status !== 'offline' ? current.status : current.openTasks > 0 ? 'handling' : 'patrolling';
    const cityNow = o.now().toISOString();
    if (status !== current.status) {
      // Going on or off duty is a change of the staff record (consoles and the dispatch suggestions read it).
      await o.commitSystemChanges(() => {
        const latest = o.state.get('staff', staff.id);
        return latest ? [upsert('staff', { ...latest, status, position: at, updatedAt: cityNow })] : [];
      });
    } else current.position = at; // volatile, as the simulator's positions: broadcast now, persisted with the next change
    if (status !== 'offline') o.positions(cityNow, [{ id: staff.id, lon: at[0], lat: at[1], status, districtId: staff.districtId }]);
    send(res, 200, { status });
  };

  return (req, res) => {
    const path = (req.url ?? '').split('?')[0]!;
    const route = /^\/field\/api\/(?:(reports|position)|tasks\/([^/]+)\/([^/]+))$/.exec(path);
    if (!route) return false;
    if (req.method !== 'POST') {
      req.resume();
      res.setHeader('Allow', 'POST');
      send(res, 405, { code: 'method', message: '只支持 POST / POST only' });
      return true;
    }
    let eventId: string | null = null;
    let action: FieldAction | null = null;
    if (route[2] !== undefined) {
      eventId = decodedSegment(route[2]);
      const parsed = FieldAction.safeParse(route[3]);
      if (!eventId || !EVENT_ID_SEGMENT.test(eventId) || !parsed.success) {
        req.resume();
        send(res, 404, { code: 'not-found', message: `没有这个操作（可用：${FieldAction.options.join('、')}） / no such action` });
        return true;
      }
      action = parsed.data;
    }
    withAppBearer(o, req, res, 'field', '外勤端服务出错 / the field route failed', async (user) => {
      const staff = user.staffId === null ? undefined : o.state.get('staff', user.staffId);
      if (!staff) {
        req.resume();
        return send(res, 404, { code: 'no-staff', message: `账号 ${user.id} 没有对应的网格员，不能上报或处置 / the account names no staff member` });
      }
      const actor = fieldActor(user, staff);
      if (route[1] === 'reports') await report(req, res, actor, staff);
      else if (route[1] === 'position') await position(req, res, staff);
      else await task(req, res, actor, eventId!, action!);
    });
    return true;
  };
}
