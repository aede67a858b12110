/**
 * The department page's sign-in route (protocol/department.ts; the page itself is issue 20): GET
 * /department/api/me with a 部门联络员 (liaison) session as bearer → the user, their department and its queue
 * (open events whose current assignee is the department, newest first, at most DEPARTMENT_QUEUE_MAX). 401 / 403
 * as for the field route (backend/auth/app-bearer.ts); 404 when the account's department is gone from the city.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { CityState } from '../domain';
import { DEPARTMENT_ME_PATH, DEPARTMENT_QUEUE_MAX, type DepartmentMe } from '../protocol';
import { parseRequestTarget } from '../web-serving/request-target';
import { sessionBearer } from './auth/app-bearer';
import type { Auth } from './auth/sessions';
import { send } from './http-answers';
import type { BackendStore } from './store/types';

export function departmentRoutes(o: { auth: Pick<Auth, 'check'>; store: Pick<BackendStore, 'audit'>; state: CityState }): (req: IncomingMessage, res: ServerResponse) => boolean {
  return (req, res) => {
    const path = parseRequestTarget(req.url)?.pathname;
    if (path !== DEPARTMENT_ME_PATH) return false;
    req.resume();
    if (req.method !== 'GET') {
      res.writeHead(405, { Allow: 'GET' }).end();
      return true;
    }
    void (async () => {
      const who = await sessionBearer(o.auth, o.store, req, 'department');
      if ('code' in who) return send(res, who.status, { code: who.code, message: who.message });
      const department = who.user.departmentId === null ? undefined : o.state.get('departments', who.user.departmentId);
      if (!department) return send(res, 404, { code: 'no-department', message: `账号 ${who.user.id} 所属的部门不存在，请联系系统管理员 / the account's department does not exist` });
      const queue = [...o.state.collections.events.values()]
        .filter((e) => e.assignee?.departmentId === department.id && e.status !== 'closed' && e.status !== 'merged')
        .sort((a, b) => b.reportedAt.localeCompare(a.reportedAt))
        .slice(0, DEPARTMENT_QUEUE_MAX)
        .map((e) => ({ id: e.id, title: e.title, address: e.address, status: e.status, severity: e.severity, reportedAt: e.reportedAt, stepDeadline: e.stepDeadline, districtId: e.districtId }));
      const answer: DepartmentMe = { user: { id: who.user.id, name: who.user.name }, department: { id: department.id, name: department.name }, queue };
      send(res, 200, answer);
    })().catch((e: unknown) => {
      if (!res.headersSent) send(res, 500, { code: 'internal', message: `部门页服务出错 / the department route failed: ${(e as Error).message.slice(0, 200)}` });
    });
    return true;
  };
}
