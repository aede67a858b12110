/**
 * import departments / import rules, without a database: the row checks of the departments file and of the
 * 权责清单 (duplicate codes and categories, unknown departments, limits that are not positive whole minutes,
 * unknown levels), each with its line and reason in Chinese and English; departments still named by a rule, an
 * open event or an open plan step are not removed (an error naming them); rules replaced together with their
 * departments.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CityState, upsert } from '../../domain';
import type { GovEvent, Plan } from '../../protocol';
import { readTable } from '../../backend/import/table';
import { parseLevel, parseLimit, planDepartments } from '../../backend/import/departments';
import { formatTableReport } from '../../backend/import/report';

const dir = mkdtempSync(join(tmpdir(), 'department-import-'));
let n = 0;
const file = (content: string, ext = '.csv'): string => {
  const path = join(dir, `t${n++}${ext}`);
  writeFileSync(path, content);
  return path;
};
const table = async (content: string): Promise<{ table: Awaited<ReturnType<typeof readTable>>; file: string }> => ({ table: await readTable(file(content)), file: 'x.csv' });

const DEPARTMENTS = '编码,名称,联络人账号\nCG,市城市管理局,liaison-cg\nSW,市水务局,\nGA,市公安局,ga01\n';
const RULES = '事件类别编码,事件类别名称,部门编码,受理时限,派遣时限,处置时限,回访时限,结案时限,处置层级\nroad-damage,道路破损,CG,60,120,4320,2880,1440,街道\nwater-leak,供水管网漏水,SW,30,60,1440,1440,720,区县\n';

/** A city holding the sample's police department (GA) and urban management (CG) and one rule for each. */
function stored(): CityState {
  const state = new CityState(undefined, 0);
  const limits = { report: 60, dispatch: 120, handle: 1440, followup: 2880, close: 1440 };
  state.apply([
    upsert('departments', { id: 'dept-police', code: 'GA', name: '市公安局' }),
    upsert('departments', { id: 'dept-urban', code: 'CG', name: '市城市管理局' }),
    upsert('departments', { id: 'dept-old', code: 'OLD', name: '市旧部门' }),
    upsert('rules', { id: 'noise', category: 'noise', categoryName: '噪声扰民', departmentId: 'dept-police', limits, handlingLevel: 'street' }),
    upsert('rules', { id: 'old-thing', category: 'old-thing', categoryName: '旧事项', departmentId: 'dept-old', limits, handlingLevel: 'city' }),
  ]);
  return state;
}

