/**
 * The department page (部门联络员端, renderer/department.html, built into out/renderer) at /department/, served
 * like the field app (backend/pages/page-assets.ts), and its routes (protocol/department.ts), with a 部门联络员
 * (liaison) session as bearer:
 *
 *   GET  /department/api/me                         the user, their department and its queue (open events whose
 *                                                   current assignee is the department, newest first, at most
 *                                                   DEPARTMENT_QUEUE_MAX); 404 when the department is gone
 *   GET  /department/api/events/<eventId>           one event of the department's in detail (403 another's)
 *   POST /department/api/events/<eventId>/<action>  sign | feedback | return | extension, run as the liaison through
 *                                                   the command pipeline (the domain checks the event is the
 *                                                   department's), the command id derived from the page's clientId
 *
 * 401 / 403 as for the field route (backend/auth/app-bearer.ts); refusals `{code, message}`, Chinese first.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { timelineId, type Actor, type CityState } from '../domain';
import { DEPARTMENT_ACTION_BODIES, DEPARTMENT_ME_PATH, DEPARTMENT_QUEUE_MAX, DepartmentAction, type Department, type DepartmentEvent, type DepartmentMe, type FieldActionAnswer, type GovEvent } from '../protocol';
import { parseRequestTarget } from '../web-serving/request-target';
import { withAppBearer } from './auth/app-bearer';
import type { Auth } from './auth/sessions';
import { decodedSegment, send } from './http-answers';
import type { BackendStore, UserRecord } from './store/types';
import { findPageAssets, pageCsp, servePageAsset } from './pages/page-assets';
import { derivedCommandId, EVENT_ID_SEGMENT, readJson, refusalBody, runCommand, type SubmitCommand } from './field/http-command';

/** Where the console's build put the department page (out/renderer), or null when it is not built. */
export const findDepartmentAssets = (from?: string): string | null => findPageAssets('department.html', from);

export interface DepartmentRoutesOptions {
  auth: Pick<Auth, 'check'>;
  store: Pick<BackendStore, 'audit'>;
  state: CityState;
  /** The command pipeline (absent: GET /department/api/me only). */
  submit?: SubmitCommand;
  /** Where the built page is (out/renderer, holding department.html); null: not built (503); absent: the API only. */
  assetsDir?: string | null;
}

const PAGE_NOT_BUILT = '部门联络页尚未构建：请先运行 npm run build（the department page is not built）';

const COMMAND_OF: Record<DepartmentAction, 'event.sign' | 'event.feedback' | 'event.return' | 'event.extension.request'> = {
  sign: 'event.sign',
  feedback: 'event.feedback',
  return: 'event.return',
  extension: 'event.extension.request',
};
const EVENT_PATH = /^\/department\/api\/events\/([^/]+)(?:\/([^/]+))?$/;
const TIMELINE_MAX = 200;

/** What a liaison of `departmentId` may do on the event now (nothing on one it only co-handles). */
export function departmentActions(event: GovEvent, departmentId: string | null = event.assignee?.departmentId ?? null): DepartmentAction[] {
  if (departmentId === null || event.assignee?.departmentId !== departmentId) return [];
  const pending = (event.extensionRequests ?? []).some((r) => r.state === 'pending');
  if (event.status === 'dispatched') return ['sign', 'return', ...(pending ? [] : ['extension' as const])];
  if (event.status === 'handling') return ['feedback', 'return', ...(pending ? [] : ['extension' as const])];
  return [];
}

