/**
 * What the backend's two page apps (网格通 /field/, 部门联络员端 /department/) share in talking to it: the sign-in
 * with an account of that app (POST /auth/login {app}), the session kept in the browser (localStorage for the
 * installed phone app, sessionStorage for the office page), sign-out, a refusal as a PageApiError with the words to
 * show, and checked calls with the session as bearer. Each app keeps its own routes (field/field-api.ts,
 * department/department-api.ts).
 *
 * The words are Chinese, or English for a page showing English (setApiLanguage): a refused command's reason by key
 * is said from the console's catalogs (`refusals`, as the console says it); otherwise a backend message is
 * "中文 / English", and the half shown is the page's language.
 */
import type { z } from 'zod';
import { LoginAnswer, LoginRefusal } from '../../../protocol/auth';
import { validate } from '../../../protocol/validate';
import consoleZh from '../i18n/zh-CN';
import consoleEn from '../i18n/en';
import { refusalText, type Translator } from '../i18n/refusals';

export type ApiLanguage = 'zh-CN' | 'en';
let language: ApiLanguage = 'zh-CN';
/** The language of the messages made from here on (the department page's choice; the phone app is Chinese). */
export function setApiLanguage(value: ApiLanguage): void {
  language = value;
}
/** The words in the page's language. */
export const say = (zh: string, en: string): string => (language === 'en' ? en : zh);

/** A refusal: the message to show, the HTTP status (0: none came), the code, and the backend's words (the detail). */
export class PageApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly code: string,
    readonly detail: string = '',
  ) {
    super(message);
  }
}

export interface PageSession {
  token: string;
  user: string;
}

/** The half of a backend message ("中文 / English") in the page's language. */
export function ownHalf(message: string): string {
  const [zh, en] = message.split(' / ');
  return (language === 'en' && en ? en : zh!).trim();
}

/** The console's catalogs in the page's language, for the refusal texts (the same words as the console's). */
const lookup = (key: string): unknown => key.split('.').reduce<unknown>((node, part) => (node !== null && typeof node === 'object' ? (node as Record<string, unknown>)[part] : undefined), language === 'en' ? consoleEn : consoleZh);
const catalog: Translator = {
  te: (key) => typeof lookup(key) === 'string',
  t: (key, named) => String(lookup(key)).replace(/\{(\w+)\}/g, (whole, name: string) => (name in named ? String(named[name]) : whole)),
};

const clock = (iso: string): string => new Date(iso).toLocaleTimeString(language, { hour12: false });

/** What the page says for a refused answer (`body` its JSON, `doing` the work for the fallback), per reason. */
export function refusalOf(status: number, body: unknown, doing: string): PageApiError {
  const checked = validate(LoginRefusal, body);
  const code = checked.ok ? checked.value.code : '';
  const said = checked.ok ? (refusalText(checked.value.reason, catalog) ?? ownHalf(checked.value.message)) : '';
  const until = checked.ok && checked.value.lockedUntil ? clock(checked.value.lockedUntil) : say('稍后', 'later');
  const text =
    code === 'wrong-password'
      ? say('用户名或密码错误', 'Wrong user name or password')
      : code === 'locked'
        ? say(`密码错误次数过多，账号已锁定至 ${until}，请届时再试`, `Too many wrong passwords: the account is locked until ${until}`)
        : code === 'disabled'
          ? say('该账号已停用，请联系系统管理员', 'This account is disabled: ask the system administrator')
          : code === 'session-expired'
            ? say('登录已过期，请重新登录', 'The sign-in has expired: sign in again')
            : code === 'busy'
              ? say('登录的人太多，请稍后再试', 'Too many sign-ins at once: try again in a moment')
              : said || say(`${doing}失败（HTTP ${status}）`, `${doing} failed (HTTP ${status})`);
  return new PageApiError(text, status, code || `http-${status}`);
}