describe('departments and the 权责清单: row checks', () => {
  it('parses limits and levels', () => {
    expect(parseLimit('30')).toBe(30);
    expect(parseLimit('30.0')).toBe(30);
    for (const bad of ['0', '-5', '1.5', '', '两小时', '1e3', '99999999']) expect(parseLimit(bad), bad).toBeNull();
    expect(parseLevel('网格')).toBe('grid');
    expect(parseLevel('街道')).toBe('street');
    expect(parseLevel('区县')).toBe('district');
    expect(parseLevel('市级')).toBe('city');
    expect(parseLevel('City')).toBe('city');
    expect(parseLevel('省')).toBeNull();
  });

  it('imports departments and rules together: ids kept by code, new ones dept-<code>, liaison stored, rules by category', async () => {
    const state = stored();
    const { report, changes } = planDepartments({ departments: await table(DEPARTMENTS), rules: await table(RULES) }, state);
    expect(report.flatMap((r) => r.issues)).toEqual([]);
    const upserts = new Map(changes!.filter((c) => c.op === 'upsert').map((c) => [`${c.collection}/${c.id}`, c.op === 'upsert' ? c.data : null]));
    expect(upserts.get('departments/dept-urban')).toEqual({ id: 'dept-urban', code: 'CG', name: '市城市管理局', liaison: 'liaison-cg' });
    expect(upserts.get('departments/dept-SW')).toEqual({ id: 'dept-SW', code: 'SW', name: '市水务局' });
    expect(upserts.get('rules/water-leak')).toEqual({ id: 'water-leak', category: 'water-leak', categoryName: '供水管网漏水', departmentId: 'dept-SW', limits: { report: 30, dispatch: 60, handle: 1440, followup: 1440, close: 720 }, handlingLevel: 'district' });
    expect(changes!.filter((c) => c.op === 'remove').map((c) => `${c.collection}/${c.id}`).sort()).toEqual(['departments/dept-old', 'rules/noise', 'rules/old-thing']);
    expect(report.map((r) => r.counts)).toEqual([
      { added: 1, updated: 2, removed: 1 },
      { added: 2, updated: 0, removed: 2 },
    ]);
  });

  it('reports every bad departments row with its line and reason', async () => {
    const bad = await table('编码,名称,联络人账号\nCG,市城市管理局,\nCG,城管重复,\n,无编码,\nSW,,\nA B,空格,\nZJ,住建,张 三\n');
    const { report, changes } = planDepartments({ departments: bad }, stored());
    expect(changes).toBeNull();
    expect(report[0]!.issues.map((i) => [i.line, i.kind])).toEqual([
      [3, 'duplicate-id'],
      [4, 'missing-value'],
      [5, 'missing-value'],
      [6, 'bad-id'],
      [7, 'bad-id'],
    ]);
    const lines = formatTableReport(report[0]!, 'refused').join('\n');
    expect(lines).toMatch(/\[第3行 line 3, 部门编码 code CG\] 部门编码重复，与第2行相同 \/ duplicate department code, also on line 2/);
  });

  it('reports every bad rule row: duplicate category, unknown department, bad limits, unknown level', async () => {
    const bad = await table(
      RULES +
        'road-damage,道路破损again,CG,60,120,4320,2880,1440,街道\n' +
        'x1,未知部门,NOPE,60,120,4320,2880,1440,街道\n' +
        'x2,时限坏,CG,0,1.5,两天,-1,60,网格\n' +
        'x3,层级坏,CG,60,120,4320,2880,1440,省\n',
    );
    const { report, changes } = planDepartments({ departments: await table(DEPARTMENTS), rules: bad }, stored());
    expect(changes).toBeNull();
    expect(report[0]!.issues).toEqual([]);
    expect(report[1]!.issues.map((i) => [i.line, i.id, i.kind])).toEqual([
      [4, 'road-damage', 'duplicate-id'],
      [5, 'x1', 'unknown-department'],
      [6, 'x2', 'bad-limit'],
      [6, 'x2', 'bad-limit'],
      [6, 'x2', 'bad-limit'],
      [6, 'x2', 'bad-limit'],
      [7, 'x3', 'bad-level'],
    ]);
    const lines = formatTableReport(report[1]!, 'refused').join('\n');
    expect(lines).toMatch(/\[第5行 line 5, 事件类别 category x1\] 部门编码 NOPE 不是已有（或同时导入）的部门 \/ department code NOPE is not one of the departments/);
    expect(lines).toMatch(/第6行.*受理时限“0”不是正整数分钟.*report \(accept\) limit "0" is not a positive whole number of minutes/);
    expect(lines).toMatch(/第7行.*处置层级“省”不是 网格 \/ 街道 \/ 区县 \/ 市/);
  });

  it('rules alone are checked against the stored departments', async () => {
    const { report, changes } = planDepartments({ rules: await table(RULES) }, stored());
    expect(changes).toBeNull();
    expect(report[0]!.issues.map((i) => [i.line, i.kind])).toEqual([[3, 'unknown-department']]);
  });

  it('does not remove a department still named by a rule, an open event or an open plan step: an error naming them', async () => {
    const state = stored();
    const event = { id: 'E2026113000001', category: 'noise', status: 'handling', assignee: { departmentId: 'dept-police', staffId: null }, coHandlers: [], coHandlingRequests: [] } as unknown as GovEvent;
    state.apply([
      upsert('events', event),
      upsert('events', { ...event, id: 'E2026113000002', status: 'closed' }),
      upsert('events', { ...event, id: 'E2026113000003', assignee: null, coHandlers: ['dept-police'] }),
      upsert('commandLevel', { id: 'current', level: 'emergency', since: '2026-11-30T00:00:00.000Z', by: 'x', reason: 'x', incidentId: null, planTitle: 'p', plan: [{ id: 'step-1', text: '封控', ownerDepartmentId: 'dept-police', doneAt: null, doneBy: null }] }),
    ]);
    // GA left out of the departments file; the stored rules (noise → GA) stay.
    const { report, changes } = planDepartments({ departments: await table('编码,名称\nCG,市城市管理局\nOLD,市旧部门\n') }, state);
    expect(changes).toBeNull();
    expect(report[0]!.issues).toHaveLength(1);
    const issue = report[0]!.issues[0]!;
    expect(issue).toMatchObject({ kind: 'in-use', id: 'GA' });
    expect(issue.zh).toContain('权责清单事件类别 noise');
    expect(issue.zh).toContain('E2026113000001、E2026113000003');
    expect(issue.zh).not.toContain('E2026113000002');
    expect(issue.zh).toContain('预案未完成步骤 step-1');
    expect(issue.en).toMatch(/is still named by the rules for categories noise; open events E2026113000001, E2026113000003; open emergency plan steps step-1/);
  });

  it('does not remove a rule whose category open events still have', async () => {
    const state = stored();
    state.apply([upsert('events', { id: 'E2026113000009', category: 'old-thing', status: 'reported', assignee: null, coHandlers: [], coHandlingRequests: [] } as unknown as GovEvent)]);
    const { report, changes } = planDepartments({ departments: await table(DEPARTMENTS + 'OLD,市旧部门,\n'), rules: await table(RULES) }, state);
    expect(changes).toBeNull();
    expect(report[1]!.issues.map((i) => [i.kind, i.id])).toEqual([['has-open-events', 'old-thing']]);
    expect(report[1]!.issues[0]!.zh).toContain('E2026113000009');
    // noise (no open events) is not reported; the departments file itself is clean.
    expect(report[0]!.issues).toEqual([]);
  });

  it('a removed category leaves the plans that answered it (a plan answering nothing else goes), said as warnings', async () => {
    const state = stored();
    const step = { text: '处置', ownerDepartmentId: 'dept-police', resources: [] };
    const only: Plan = { id: 'plan-old', title: '旧事项预案', categories: ['old-thing'], steps: [step], updatedAt: '2026-11-30T00:00:00.000Z', updatedBy: '管理员' };
    const both: Plan = { ...only, id: 'plan-both', title: '综合预案', categories: ['old-thing', 'road-damage'] };
    state.apply([upsert('plans', only), upsert('plans', both)]);
    const { report, changes } = planDepartments({ departments: await table(DEPARTMENTS + 'OLD,市旧部门,\n'), rules: await table(RULES) }, state);
    expect(report[1]!.issues.map((i) => [i.severity, i.kind, i.id])).toEqual([['warning', 'answered-by-plan', 'plan-old'], ['warning', 'answered-by-plan', 'plan-both']]);
    expect(report[1]!.issues[0]!.zh).toBe('应急预案「旧事项预案」只应对已删除的事件类别 old-thing，已一并删除');
    expect(report[1]!.issues[1]!.zh).toBe('应急预案「综合预案」不再应对已删除的事件类别 old-thing');
    expect(changes!.filter((c) => c.collection === 'plans')).toEqual([{ op: 'remove', collection: 'plans', id: 'plan-old' }, upsert('plans', { ...both, categories: ['road-damage'] })]);
  });

  it('refuses files missing a column', async () => {
    const { report } = planDepartments({ departments: await table('名称\n市水务局\n') }, stored());
    expect(report[0]!.issues.map((i) => i.kind)).toEqual(['missing-column']);
    const rules = planDepartments({ rules: await table('事件类别编码,事件类别名称,部门编码,受理时限\nx,y,GA,60\n') }, stored());
    expect(rules.report[0]!.issues.map((i) => i.kind)).toEqual(['missing-column', 'missing-column', 'missing-column', 'missing-column', 'missing-column']);
  });
});
