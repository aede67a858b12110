/**
 * The field client (外勤端) the backend serves at /field/: a phone-sized page where a grid staff member signs
 * in, registers with the SIP server, answers calls from the command center and sees the events dispatched to
 * them. The page itself is built with the console (renderer/field.html → out/renderer); this module serves it
 * and its small JSON API:
 *
 *   GET /field/api/me    Authorization: Field <staffId>:<passcode>
 *     → { staff, sip, center, tasks }   (401 wrong credentials, 503 calls off, 400 malformed)
 *
 * Passcodes need no database: HMAC(SIP secret, "field:" + staffId), 8 digits (fieldPasscode below), handed
 * to each staff member by the operator; the backend logs one example at start. The simulated staff
 * (SIMULATED_STAFF_USER) sign in the same way.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createReadStream, existsSync, statSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join, resolve } from 'node:path';
import type { FieldMe, GovEvent, SipAccount, Staff } from '../../protocol';

/** The SIP user the simulated field staff register as; Kamailio sends calls for absent staff there (demo). */
export const SIMULATED_STAFF_USER = 'sim-field';

export function fieldPasscode(secret: string, staffId: string): string {
  const digest = createHmac('sha256', secret).update(`field:${staffId}`).digest();
  return String(digest.readUInt32BE(0) % 100_000_000).padStart(8, '0');
}

export interface FieldRoutesOptions {
  /** The SIP secret (passcodes are derived from it) and the account factory; null when calls are off. */
  secret: () => string | null;
  sipAccountFor: (user: string) => SipAccount | null;
  staffById: (id: string) => Staff | undefined;
  openEventsOf: (staffId: string) => GovEvent[];
  signedInUsers: () => { id: string; name: string; role: string }[];
  /** Where the built field page is (out/renderer); null: not built. */
  assetsDir: string | null;
}

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
};
const ASSET_NAME = /^[A-Za-z0-9_.-]{1,200}$/;

/** Where the console's build put the field page, whether this runs from source (tsx) or from out/main. */
export function findFieldAssets(from: string = import.meta.dirname): string | null {
  for (const dir of [resolve(from, '../renderer'), resolve(from, '../../out/renderer'), resolve(from, '../out/renderer')]) {
    if (existsSync(join(dir, 'field.html'))) return dir;
  }
  return null;
}

export function fieldRoutes(options: FieldRoutesOptions): (req: IncomingMessage, res: ServerResponse) => boolean {
  const json = (res: ServerResponse, status: number, body: unknown): void =>
    void res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store' }).end(JSON.stringify(body));

  const authenticate = (req: IncomingMessage): { staffId: string } | { status: number; error: string } => {
    const header = req.headers.authorization ?? '';
    const match = /^Field ([A-Za-z0-9_.-]{1,64}):(\d{8})$/.exec(header);
    if (!match) return { status: 400, error: '缺少或无法识别的登录信息（Authorization: Field 工号:口令）' };
    const secret = options.secret();
    if (!secret) return { status: 503, error: '后台未配置 SIP 服务器，外勤端暂不能通话' };
    const expected = Buffer.from(fieldPasscode(secret, match[1]!));
    const given = Buffer.from(match[2]!);
    if (!timingSafeEqual(expected, given)) return { status: 401, error: '工号或口令错误' };
    return { staffId: match[1]! };
  };

  const me = (staffId: string): FieldMe | { status: number; error: string } => {
    const simulated = staffId === SIMULATED_STAFF_USER;
    const staff = simulated ? undefined : options.staffById(staffId);
    if (!simulated && !staff) return { status: 404, error: `没有工号为 ${staffId} 的网格员` };
    const sipUser = staff?.sipUser ?? SIMULATED_STAFF_USER;
    const sip = options.sipAccountFor(sipUser);
    if (!sip) return { status: 503, error: '后台未配置 SIP 服务器，外勤端暂不能通话' };
    const rank = (role: string): number => (role === 'dispatcher' ? 0 : role === 'duty' ? 1 : role === 'leader' ? 2 : 3);
    const center = [...new Map(options.signedInUsers().filter((u) => u.role !== 'viewer' && u.role !== 'admin').map((u) => [u.id, u])).values()]
      .sort((a, b) => rank(a.role) - rank(b.role))
      .map((u) => ({ user: u.id, name: u.name }));
    const tasks = staff
      ? options
          .openEventsOf(staff.id)
          .sort((a, b) => b.reportedAt.localeCompare(a.reportedAt))
          .slice(0, 20)
          .map((e) => ({ id: e.id, title: e.title, address: e.address, status: e.status, severity: e.severity, stepDeadline: e.stepDeadline, location: e.location as [number, number] }))
      : [];
    return {
      staff: staff
        ? { id: staff.id, name: staff.name, gridId: staff.gridId, districtId: staff.districtId, sipUser, simulated: false }
        : { id: SIMULATED_STAFF_USER, name: '模拟网格员', gridId: '', districtId: '', sipUser, simulated: true },
      sip,
      center,
      tasks,
    };
  };

  const serveAsset = (res: ServerResponse, file: string): void => {
    const headers: Record<string, string | number> = { 'Content-Type': MIME[extname(file)] ?? 'application/octet-stream', 'Content-Length': statSync(file).size };
    if (file.endsWith('.html')) {
      const sipOrigins = [options.sipAccountFor(SIMULATED_STAFF_USER)?.url].filter(Boolean).join(' ');
      headers['Cache-Control'] = 'no-cache';
      headers['Content-Security-Policy'] = [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: blob:",
        "media-src 'self' blob: mediastream:",
        `connect-src 'self' ${sipOrigins}`.trim(),
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
      ].join('; ');
    } else headers['Cache-Control'] = 'public, max-age=31536000, immutable';
    res.writeHead(200, headers);
    createReadStream(file).on('error', () => res.destroy()).pipe(res);
  };

  return (req, res) => {
    const path = (req.url ?? '').split('?')[0]!;
    if (path !== '/field' && !path.startsWith('/field/')) return false;
    if (path === '/field') return (res.writeHead(301, { Location: '/field/' }).end(), true);
    if (path === '/field/api/me') {
      if (req.method !== 'GET') return (json(res, 405, { error: 'GET only' }), true);
      const auth = authenticate(req);
      if ('error' in auth) return (json(res, auth.status, { error: auth.error }), true);
      const result = me(auth.staffId);
      if ('error' in result) return (json(res, result.status, { error: result.error }), true);
      return (json(res, 200, result), true);
    }
    if (req.method !== 'GET') return (json(res, 405, { error: 'GET only' }), true);
    const dir = options.assetsDir;
    if (!dir) {
      res.writeHead(503, { 'Content-Type': 'text/plain; charset=utf-8' }).end('外勤端页面尚未构建：请先运行 npm run build（the field page is not built）');
      return true;
    }
    const rest = path.slice('/field/'.length);
    let file: string | null = null;
    if (rest === '' || rest === 'index.html') file = join(dir, 'field.html');
    else if (rest === 'favicon.svg') file = join(dir, 'favicon.svg');
    else if (rest.startsWith('assets/') && ASSET_NAME.test(rest.slice('assets/'.length))) file = join(dir, 'assets', rest.slice('assets/'.length));
    if (!file || !existsSync(file)) return (json(res, 404, { error: 'not found' }), true);
    serveAsset(res, file);
    return true;
  };
}
