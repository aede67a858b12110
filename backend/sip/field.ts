/**
 * The field client (外勤端) the backend serves at /field/: a phone-sized page where a grid staff member signs
 * in, registers with the SIP server, answers calls from the command center and sees the events dispatched to
 * them. The page itself is built with the console (renderer/field.html → out/renderer); this module serves it
 * and its small JSON API:
 *
 *   GET /field/api/me    Authorization: Bearer <session token of a 网格员 (field) account>
 *     → { staff, sip, center, tasks }   (401 no or an ended session, 403 another app's account, 503 calls off);
 *     each task with its deadlines, 督办 and the actions the staff member may take now
 *
 * and hands reports, task actions and positions to the work routes (backend/field/api.ts).
 *
 * The page signs in with the user name and password of a field account (POST /auth/login {app: 'field'}, the
 * same lockout, expiry and disabling as the console: backend/auth) — the account names its staff member
 * (users.staff_id). The simulated staff (SIMULATED_STAFF_USER) is a field account too, made by the backend at
 * start with a password only it knows (ensureSimulatedStaffAccount).
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FieldMe, GovEvent, SipAccount, Staff } from '../../protocol';
import type { Auth } from '../auth/sessions';
import { hashPassword } from '../auth/password';
import { withAppBearer } from '../auth/app-bearer';
import { send } from '../http-answers';
import type { BackendStore } from '../store/types';
import { hashToken } from '../users';
import { fieldActions } from '../field/api';
import { findPageAssets, pageCsp, servePageAsset, type PageAssets } from '../pages/page-assets';

/** The SIP user the simulated field staff register as; Kamailio sends calls for absent staff there (demo). */
export const SIMULATED_STAFF_USER = 'sim-field';

/**
 * Makes sure the simulated staff's field account exists, with a fresh random password (answered, kept in memory
 * only: handed to the backend's own headless Chromium in the page URL's fragment, never logged, never stored).
 * It is the one field account without a staff member (staffId null): every other field account names one.
 */
export async function ensureSimulatedStaffAccount(store: BackendStore): Promise<string> {
  const password = randomBytes(24).toString('base64url');
  const existing = (await store.listUsers()).find((u) => u.id === SIMULATED_STAFF_USER);
  if (!existing || existing.role !== 'field' || existing.staffId !== null) {
    await store.upsertUsers([{ id: SIMULATED_STAFF_USER, name: '模拟网格员', role: 'field', districtScope: null, tokenHash: hashToken(randomBytes(32).toString('base64url')), departmentId: null, staffId: null }]);
  }
  await store.setPassword(SIMULATED_STAFF_USER, await hashPassword(password));
  return password;
}

export interface FieldRoutesOptions {
  /** Sign-in sessions (the page's bearer) and the audit of refusals. */
  auth: Pick<Auth, 'check'>;
  store: Pick<BackendStore, 'audit'>;
  sipAccountFor: (user: string) => SipAccount | null;
  staffById: (id: string) => Staff | undefined;
  openEventsOf: (staffId: string) => GovEvent[];
  signedInUsers: () => { id: string; name: string; role: string }[];
  /** The event categories (the rules') and the departments, for 一键上报 and 申请协同; absent: none. */
  categories?: () => { id: string; name: string }[];
  departments?: () => { id: string; name: string }[];
  /** Where the built field page is (out/renderer); null: not built. */
  assetsDir: string | null;
  /** The work routes (reports, tasks, position: backend/field/api.ts); absent: only /field/api/me. */
  api?: (req: IncomingMessage, res: ServerResponse) => boolean;
}

/**
 * The installable app's files the build writes beside field.html (scripts/field-pwa.ts), by their path under
 * /field/: the service worker at /field/sw.js (its scope /field/ covers the page), the manifest and its icons.
 */
const PWA_FILES: ReadonlyMap<string, string> = new Map([
  ['sw.js', 'field-sw.js'],
  ['manifest.webmanifest', 'field.webmanifest'],
  ['icon.svg', 'field-icon.svg'],
  ['icon-192.png', 'field-icon-192.png'],
  ['icon-512.png', 'field-icon-512.png'],
]);