export function departmentRoutes(o: DepartmentRoutesOptions): (req: IncomingMessage, res: ServerResponse) => boolean {
  const actorOf = (user: UserRecord, department: Department): Actor => ({ id: user.id, name: `${user.name}（${department.name}）`, role: 'liaison', districtScope: user.districtScope, departmentId: department.id });

  const queue = (department: Department): DepartmentMe['queue'] =>
    o.state.openEvents
      .ofDepartment(department.id)
      .sort((a, b) => b.reportedAt.localeCompare(a.reportedAt))
      .slice(0, DEPARTMENT_QUEUE_MAX)
      .map((e) => ({
        id: e.id,
        title: e.title,
        address: e.address,
        status: e.status,
        severity: e.severity,
        reportedAt: e.reportedAt,
        stepDeadline: e.stepDeadline,
        districtId: e.districtId,
        supervised: e.supervised,
        coHandling: e.assignee?.departmentId !== department.id,
        extensionPending: (e.extensionRequests ?? []).some((r) => r.state === 'pending'),
      }));

  const departmentName = (id: string): string => o.state.get('departments', id)?.name ?? id;
  const coHandling = (event: GovEvent): DepartmentEvent['coHandling'] => {
    const asked = event.coHandlingRequests.map((r) => ({ department: departmentName(r.departmentId), state: r.state, reason: r.reason }));
    const requested = new Set(event.coHandlingRequests.map((r) => r.departmentId));
    // Co-handlers named without a request (older events): helping all the same.
    return [...asked, ...event.coHandlers.filter((id) => !requested.has(id)).map((id) => ({ department: departmentName(id), state: 'approved' as const, reason: '' }))];
  };

  const detail = (event: GovEvent, department: Department): DepartmentEvent => {
    // The entries' ids are `${eventId}.${index}` (domain timelineId): read by id, the last TIMELINE_MAX.
    const first = Math.max(0, event.timelineCount - TIMELINE_MAX);
    const timeline = Array.from({ length: event.timelineCount - first }, (_, i) => o.state.get('timeline', timelineId(event.id, first + i)))
      .filter((r) => r !== undefined)
      .map(({ at, actor, actorName, action, note, attachments, position, accuracy }) => ({ at, actor, actorName, action, ...(note !== undefined ? { note } : {}), ...(attachments ? { attachments } : {}), ...(position ? { position } : {}), ...(accuracy !== undefined ? { accuracy } : {}) }));
    return {
      id: event.id,
      title: event.title,
      description: event.description,
      category: event.category,
      categoryName: o.state.get('rules', event.category)?.categoryName ?? event.category,
      severity: event.severity,
      address: event.address,
      location: event.location,
      status: event.status,
      reportedAt: event.reportedAt,
      stepDeadline: event.stepDeadline,
      finalDeadline: event.finalDeadline,
      supervised: event.supervised,
      version: event.version,
      attachments: event.attachments ?? [],
      extensionRequests: event.extensionRequests ?? [],
      coHandling: coHandling(event),
      lead: event.assignee?.departmentId === department.id,
      actions: departmentActions(event, department.id),
      timeline,
    };
  };

  const act = async (req: IncomingMessage, res: ServerResponse, actor: Actor, eventId: string, action: DepartmentAction, submit: SubmitCommand): Promise<void> => {
    const body = await readJson(req, res, DEPARTMENT_ACTION_BODIES[action]);
    if (!body) return;
    if (!o.state.get('events', eventId)) return send(res, 404, { code: 'no-event', message: `事件 ${eventId} 不存在 / event ${eventId} does not exist` });
    const { clientId, ...rest } = body;
    const done = await runCommand(submit, actor, derivedCommandId(actor.id, `${action}:${eventId}`, clientId), COMMAND_OF[action], { eventId, ...rest });
    if (!done.ok) return send(res, done.status, refusalBody(done));
    const event = o.state.get('events', eventId)!;
    const answer: FieldActionAnswer = { eventId, status: event.status, version: event.version, duplicate: done.duplicate };
    send(res, 200, answer);
  };

  return (req, res) => {
    const path = parseRequestTarget(req.url)?.pathname;
    if (path === undefined) return false;
    const eventRoute = EVENT_PATH.exec(path);
    if (path !== DEPARTMENT_ME_PATH && !eventRoute) {
      if (o.assetsDir === undefined || (path !== '/department' && !path.startsWith('/department/'))) return false;
      if (path === '/department') return (req.resume(), res.writeHead(301, { Location: '/department/' }).end(), true);
      req.resume();
      servePageAsset(req, res, path, { base: '/department', html: 'department.html', dir: o.assetsDir, notBuilt: PAGE_NOT_BUILT, csp: () => pageCsp() });
      return true;
    }
    const method = eventRoute?.[2] !== undefined ? 'POST' : 'GET';
    if (req.method !== method) {
      req.resume();
      res.writeHead(405, { Allow: method }).end();
      return true;
    }
    let eventId: string | null = null;
    let action: DepartmentAction | null = null;
    if (eventRoute) {
      eventId = decodedSegment(eventRoute[1]!);
      const parsed = eventRoute[2] === undefined ? null : DepartmentAction.safeParse(eventRoute[2]);
      if (!eventId || !EVENT_ID_SEGMENT.test(eventId) || (parsed && !parsed.success) || (parsed && !o.submit)) {
        req.resume();
        send(res, 404, { code: 'not-found', message: `没有这个操作（可用：${DepartmentAction.options.join('、')}） / no such action` });
        return true;
      }
      action = parsed?.data ?? null;
    }
    if (!action) req.resume();
    withAppBearer(o, req, res, 'department', '部门页服务出错 / the department route failed', async (user) => {
      const department = user.departmentId === null ? undefined : o.state.get('departments', user.departmentId);
      if (!department) {
        req.resume();
        return send(res, 404, { code: 'no-department', message: `账号 ${user.id} 所属的部门不存在，请联系系统管理员 / the account's department does not exist` });
      }
      if (!eventId) {
        const answer: DepartmentMe = { user: { id: user.id, name: user.name }, department: { id: department.id, name: department.name }, queue: queue(department) };
        return send(res, 200, answer);
      }
      if (action) return act(req, res, actorOf(user, department), eventId, action, o.submit!);
      const event = o.state.get('events', eventId);
      if (!event) return send(res, 404, { code: 'no-event', message: `事件 ${eventId} 不存在 / event ${eventId} does not exist` });
      // Its own events, and those it co-handles (协同): what it reads; acting is the domain's check.
      if (event.assignee?.departmentId !== department.id && !event.coHandlers.includes(department.id)) {
        return send(res, 403, { code: 'forbidden', message: `事件 ${eventId} 不属于 ${department.name} / event ${eventId} is not your department's` });
      }
      send(res, 200, detail(event, department));
    });
    return true;
  };
}