/** The refusal of a failed answer, with the backend's words as its detail. */
export async function refusal(response: Response, doing: string): Promise<PageApiError> {
  const text = await response.text().catch(() => '');
  let body: unknown = {};
  try {
    body = JSON.parse(text);
  } catch {
    // Not JSON (a proxy's page): the text is the detail.
  }
  const said = refusalOf(response.status, body, doing);
  const detail = `${doing}：HTTP ${response.status}${said.code.startsWith('http-') ? '' : ` ${said.code}`}\n${text.slice(0, 1000)}`;
  // The backend's own words where it gave them (a 429 says what was too often), else the reason's.
  const busy = (response.status === 429 || response.status === 503) && said.code.startsWith('http-');
  const message = response.status === 413 ? say('文件过大，超出上传限制', 'The file is over the upload limit') : busy ? say('服务繁忙，请稍后重试', 'The service is busy: try again in a moment') : said.message;
  return new PageApiError(message, response.status, said.code, detail);
}

/** No answer came (fetch failed): status 0, code `offline`. */
export const offlineError = (doing: string, e: unknown): PageApiError =>
  new PageApiError(say('连接不上后台，请检查网络后重试', 'Cannot reach the server: check the network and try again'), 0, 'offline', `${doing}：${(e as Error).message}`);

export const unreadable = (doing: string, status: number, detail: string): PageApiError => new PageApiError(say('后台返回的数据无法识别', 'The server answered something this page cannot read'), status, 'invalid', `${doing}：${detail}`);

/** A call whose answer is checked with `schema`; a refusal, no answer (offline) or an unreadable one throws PageApiError. */
export async function call<S extends z.ZodType>(doing: string, url: string, init: RequestInit, schema: S): Promise<z.output<S>> {
  let response: Response;
  try {
    response = await fetch(url, init);
  } catch (e) {
    throw offlineError(doing, e);
  }
  if (!response.ok) throw await refusal(response, doing);
  const checked = validate(schema, await response.json().catch(() => null));
  if (!checked.ok) throw unreadable(doing, response.status, checked.issues.map((i) => `${i.path} ${i.message}`).join('; '));
  return checked.value;
}

export const bearer = (session: PageSession): Record<string, string> => ({ Authorization: `Bearer ${session.token}` });

/** A v4 UUID (the clientId of a report or an action); getRandomValues works outside a secure context too (plain http on a LAN). */
export function newClientId(): string {
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6]! & 0x0f) | 0x40;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const h = Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

export interface SessionPlace {
  app: 'field' | 'department';
  /** Where the session is kept: localStorage (kept across restarts) or sessionStorage (ends with the tab). */
  storage: Storage;
  /** The browser's client id (the sign-in names it; the backend lists sessions by it) and its name. */
  clientName: string;
  /** Removed with the session (the app's cached answers). */
  alsoForget?: string[];
}

/** Sign-in, the kept session and sign-out of one app. */
export function pageSessions(place: SessionPlace): {
  signIn(user: string, password: string): Promise<PageSession>;
  saved(): PageSession | null;
  forget(): void;
  signOut(session: PageSession): Promise<void>;
} {
  const sessionKey = `zongzhi.${place.app}.session`;
  const clientKey = `zongzhi.${place.app}.client`;
  const browserId = (): string => {
    let id = place.storage.getItem(clientKey);
    if (!id) place.storage.setItem(clientKey, (id = `${place.app}-${newClientId()}`));
    return id;
  };
  const forget = (): void => {
    place.storage.removeItem(sessionKey);
    for (const key of place.alsoForget ?? []) place.storage.removeItem(key);
  };
  return {
    async signIn(user, password) {
      const body = JSON.stringify({ user, password, client: { id: browserId(), name: place.clientName }, app: place.app });
      const answer = await call(say('登录', 'Sign-in'), '/auth/login', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body }, LoginAnswer);
      const session = { token: answer.sessionToken, user: answer.user.id };
      place.storage.setItem(sessionKey, JSON.stringify(session));
      return session;
    },
    saved() {
      try {
        const value = JSON.parse(place.storage.getItem(sessionKey) ?? 'null') as PageSession | null;
        return value && typeof value.token === 'string' && typeof value.user === 'string' ? value : null;
      } catch {
        return null;
      }
    },
    forget,
    /** Ends the session at the backend (its answer does not matter: the page forgets it either way). */
    async signOut(session) {
      forget();
      await fetch('/auth/logout', { method: 'POST', headers: bearer(session) }).catch(() => undefined);
    },
  };
}
