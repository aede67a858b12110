/**
 * The staff roster (网格员名册) from a table: 工号, 姓名, 手机, 网格编码, 角色 per row, checked all or nothing
 * against the grids the store holds; the city's staff become the file's (those not in it removed — unless they
 * hold open events, which is an error naming the events: reassign them first).
 *
 * A new person starts as the generator's staff do: 'idle' at the grid's center, SIP user = 工号, the open events
 * already assigned to that id counted. A person already stored keeps status, position and load.
 */
import { upsert, type CityState } from '../../domain';
import type { Change } from '../../protocol';
import type { Grid, Staff } from '../../protocol/model';
import type { ImportIssue, TableReport } from './report';
import { columnOf, type Table, type TableRow } from './table';

export const STAFF_COLUMNS = {
  id: ['工号', '编号', '人员编号', 'id', 'staffId', 'staff_id', 'gonghao', 'GH', 'RYBH'],
  name: ['姓名', '名字', 'name', 'xingming', 'XM'],
  phone: ['手机', '手机号', '手机号码', '电话', '联系电话', 'phone', 'mobile', 'tel', 'shouji', 'SJ', 'LXDH'],
  grid: ['网格编码', '所属网格编码', '网格', 'gridCode', 'grid_code', 'grid', 'WGBM'],
  role: ['角色', '岗位', '类别', '人员类别', 'role', 'type', 'JS', 'GW'],
} as const;

const ROLES: Record<string, Staff['role']> = {
  网格长: 'grid-leader',
  专职: 'full-time',
  专职网格员: 'full-time',
  兼职: 'part-time',
  兼职网格员: 'part-time',
  'grid-leader': 'grid-leader',
  leader: 'grid-leader',
  'full-time': 'full-time',
  fulltime: 'full-time',
  'part-time': 'part-time',
  parttime: 'part-time',
  下沉干部: 'cadre',
  cadre: 'cadre',
};

