/**
 * The field page's calls to the backend, checked: sign-in with a 网格员 (field) account (POST /auth/login {app:
 * 'field'}), who I am / my tasks / the center's dispatchers (GET /field/api/me with the session as bearer), and
 * sign-out (the shared page-app calls: ../page-apps/app-api.ts). The session is kept in localStorage: the installed
 * app (网格通) keeps its sign-in across restarts and opens offline; the backend's session expiry still ends it (401 →
 * the form), and 退出登录 forgets it. The last /me is kept too, so an offline start shows the tasks.
 */
import { FieldMe } from '../../../protocol/field';
import { validate } from '../../../protocol/validate';
import { bearer, call, pageSessions, type PageSession } from '../page-apps/app-api';
import { i18n } from './i18n';

export { PageApiError as FieldApiError, newClientId } from '../page-apps/app-api';
export type FieldSession = PageSession;

const ME_KEY = 'zongzhi.field.me';
// The client's name as the administrators' session list shows it (the console's words, not the app's language).
const sessions = pageSessions({ app: 'field', storage: localStorage, clientName: '网格员外勤端', alsoForget: [ME_KEY] });
export const { signIn, signOut } = sessions;
export const savedSession = sessions.saved;
export const forgetSession = sessions.forget;

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

export async function fetchMe(session: FieldSession): Promise<FieldMe> {
  const me = await call(i18n.global.t('api.readTasks'), '/field/api/me', { headers: bearer(session) }, FieldMe);
  localStorage.setItem(ME_KEY, JSON.stringify({ user: session.user, me }));
  return me;
}
