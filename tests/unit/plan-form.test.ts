/**
 * The plan editor's form (renderer/src/components/base-data/plan-form.ts) refuses, before sending, what the
 * protocol would refuse without words: more than 40 steps, more than 12 resources in a step — in Chinese (and
 * English), naming the step and the count, on the line the other inline problems use.
 */
import { describe, expect, it } from 'vitest';
import { PLAN_LIMITS, PlanSavePayload } from '../../protocol';
import { checkPlanForm, emptyStep, newKey, payloadOf, type PlanForm } from '../../renderer/src/components/base-data/plan-form';
import { createConsoleI18n } from '../../renderer/src/i18n';

const departments = new Map([['dept-water', {}]]);
function form(steps: number, resources = 0): PlanForm {
  return {
    id: null,
    title: '防汛预案',
    categories: ['flood'],
    steps: Array.from({ length: steps }, (_, i) => ({
      ...emptyStep(),
      text: `第 ${i + 1} 步`,
      ownerDepartmentId: 'dept-water',
      resources: i === 0 ? Array.from({ length: resources }, (_, j) => ({ key: newKey(), name: `资源${j + 1}`, quantity: '1', unit: '台' })) : [],
    })),
  };
}

describe('plan form: the step and resource limits', () => {
  it('at the limits the form is sent and the protocol takes it', () => {
    const f = form(PLAN_LIMITS.steps, PLAN_LIMITS.resourcesPerStep);
    expect(checkPlanForm(f, departments)).toEqual({});
    expect(PlanSavePayload.safeParse(payloadOf(f)).success).toBe(true);
  });

  it('one step too many is refused in Chinese, naming the count', () => {
    const f = form(41);
    expect(checkPlanForm(f, departments)).toEqual({ steps: { zh: '预案至多 40 个步骤（现有 41 个），请合并或删除步骤', en: 'a plan has at most 40 steps (this one has 41)' } });
    expect(PlanSavePayload.safeParse(payloadOf(f)).success).toBe(false);
  });

  it('one resource too many in a step is refused on that step', () => {
    const f = form(2, 13);
    expect(checkPlanForm(f, departments)).toEqual({ 'resource-0': { zh: '第 1 步至多列 12 项资源（现有 13 项），请合并或删除', en: 'step 1 lists at most 12 resources (it has 13)' } });
    expect(PlanSavePayload.safeParse(payloadOf(f)).success).toBe(false);
    // A resource's own problem (no name) is the one shown first.
    f.steps[0]!.resources[0]!.name = ' ';
    expect(checkPlanForm(f, departments)['resource-0']!.zh).toBe('第 1 步有未填名称的资源');
  });
});

describe('hours and minutes (the KPI trend\'s running hour)', () => {
  it('is formatted HH:mm in both languages, 00 after midnight', () => {
    for (const locale of ['zh-CN', 'en'] as const) {
      const { d } = createConsoleI18n(locale).global;
      expect(d(new Date(2026, 10, 30, 17, 5, 42), 'hm')).toBe('17:05');
      expect(d(new Date(2026, 10, 30, 0, 5), 'hm')).toBe('00:05');
    }
  });
});
