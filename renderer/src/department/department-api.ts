/**
 * The department page's calls to the backend, each answer checked with its zod schema: sign-in with a 部门联络员
 * (liaison) account (POST /auth/login {app: 'department'}), the department and its queue (GET /department/api/me),
 * one event (GET /department/api/events/<id>), and attachments read with the session as bearer (as blobs: an <img>
 * cannot send it). The actions (POST …/<id>/<action>, each with the page's clientId so a retry runs once) and their
 * uploads go through the offline queue (../page-apps/outbox.ts): actionRequest checks them first. The session is kept in sessionStorage: a reload
 * keeps the sign-in, closing the tab ends it. The shared page-app calls: ../page-apps/app-api.ts.
 */
import type { z } from 'zod';
import { DEPARTMENT_ACTION_BODIES, DEPARTMENT_ME_PATH, DepartmentEvent, DepartmentMe, type DepartmentAction } from '../../../protocol/department';
import { validate } from '../../../protocol/validate';
import { bearer, call, offlineError, PageApiError, pageSessions, refusal, say, type PageSession } from '../page-apps/app-api';

export { PageApiError as DepartmentApiError, newClientId } from '../page-apps/app-api';
export type DepartmentSession = PageSession;

const sessions = pageSessions({ app: 'department', storage: sessionStorage, clientName: '部门联络员端' });
export const { signIn, signOut } = sessions;
export const savedSession = sessions.saved;
export const forgetSession = sessions.forget;

export const fetchMe = (session: DepartmentSession): Promise<DepartmentMe> => call(say('读取本部门待办', 'Reading the queue'), DEPARTMENT_ME_PATH, { headers: bearer(session) }, DepartmentMe);

export const fetchEvent = (session: DepartmentSession, id: string): Promise<DepartmentEvent> =>
  call(say(`读取事件 ${id}`, `Reading event ${id}`), `/department/api/events/${encodeURIComponent(id)}`, { headers: bearer(session) }, DepartmentEvent);

export type ActionBody<A extends DepartmentAction> = z.input<(typeof DEPARTMENT_ACTION_BODIES)[A]>;

/** An action's route, and its body checked here first, as the backend will (without clientId and attachments: the queue adds them). */
export function actionRequest<A extends DepartmentAction>(eventId: string, action: A, body: ActionBody<A>): { path: string; body: Record<string, unknown> } {
  const checked = validate(DEPARTMENT_ACTION_BODIES[action], body);
  if (!checked.ok) throw new PageApiError(say(`请检查填写的内容：${checked.issues[0]!.path}`, `Check what was filled in: ${checked.issues[0]!.path}`), 0, 'invalid', checked.issues.map((i) => `${i.path} ${i.message}`).join('; '));
  const { clientId: _clientId, ...rest } = checked.value as Record<string, unknown>;
  const { attachments: _attachments, ...plain } = rest;
  return { path: `/department/api/events/${encodeURIComponent(eventId)}/${action}`, body: plain };
}

/** An attachment (or its thumbnail) as a blob URL for <img>/<video>; the caller revokes it. `signal` aborts the read. */
export async function attachmentUrl(session: DepartmentSession, id: string, thumb: boolean, signal?: AbortSignal): Promise<string> {
  const doing = say(`读取附件 ${id.slice(0, 12)}`, `Reading attachment ${id.slice(0, 12)}`);
  let response: Response;
  try {
    response = await fetch(`/attachments/${id}${thumb ? '/thumb' : ''}`, { headers: bearer(session), ...(signal ? { signal } : {}) });
  } catch (e) {
    throw offlineError(doing, e);
  }
  if (!response.ok) throw await refusal(response, doing);
  return URL.createObjectURL(await response.blob());
}
