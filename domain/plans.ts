/**
 * 应急预案: the checklist opened when the command level goes to 应急. Plans are records an administrator edits
 * (collection `plans`, protocol/plans.ts; commands in ./commands/plans.ts): one per kind of incident, each step owned
 * by a department with the resources it calls on, so the wall shows who must do what and what is still open. The
 * templates below are what a new city starts with (seeded by the backend at first start, and used while a store
 * holds no plan records at all); they follow the shape of municipal 专项应急预案 (先期处置 → 响应 → 保障 → 信息报送).
 */
import type { Plan, PlanItem, PlanResource } from '../protocol';
import type { StateReader } from './commands/context';

export interface PlanTemplate {
  title: string;
  steps: ReadonlyArray<{ text: string; owner: string; resources?: readonly PlanResource[] }>;
}

const GENERAL: PlanTemplate = {
  title: '突发事件总体应急预案',
  steps: [
    { text: '核实现场情况，30 分钟内首报市委市政府总值班室', owner: 'dept-emergency' },
    { text: '属地街道、网格员先期处置，划定警戒区域', owner: 'dept-police' },
    { text: '调度周边视频，指挥大屏切换至事发现场', owner: 'dept-emergency' },
    { text: '卫生健康部门待命，做好伤员救治准备', owner: 'dept-health' },
    { text: '统一信息发布口径，关注网络舆情', owner: 'dept-petition' },
    { text: '每小时续报处置进展，事件结束后终报', owner: 'dept-emergency' },
  ],
};

const BY_CATEGORY: Readonly<Record<string, PlanTemplate>> = {
  flood: {
    title: '城市防汛应急预案（Ⅰ级响应）',
    steps: [
      { text: '启动防汛Ⅰ级响应，防汛指挥部成员单位到岗', owner: 'dept-water' },
      { text: '低洼积水点、下穿通道封闭并设警示', owner: 'dept-transport' },
      { text: '排涝泵站全开，移动泵车赶赴积水点', owner: 'dept-water', resources: [{ name: '移动泵车', quantity: 6, unit: '台' }, { name: '抢险队', quantity: 2, unit: '支' }] },
      { text: '危旧房、地下空间人员转移，网格员逐户核查', owner: 'dept-housing' },
      { text: '转移群众安置点开放，保障食宿', owner: 'dept-civil', resources: [{ name: '折叠床', quantity: 200, unit: '张' }, { name: '饮用水', quantity: 500, unit: '箱' }] },
      { text: '交通疏导，公交线路临时调整', owner: 'dept-police' },
      { text: '每小时续报雨情、水情、灾情', owner: 'dept-emergency' },
    ],
  },
  'public-security': {
    title: '大型活动及人员密集场所突发事件应急预案',
    steps: [
      { text: '现场限流、分区疏导，防止踩踏', owner: 'dept-police' },
      { text: '周边视频全部上墙，监测人群密度', owner: 'dept-emergency' },
      { text: '医疗救护力量前置待命', owner: 'dept-health', resources: [{ name: '救护车', quantity: 2, unit: '辆' }] },
      { text: '地铁、公交配合疏散，必要时过站不停', owner: 'dept-transport' },
      { text: '统一发布现场信息，引导群众有序离场', owner: 'dept-petition' },
      { text: '每 30 分钟续报现场人数与处置进展', owner: 'dept-emergency' },
    ],
  },
  'fire-hazard': {
    title: '火灾事故应急预案',
    steps: [
      { text: '消防救援力量到场，疏散被困人员', owner: 'dept-emergency', resources: [{ name: '消防救援队', quantity: 2, unit: '支' }, { name: '消防车', quantity: 4, unit: '辆' }] },
      { text: '现场警戒与交通管制，保障救援通道', owner: 'dept-police' },
      { text: '伤员救治与医院床位调度', owner: 'dept-health', resources: [{ name: '救护车', quantity: 3, unit: '辆' }] },
      { text: '排查周边燃气、电力设施，必要时断气断电', owner: 'dept-housing' },
      { text: '环境监测，防止次生污染', owner: 'dept-environment' },
      { text: '受灾群众临时安置', owner: 'dept-civil' },
    ],
  },
  'building-safety': {
    title: '房屋建筑安全事故应急预案',
    steps: [
      { text: '危险区域人员撤离并设置警戒', owner: 'dept-police' },
      { text: '专家现场研判结构安全', owner: 'dept-housing' },
      { text: '搜救与伤员救治', owner: 'dept-health' },
      { text: '受影响住户临时安置', owner: 'dept-civil' },
      { text: '每小时续报处置进展', owner: 'dept-emergency' },
    ],
  },
  'work-safety': {
    title: '生产安全事故应急预案',
    steps: [
      { text: '停止作业，撤离危险区域人员', owner: 'dept-emergency' },
      { text: '现场警戒与秩序维护', owner: 'dept-police' },
      { text: '伤员救治', owner: 'dept-health' },
      { text: '环境监测与污染控制', owner: 'dept-environment' },
      { text: '按规定时限上报事故信息', owner: 'dept-emergency' },
    ],
  },
  traffic: {
    title: '道路交通事故及拥堵应急预案',
    steps: [
      { text: '事故现场警戒与交通管制', owner: 'dept-police' },
      { text: '伤员救治与转运', owner: 'dept-health' },
      { text: '清障车辆到场，尽快恢复通行', owner: 'dept-transport', resources: [{ name: '清障车', quantity: 2, unit: '辆' }] },
      { text: '发布绕行信息，公交线路调整', owner: 'dept-transport' },
      { text: '续报通行恢复情况', owner: 'dept-emergency' },
    ],
  },
};

