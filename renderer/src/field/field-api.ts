/**
 * The field page's calls to the backend, checked: sign-in with a 网格员 (field) account (POST /auth/login {app:
 * 'field'}), who I am / my tasks / the center's dispatchers (GET /field/api/me with the session as bearer), and
 * sign-out, and the authorised calls the offline queue makes (outbox.ts). The session is kept in localStorage: the
 * installed app (网格通) keeps its sign-in across restarts and opens offline; the backend's session expiry still
 * ends it (401 → the form), and 退出登录 forgets it. The last /me is kept too, so an offline start shows the tasks.
 */
import { FieldMe } from '../../../protocol/field';
import { LoginAnswer, LoginRefusal } from '../../../protocol/auth';
import { validate } from '../../../protocol/validate';

const SESSION_KEY = 'zongzhi.field.session';
const CLIENT_KEY = 'zongzhi.field.client';
const ME_KEY = 'zongzhi.field.me';

export interface FieldSession {
  token: string;
  user: string;
}

/** A refusal from the backend: the HTTP status, its code and the message to show (Chinese). */
export class FieldApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly code: string,
  ) {
    super(message);
  }
}

const clock = (iso: string): string => new Date(iso).toLocaleTimeString('zh-CN', { hour12: false });
/** The Chinese half of a backend message ("中文 / English"). */
const chinese = (message: string): string => message.split(' / ')[0]!.trim();

/** What the page says for a refusal, per reason. */
export function refusalText(status: number, body: unknown): FieldApiError {
  const checked = validate(LoginRefusal, body);
  const code = checked.ok ? checked.value.code : '';
  const said = checked.ok ? chinese(checked.value.message) : '';
  const text =
    code === 'wrong-password'
      ? '用户名或密码错误'
      : code === 'locked'
        ? `密码错误次数过多，账号已锁定至 ${checked.ok && checked.value.lockedUntil ? clock(checked.value.lockedUntil) : '稍后'}，请届时再试`
        : code === 'disabled'
          ? '该账号已停用，请联系系统管理员'
          : code === 'session-expired'
            ? '登录已过期，请重新登录'
            : code === 'busy'
              ? '登录的人太多，请稍后再试'
              : said || `登录失败（HTTP ${status}）`;
  return new FieldApiError(text, status, code || `http-${status}`);
}

function clientId(): string {
  let id = localStorage.getItem(CLIENT_KEY);
  // getRandomValues works on plain http too (a phone on the LAN); randomUUID needs a secure context.
  if (!id) localStorage.setItem(CLIENT_KEY, (id = `field-${Array.from(crypto.getRandomValues(new Uint8Array(12)), (b) => b.toString(16).padStart(2, '0')).join('')}`));
  return id;
}

export async function signIn(user: string, password: string): Promise<FieldSession> {
  const response = await fetch('/auth/login', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ user, password, client: { id: clientId(), name: '网格员外勤端' }, app: 'field' }),
  });
  const body: unknown = await response.json().catch(() => ({}));
  if (!response.ok) throw refusalText(response.status, body);
  const checked = validate(LoginAnswer, body);
  if (!checked.ok) throw new FieldApiError('后台返回的数据无法识别', 0, 'invalid');
  const session = { token: checked.value.sessionToken, user: checked.value.user.id };
  localStorage.setItem(SESSION_KEY, JSON.stringify(session));
  return session;
}

export function savedSession(): FieldSession | null {
  try {
    const value = JSON.parse(localStorage.getItem(SESSION_KEY) ?? 'null') as FieldSession | null;
    return value && typeof value.token === 'string' && typeof value.user === 'string' ? value : null;
  } catch {
    return null;
  }
}

export function forgetSession(): void {
  localStorage.removeItem(SESSION_KEY);
  localStorage.removeItem(ME_KEY);
}

/** The last /me of this user (an offline start shows it); null when none or another user's. */
export function cachedMe(user: string): FieldMe | null {
  try {
    const saved = JSON.parse(localStorage.getItem(ME_KEY) ?? 'null') as { user: string; me: unknown } | null;
    if (!saved || saved.user !== user) return null;
    const checked = validate(FieldMe, saved.me);
    return checked.ok ? checked.value : null;
  } catch {
    return null;
  }
}

/** A v4 UUID (the clientId of a report or an action); getRandomValues works outside a secure context too. */
export function newClientId(): string {
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6]! & 0x0f) | 0x40;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const h = Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** A refusal's Chinese message from any of the backend's JSON answers ({code, message}). */
export async function answerError(response: Response, what: string): Promise<FieldApiError> {
  const body = (await response.json().catch(() => ({}))) as { code?: unknown; message?: unknown };
  const message = typeof body.message === 'string' ? chinese(body.message) : '';
  return new FieldApiError(message || `${what}失败（HTTP ${response.status}）`, response.status, typeof body.code === 'string' ? body.code : `http-${response.status}`);
}

export async function fetchMe(session: FieldSession): Promise<FieldMe> {
  const response = await fetch('/field/api/me', { headers: { Authorization: `Bearer ${session.token}` } });
  const body: unknown = await response.json().catch(() => ({}));
  if (!response.ok) throw refusalText(response.status, body);
  const checked = validate(FieldMe, body);
  if (!checked.ok) throw new FieldApiError('后台返回的数据无法识别', 0, 'invalid');
  localStorage.setItem(ME_KEY, JSON.stringify({ user: session.user, me: checked.value }));
  return checked.value;
}

/** Ends the session at the backend (its answer does not matter: the page forgets it either way). */
export async function signOut(session: FieldSession): Promise<void> {
  forgetSession();
  await fetch('/auth/logout', { method: 'POST', headers: { Authorization: `Bearer ${session.token}` } }).catch(() => undefined);
}