/** A mobile (1 + 10 digits) or a landline (area code 010, 02x or 0xxx + 7–8 digits, an extension allowed), after removing spaces, dashes and +86. */
export function normalisePhone(raw: string): string | null {
  const s = raw.replace(/[\s\-()（）]/g, '').replace(/^(\+?86)(?=1\d{10}$)/, '');
  if (/^1[3-9]\d{9}$/.test(s)) return s;
  const m = /^(0(?:10|2\d|[3-9]\d{2}))(\d{7,8})(?:(?:转|ext|#)(\d{1,6}))?$/i.exec(s);
  if (m) return `${m[1]}-${m[2]}${m[3] ? `-${m[3]}` : ''}`;
  return null;
}

/** Events that count as open for a person: assigned to them and not yet closed or merged. */
export function openEventsOf(state: CityState, staffId: string): string[] {
  const ids: string[] = [];
  for (const e of state.collections.events.values()) if (e.assignee?.staffId === staffId && e.status !== 'closed' && e.status !== 'merged') ids.push(e.id);
  return ids.sort();
}

const loadOf = (state: CityState, staffId: string): number => {
  let n = 0;
  for (const e of state.collections.events.values()) if (e.assignee?.staffId === staffId && (e.status === 'dispatched' || e.status === 'handling')) n++;
  return n;
};

export function buildStaff(table: Table, state: CityState, file: string, now: Date): { report: TableReport; changes: Change[] | null } {
  const issues: ImportIssue[] = [...table.issues];
  const report: TableReport = { what: 'staff', file, format: table.format, ...(table.encoding ? { encoding: table.encoding } : {}), rows: table.rows.length, counts: { added: 0, updated: 0, removed: 0 }, issues };
  if (issues.some((i) => i.severity === 'error')) return { report, changes: null };
  const cols = Object.fromEntries(Object.entries(STAFF_COLUMNS).map(([k, aliases]) => [k, columnOf(table.headers, aliases)])) as Record<keyof typeof STAFF_COLUMNS, number>;
  const names = { id: '工号', name: '姓名', phone: '手机', grid: '网格编码', role: '角色' } as const;
  for (const key of Object.keys(cols) as Array<keyof typeof cols>) {
    if (cols[key] < 0) issues.push({ severity: 'error', kind: 'missing-column', line: table.headerLine, zh: `缺少“${names[key]}”列（可用列名：${STAFF_COLUMNS[key].join('、')}）`, en: `no "${names[key]}" column (accepted headers: ${STAFF_COLUMNS[key].join(', ')})` });
  }
  if (issues.length > 0) return { report, changes: null };
  if (table.rows.length === 0) {
    issues.push({ severity: 'error', kind: 'no-rows', zh: '名册中没有人员', en: 'the roster has no rows' });
    return { report, changes: null };
  }

  const gridsByCode = new Map<string, Grid>();
  for (const g of state.collections.grids.values()) gridsByCode.set(g.code, g);
  const seen = new Map<string, number>();
  const staff: Staff[] = [];
  const at = now.toISOString();
  const error = (row: TableRow, id: string | undefined, kind: ImportIssue['kind'], zh: string, en: string): void =>
    void issues.push({ severity: 'error', kind, line: row.line, ...(id ? { id } : {}), zh, en });

  for (const row of table.rows) {
    const cell = (k: keyof typeof cols): string => row.cells[cols[k]] ?? '';
    const id = cell('id');
    let ok = true;
    if (id === '') {
      error(row, undefined, 'missing-value', '工号为空', 'empty 工号 (staff id)');
      ok = false;
    } else if (!/^[\w.-]{1,40}$/.test(id)) {
      error(row, id, 'bad-id', '工号只能含字母、数字和 _ . -，至多 40 个字符', 'a 工号 (staff id) is letters, digits and _ . -, at most 40 characters');
      ok = false;
    } else if (seen.has(id)) {
      error(row, id, 'duplicate-id', `工号重复，与第${seen.get(id)}行相同`, `duplicate 工号 (staff id), also on line ${seen.get(id)}`);
      ok = false;
    } else seen.set(id, row.line);
    const name = cell('name');
    if (name === '') {
      error(row, id, 'missing-value', '姓名为空', 'empty name');
      ok = false;
    }
    const phone = normalisePhone(cell('phone'));
    if (phone === null) {
      error(row, id, 'bad-phone', `电话“${cell('phone')}”不是手机号（11位）或带区号的固定电话`, `phone "${cell('phone')}" is not a mobile number (11 digits) or a landline with its area code`);
      ok = false;
    }
    const roleText = cell('role');
    const role = ROLES[roleText] ?? ROLES[roleText.toLowerCase()];
    if (!role) {
      error(row, id, 'bad-role', `角色“${roleText}”不是 网格长 / 专职 / 兼职 / 下沉干部`, `role "${roleText}" is not 网格长 / 专职 / 兼职 / 下沉干部 (grid leader / full-time / part-time / cadre)`);
      ok = false;
    }
    const code = cell('grid');
    const grid = gridsByCode.get(code);
    if (!grid) {
      error(row, id, 'unknown-grid', /^\d{15}$/.test(code) ? `网格编码 ${code} 不是本市已导入的网格` : `网格编码“${code}”不是 15 位数字`, /^\d{15}$/.test(code) ? `grid code ${code} is not one of the city's grids` : `grid code "${code}" is not 15 digits`);
      ok = false;
    }
    if (!ok || !grid || !role || phone === null) continue;
    const current = state.get('staff', id);
    staff.push({
      id,
      name,
      phone,
      role,
      gridId: grid.id,
      districtId: grid.districtId,
      // A new 下沉干部 stands by (off duty) until a level calls them.
      status: current?.status ?? (role === 'cadre' ? 'offline' : 'idle'),
      position: current ? current.position : [...grid.center],
      sipUser: current?.sipUser ?? id,
      openTasks: current?.openTasks ?? loadOf(state, id),
      updatedAt: at,
    });
  }

  const changes: Change[] = [];
  for (const existing of state.collections.staff.values()) {
    if (seen.has(existing.id)) continue;
    const open = openEventsOf(state, existing.id);
    if (open.length > 0) {
      const listed = `${open.slice(0, 10).join('、')}${open.length > 10 ? ` 等 ${open.length} 件` : ''}`;
      issues.push({ severity: 'error', kind: 'has-open-events', id: existing.id, zh: `${existing.name}（${existing.id}）不在名册中，但仍承办未办结事件 ${listed}：请先改派再导入`, en: `${existing.name} (${existing.id}) is not in the roster but still holds open events ${open.slice(0, 10).join(', ')}${open.length > 10 ? ` (${open.length} in all)` : ''}: reassign them first` });
    } else changes.push({ op: 'remove', collection: 'staff', id: existing.id });
  }
  if (issues.some((i) => i.severity === 'error')) return { report, changes: null };
  report.counts.removed = changes.length;
  for (const s of staff) {
    const current = state.get('staff', s.id);
    if (current) report.counts.updated++;
    else report.counts.added++;
    changes.push(upsert('staff', s));
  }
  return { report, changes };
}