/** Where the console's build put the field page, whether this runs from source (tsx) or from out/main. */
export function findFieldAssets(from?: string): string | null {
  return findPageAssets('field.html', from);
}

export function fieldRoutes(options: FieldRoutesOptions): (req: IncomingMessage, res: ServerResponse) => boolean {
  const me = (user: { id: string; staffId: string | null }): FieldMe | { status: number; code: string; message: string } => {
    // Only the simulated staff's account has no staff member (ensureSimulatedStaffAccount).
    const simulated = user.staffId === null && user.id === SIMULATED_STAFF_USER;
    const staff = user.staffId === null ? undefined : options.staffById(user.staffId);
    if (!simulated && !staff) return { status: 404, code: 'no-staff', message: `账号 ${user.id} 对应的网格员${user.staffId ? `（工号 ${user.staffId}）` : ''}不存在，请联系系统管理员 / the staff member of this account does not exist` };
    const sipUser = staff?.sipUser ?? SIMULATED_STAFF_USER;
    // Without a SIP server there are no calls, but reports, tasks and positions work: the app says calls are off.
    const sip = options.sipAccountFor(sipUser);
    const rank = (role: string): number => (role === 'dispatcher' ? 0 : role === 'duty' ? 1 : role === 'leader' ? 2 : 3);
    const center = [...new Map(options.signedInUsers().filter((u) => u.role === 'dispatcher' || u.role === 'duty' || u.role === 'leader').map((u) => [u.id, u])).values()]
      .sort((a, b) => rank(a.role) - rank(b.role))
      .map((u) => ({ user: u.id, name: u.name }));
    const tasks = staff
      ? options
          .openEventsOf(staff.id)
          .sort((a, b) => b.reportedAt.localeCompare(a.reportedAt))
          .slice(0, 20)
          .map((e) => ({
            id: e.id,
            title: e.title,
            address: e.address,
            status: e.status,
            severity: e.severity,
            stepDeadline: e.stepDeadline,
            location: e.location as [number, number],
            category: e.category,
            finalDeadline: e.finalDeadline,
            supervised: e.supervised,
            actions: fieldActions(e),
          }))
      : [];
    return {
      staff: staff
        ? { id: staff.id, name: staff.name, gridId: staff.gridId, districtId: staff.districtId, sipUser, simulated: false }
        : { id: SIMULATED_STAFF_USER, name: '模拟网格员', gridId: '', districtId: '', sipUser, simulated: true },
      sip,
      center,
      tasks,
      categories: options.categories?.() ?? [],
      departments: options.departments?.() ?? [],
    };
  };

  const page: PageAssets = {
    base: '/field',
    html: 'field.html',
    dir: options.assetsDir,
    notBuilt: '外勤端页面尚未构建：请先运行 npm run build（the field page is not built）',
    // The page connects to the SIP server too; the installable app's service worker and manifest are its own.
    csp: () => pageCsp([options.sipAccountFor(SIMULATED_STAFF_USER)?.url].filter((u) => u !== undefined), ["worker-src 'self'", "manifest-src 'self'"]),
    aliases: PWA_FILES,
    // The worker is checked for updates on every start: never kept by the HTTP cache; its scope is the page's.
    headersOf: (file): Record<string, string> | null => (file.endsWith('field-sw.js') ? { 'Cache-Control': 'no-cache', 'Service-Worker-Allowed': '/field/' } : file.endsWith('.webmanifest') || /field-icon/.test(file) ? { 'Cache-Control': 'no-cache' } : null),
  };

  return (req, res) => {
    const path = (req.url ?? '').split('?')[0]!;
    if (path !== '/field' && !path.startsWith('/field/')) return false;
    if (path === '/field') return (res.writeHead(301, { Location: '/field/' }).end(), true);
    if (path === '/field/api/me') {
      if (req.method !== 'GET') return (send(res, 405, { code: 'method', message: '只支持 GET / GET only' }), true);
      withAppBearer(options, req, res, 'field', '外勤端服务出错 / the field route failed', async (user) => {
        const result = me(user);
        if ('code' in result) return send(res, result.status, { code: result.code, message: result.message });
        send(res, 200, result);
      });
      return true;
    }
    if (options.api?.(req, res)) return true;
    servePageAsset(req, res, path, page);
    return true;
  };
}
