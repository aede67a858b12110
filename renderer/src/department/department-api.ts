/**
 * The department page's calls to the backend, each answer checked with its zod schema: sign-in with a 部门联络员
 * (liaison) account (POST /auth/login {app: 'department'}), the department and its queue (GET /department/api/me),
 * one event (GET /department/api/events/<id>), the actions (POST …/<id>/<action>, each with the page's clientId so
 * a retry runs once), uploads (POST /attachments) and attachments read with the session as bearer (as blobs: an
 * <img> cannot send it). The session is kept in sessionStorage: a reload keeps the sign-in, closing the tab ends it.
 */
import type { z } from 'zod';
import { DEPARTMENT_ACTION_BODIES, DEPARTMENT_ME_PATH, DepartmentEvent, DepartmentMe, type DepartmentAction } from '../../../protocol/department';
import { AttachmentRef } from '../../../protocol/attachments';
import { FieldActionAnswer } from '../../../protocol/field';
import { LoginAnswer } from '../../../protocol/auth';
import { validate } from '../../../protocol/validate';
import { FieldApiError, refusalText } from '../field/field-api';

const SESSION_KEY = 'zongzhi.department.session';
const CLIENT_KEY = 'zongzhi.department.client';

export interface DepartmentSession {
  token: string;
  user: string;
}

/** A refusal: the message to show (Chinese), the HTTP status, the code, and the backend's words (the detail). */
export class DepartmentApiError extends FieldApiError {
  constructor(
    message: string,
    status: number,
    code: string,
    readonly detail: string = '',
  ) {
    super(message, status, code);
  }
}

/** A UUID v4 from getRandomValues (randomUUID needs a secure context; an office PC may reach the backend over http). */
export function newClientId(): string {
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6]! & 0x0f) | 0x40;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const h = Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

function browserId(): string {
  let id = sessionStorage.getItem(CLIENT_KEY);
  if (!id) sessionStorage.setItem(CLIENT_KEY, (id = `department-${newClientId()}`));
  return id;
}

/** The refusal of a failed answer: the sign-in's words for the sign-in codes, else the backend's Chinese message. */
async function refusal(response: Response, doing: string): Promise<DepartmentApiError> {
  const text = await response.text().catch(() => '');
  let body: unknown = {};
  try {
    body = JSON.parse(text);
  } catch {
    // Not JSON (a proxy's page): the text is the detail.
  }
  const said = refusalText(response.status, body);
  const detail = `${doing}：HTTP ${response.status}${said.code.startsWith('http-') ? '' : ` ${said.code}`}\n${text.slice(0, 1000)}`;
  const message = response.status === 413 ? '文件过大，超出上传限制' : response.status === 429 || response.status === 503 ? '服务繁忙，请稍后重试' : said.message;
  return new DepartmentApiError(message, response.status, said.code, detail);
}

const offline = (doing: string, e: unknown): DepartmentApiError => new DepartmentApiError('连接不上后台，请检查网络后重试', 0, 'offline', `${doing}：${(e as Error).message}`);

async function call<S extends z.ZodType>(doing: string, url: string, init: RequestInit, schema: S): Promise<z.output<S>> {
  let response: Response;
  try {
    response = await fetch(url, init);
  } catch (e) {
    throw offline(doing, e);
  }
  if (!response.ok) throw await refusal(response, doing);
  const checked = validate(schema, await response.json().catch(() => null));
  if (!checked.ok) throw new DepartmentApiError('后台返回的数据无法识别', response.status, 'invalid', `${doing}：${checked.issues.map((i) => `${i.path} ${i.message}`).join('; ')}`);
  return checked.value;
}

const bearer = (session: DepartmentSession): Record<string, string> => ({ Authorization: `Bearer ${session.token}` });

export async function signIn(user: string, password: string): Promise<DepartmentSession> {
  const answer = await call('登录', '/auth/login', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ user, password, client: { id: browserId(), name: '部门联络员端' }, app: 'department' }) }, LoginAnswer);
  const session = { token: answer.sessionToken, user: answer.user.id };
  sessionStorage.setItem(SESSION_KEY, JSON.stringify(session));
  return session;
}

export function savedSession(): DepartmentSession | null {
  try {
    const value = JSON.parse(sessionStorage.getItem(SESSION_KEY) ?? 'null') as DepartmentSession | null;
    return value && typeof value.token === 'string' && typeof value.user === 'string' ? value : null;
  } catch {
    return null;
  }
}

export function forgetSession(): void {
  sessionStorage.removeItem(SESSION_KEY);
}

/** Ends the session at the backend (its answer does not matter: the page forgets it either way). */
export async function signOut(session: DepartmentSession): Promise<void> {
  forgetSession();
  await fetch('/auth/logout', { method: 'POST', headers: bearer(session) }).catch(() => undefined);
}

export const fetchMe = (session: DepartmentSession): Promise<DepartmentMe> => call('读取本部门待办', DEPARTMENT_ME_PATH, { headers: bearer(session) }, DepartmentMe);

export const fetchEvent = (session: DepartmentSession, id: string): Promise<DepartmentEvent> =>
  call(`读取事件 ${id}`, `/department/api/events/${encodeURIComponent(id)}`, { headers: bearer(session) }, DepartmentEvent);

export type ActionBody<A extends DepartmentAction> = z.input<(typeof DEPARTMENT_ACTION_BODIES)[A]>;

const ACTION_TEXT: Record<DepartmentAction, string> = { sign: '签收', feedback: '处置反馈', return: '退回', extension: '申请延期' };

/** One action on an event (the body checked here first, as the backend will). */
export async function act<A extends DepartmentAction>(session: DepartmentSession, eventId: string, action: A, body: ActionBody<A>): Promise<void> {
  const doing = `${ACTION_TEXT[action]} ${eventId}`;
  const checked = validate(DEPARTMENT_ACTION_BODIES[action], body);
  if (!checked.ok) throw new DepartmentApiError(`请检查填写的内容：${checked.issues[0]!.path}`, 0, 'invalid', `${doing}：${checked.issues.map((i) => `${i.path} ${i.message}`).join('; ')}`);
  const url = `/department/api/events/${encodeURIComponent(eventId)}/${action}`;
  await call(doing, url, { method: 'POST', headers: { ...bearer(session), 'Content-Type': 'application/json' }, body: JSON.stringify(checked.value) }, FieldActionAnswer);
}

export const upload = (session: DepartmentSession, file: File): Promise<AttachmentRef> => {
  const form = new FormData();
  form.append('file', file, file.name);
  return call(`上传 ${file.name}`, '/attachments', { method: 'POST', headers: bearer(session), body: form }, AttachmentRef);
};

/** An attachment (or its thumbnail) as a blob URL for <img>/<video>; the caller revokes it. */
export async function attachmentUrl(session: DepartmentSession, id: string, thumb: boolean): Promise<string> {
  const doing = `读取附件 ${id.slice(0, 12)}`;
  let response: Response;
  try {
    response = await fetch(`/attachments/${id}${thumb ? '/thumb' : ''}`, { headers: bearer(session) });
  } catch (e) {
    throw offline(doing, e);
  }
  if (!response.ok) throw await refusal(response, doing);
  return URL.createObjectURL(await response.blob());
}