/** The seed plans of a new city: the general plan (plan-general, no categories) and one per special category. */
export function defaultPlans(at: string, by = '系统'): Plan[] {
  const steps = (t: PlanTemplate): Plan['steps'] => t.steps.map((s) => ({ text: s.text, ownerDepartmentId: s.owner, resources: (s.resources ?? []).map((r) => ({ ...r })) }));
  return [
    { id: 'plan-general', title: GENERAL.title, categories: [], steps: steps(GENERAL), updatedAt: at, updatedBy: by },
    ...Object.entries(BY_CATEGORY).map(([category, t]) => ({ id: `plan-${category}`, title: t.title, categories: [category], steps: steps(t), updatedAt: at, updatedBy: by })),
  ];
}

/** The plan template for an incident's category from the built-in templates (the general one when none is special). */
export function planTemplateFor(category: string | null): PlanTemplate {
  return (category !== null ? BY_CATEGORY[category] : undefined) ?? GENERAL;
}

/**
 * The plan the 应急 level opens for an incident's category: the stored plan answering that category, else the
 * stored general plan (no categories); a store with no plan records at all uses the built-in templates.
 */
export function planFor(state: Pick<StateReader, 'all'>, category: string | null): { planId: string | null; title: string; steps: Plan['steps'] } {
  const plans = [...state.all('plans')].sort((a, b) => a.id.localeCompare(b.id));
  const chosen = (category !== null ? plans.find((p) => p.categories.includes(category)) : undefined) ?? plans.find((p) => p.categories.length === 0);
  if (chosen) return { planId: chosen.id, title: chosen.title, steps: chosen.steps };
  const template = planTemplateFor(category);
  return { planId: null, title: template.title, steps: template.steps.map((s) => ({ text: s.text, ownerDepartmentId: s.owner, resources: [...(s.resources ?? [])] })) };
}

/** A fresh checklist from a plan's steps: every step open, ids stable by position so ticks can name them. */
export function openPlan(steps: Plan['steps']): PlanItem[] {
  return steps.map((step, index) => ({
    id: `step-${index + 1}`,
    text: step.text,
    ownerDepartmentId: step.ownerDepartmentId,
    resources: step.resources.map((r) => ({ ...r })),
    doneAt: null,
    doneBy: null,
  }));
}
