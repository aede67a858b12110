/**
 * GET /city/key-persons?level=grid|community|street|district&id=ID[&masked=1]: the 重点人员 / 特殊群体 register of
 * one area, for the console's card. Personal data, so: a bearer token (401 without), the user's area scope
 * (403 unless the whole area lies in it: a street user reads their street, its communities and grids, never the
 * district around it), rows unmasked only for the roles of KEY_PERSON_REVEAL_ROLES and never when `masked=1` (a demo
 * screen asks so), at most KEY_PERSONS_MAX_ROWS rows, never cached — and every request, refused ones too,
 * written to the store's append-only audit as a 'sensitive-read'.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import { KEY_PERSON_REVEAL_ROLES, inAreaScope, inScope, maskKeyPerson, type CityState } from '../domain';
import { KEY_PERSONS_MAX_ROWS, RegisterLevel, type Grid, type KeyPersonCategory, type KeyPersonsAnswer } from '../protocol';
import type { AuditEntry, BackendStore, UserRecord } from './store/types';
import { bearerUser, send } from './http-answers';
import { parseRequestTarget } from '../web-serving/request-target';

const PATH = '/city/key-persons';

const Query = z.object({
  level: RegisterLevel,
  id: z.string().min(1).max(64),
  masked: z.enum(['0', '1']).optional(),
});

interface Target {
  level: RegisterLevel;
  id: string;
  name: string;
  districtId: string;
  grids: Grid[];
}

/** The area asked for, its district and its grids; null when the city has no such area. */
export function targetOf(state: CityState, level: RegisterLevel, id: string): Target | null {
  if (level === 'grid') {
    const grid = state.get('grids', id);
    return grid ? { level, id, name: grid.name, districtId: grid.districtId, grids: [grid] } : null;
  }
  const unit = state.get('adminUnits', id);
  if (!unit || unit.level !== level) return null;
  let district = unit;
  while (district.level !== 'district' && district.parentId) {
    const parent = state.get('adminUnits', district.parentId);
    if (!parent) break;
    district = parent;
  }
  const key = level === 'community' ? 'communityId' : level === 'street' ? 'streetId' : 'districtId';
  const grids = [...state.all('grids')].filter((g) => g[key] === id);
  return { level, id, name: unit.name, districtId: district.id, grids };
}

/** Whether the whole area lies in the scope: its district is in it, or every one of its grids is. */
export function withinScope(state: CityState, scope: readonly string[] | null, target: Target): boolean {
  if (inScope(scope, target.districtId)) return true;
  return target.grids.length > 0 && target.grids.every((g) => inAreaScope(scope, { districtId: g.districtId, gridId: g.id }, state));
}


export function keyPersonRoutes(store: BackendStore, state: CityState): (req: IncomingMessage, res: ServerResponse) => boolean {
  return (req, res) => {
    const url = parseRequestTarget(req.url);
    if (url?.pathname !== PATH) return false;
    if (req.method !== 'GET') {
      res.writeHead(405, { Allow: 'GET' }).end();
      return true;
    }
    const asked = { level: url.searchParams.get('level')?.slice(0, 20) ?? null, id: url.searchParams.get('id')?.slice(0, 64) ?? null };
    let user: UserRecord | null = null;
    const audit = (detail: Record<string, unknown>): Promise<void> => {
      const entry: AuditEntry = { at: new Date().toISOString(), userId: user?.id ?? null, kind: 'sensitive-read', detail: { what: 'key-persons', target: asked, ...detail } };
      return store.audit([entry]);
    };
    void (async () => {
      user = await bearerUser(store, req);
      if (!user) {
        await audit({ refused: 401, revealed: false, rows: 0 });
        send(res, 401, '需要有效的令牌 / a valid bearer token is required');
        return;
      }
      const query = Query.safeParse(Object.fromEntries(url.searchParams));
      if (!query.success) {
        await audit({ refused: 400, revealed: false, rows: 0 });
        send(res, 400, `查询参数有误：level 须为 grid、community、street 或 district，id 为该区域的编号，masked 可为 1 / bad query: level must be grid, community, street or district, id the area's id, masked optionally 1 (${query.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')})`);
        return;
      }
      const { level, id, masked } = query.data;
      const target = targetOf(state, level, id);
      if (!target) {
        await audit({ refused: 404, revealed: false, rows: 0 });
        send(res, 404, `没有这个${{ grid: '网格', community: '社区', street: '街道', district: '区县' }[level]}：${id} / no ${level} ${id}`);
        return;
      }
      if (!withinScope(state, user.districtScope, target)) {
        await audit({ refused: 403, revealed: false, rows: 0 });
        const districtsOnly = (user.districtScope ?? []).every((id) => state.get('adminUnits', id)?.level === 'district');
        send(res, 403, `${target.name} 不在您的辖区内 / ${target.name} is outside your ${districtsOnly ? 'districts' : 'area'}`);
        return;
      }
      const maskedBecause = masked === '1' ? 'demo' : KEY_PERSON_REVEAL_ROLES.has(user.role) ? null : 'role';
      const all = await store.keyPersonsIn(target.grids.map((g) => g.id));
      const byCategory: Partial<Record<KeyPersonCategory, number>> = {};
      for (const r of all) byCategory[r.category] = (byCategory[r.category] ?? 0) + 1;
      const gridById = new Map(target.grids.map((g) => [g.id, g]));
      const placeOf = (gridId: string): string => {
        const grid = gridById.get(gridId);
        const community = grid ? state.get('adminUnits', grid.communityId) : undefined;
        return [community?.name, grid?.name].filter(Boolean).join(' ');
      };
      const shown = all.slice(0, KEY_PERSONS_MAX_ROWS);
      const rows = maskedBecause === null ? shown : shown.map((r) => maskKeyPerson(r, placeOf(r.gridId)));
      const answer: KeyPersonsAnswer = { target: { level, id, name: target.name }, revealed: maskedBecause === null, maskedBecause, total: all.length, byCategory, rows, truncated: all.length > shown.length };
      // Audited before it is sent: a read that cannot be audited is not answered.
      await audit({ revealed: answer.revealed, rows: rows.length, total: all.length });
      send(res, 200, answer);
    })().catch(() => {
      if (!res.headersSent) send(res, 500, '读取或审计失败 / the register could not be read or the read not audited');
    });
    return true;
  };
}
