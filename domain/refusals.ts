/**
 * Why a command is refused, as a key and parameters: the one table of refusal kinds. A handler throws
 * `new CommandError(code, { key, params })` (commands/context.ts); a wrong key or a missing parameter does not
 * compile. The Chinese text built here from `zh` is the error's message (logs, the audit, older consoles); the
 * console shows its own catalog's text for the key in the window's language (renderer/src/i18n: `refusals`,
 * whose zh-CN entries equal these templates — tests/unit/refusals.test.ts).
 *
 * Templates name parameters as `{name}` (vue-i18n's syntax). A parameter listed in `words` carries a code (or
 * codes joined by ",") that each side shows in its own words: WORDS_ZH here, `refusals.words` in the catalogs.
 */
import type { RefusalReason } from '../protocol';

export const WORDS_ZH = {
  eventStatus: { new: '待受理', accepted: '已受理', dispatched: '已派遣', handling: '处置中', handled: '待回访', 'followed-up': '待结案', closed: '已结案', merged: '已合并' },
  action: {
    accept: '受理', dispatch: '派遣', reassign: '改派', sign: '签收', cohandleRequest: '申请协办', cohandleDecide: '审批协办', supervise: '督办', escalate: '上报',
    feedback: '反馈处置结果', followUp: '回访', close: '结案', reopen: '重新打开', merge: '合并', mergeInto: '并入', extensionDecide: '审批延期',
  },
  role: { dispatcher: '调度员', leader: '领导', duty: '值班员', viewer: '演示（只读）', admin: '系统管理员', inspector: '督查', liaison: '部门联络员', field: '网格员', system: '系统' },
  requestState: { pending: '待审批', approved: '已批准', refused: '已驳回' },
  level: { daily: '日常', reinforced: '加强', emergency: '应急' },
  step: { report: '受理', dispatch: '派遣', handle: '处置', followup: '回访', close: '结案' },
} as const;
export type WordList = keyof typeof WORDS_ZH;
export type RefusalAction = keyof (typeof WORDS_ZH)['action'];

interface RefusalDef {
  readonly params: readonly string[];
  readonly zh: string;
  /** Parameters whose values are codes shown in words of one of WORDS_ZH's lists. */
  readonly words?: Readonly<Record<string, WordList>>;
}

const ID = ['id'] as const;
const STATUS = { status: 'eventStatus' } as const;

export const REFUSALS = {
  'command.unknownType': { params: ['type'], zh: '未知的指令类型 {type}' },
  'command.notAllowed': { params: ['role', 'type'], zh: '{role}账号不能执行 {type}', words: { role: 'role' } },
  'command.invalidPayload': { params: ['type', 'problem'], zh: '{type} 指令的内容无效：{problem}' },
  'input.problem': { params: ['zh', 'en'], zh: '{zh}' },

  'event.notFound': { params: ID, zh: '事件 {id} 不存在' },
  'event.outsideArea': { params: ['id', 'district', 'grid'], zh: '事件 {id} 在 {district}（网格 {grid}），不在您的辖区' },
  'event.changed': { params: ['id', 'from', 'to'], zh: '事件 {id} 在您查看之后有了变化（版本 {from} → {to}），请查看后再试' },
  'event.wrongStatus': { params: ['id', 'action', 'status', 'needs'], zh: '事件 {id} 当前为「{status}」，不能{action}（需要「{needs}」）', words: { action: 'action', status: 'eventStatus', needs: 'eventStatus' } },
  'event.notAssignedToYou': { params: ['id', 'staff'], zh: '事件 {id} 没有派给你（网格员 {staff}），不能操作' },
  'event.notAssignedToDepartment': { params: ['id', 'department'], zh: '事件 {id} 没有派给你的部门（{department}），不能操作' },
  'event.atCityLevel': { params: ID, zh: '事件 {id} 已在市级处置，不能再上报' },
  'event.mergeIntoItself': { params: [], zh: '事件不能合并到它自己' },
  'event.commentLimit': { params: ['id', 'max'], zh: '事件 {id} 的历史记录已达 {max} 条，不能再添加备注；办理步骤仍可进行' },
  'category.unknown': { params: ['category'], zh: '未知的事件类别 {category}' },
  'location.outsideCity': { params: ['point'], zh: '位置 {point} 不在本市网格内' },
  'location.outsideArea': { params: ['district', 'grid'], zh: '位置在 {district}（网格 {grid}），不在您的辖区' },
  'locate.eventEnded': { params: ['id', 'status'], zh: '事件 {id} {status}，不能核实位置', words: STATUS },
  'locate.notUnresolved': { params: ID, zh: '事件 {id} 的位置不是待核实' },
  'place.notFound': { params: ID, zh: '没有这个地点：{id}' },
  'camera.notFound': { params: ID, zh: '摄像头 {id} 不存在' },
  'attachment.notFound': { params: ID, zh: '附件 {id} 不存在（请先上传）' },
  'staff.notFound': { params: ID, zh: '人员 {id} 不存在' },
  'staff.offline': { params: ['id', 'name'], zh: '{name}（{id}）已离线，不能接收事件；请选择在岗人员' },
  'staff.outsideArea': { params: ID, zh: '人员 {id} 不在您的辖区内工作' },
  'department.notFound': { params: ID, zh: '部门 {id} 不存在（可能已被删除）' },
  'department.codeTaken': { params: ['code', 'name', 'id'], zh: '部门编码 {code} 已被 {name}（{id}）使用，编码不能重复' },
  'department.inUse': { params: ['name', 'code', 'uses', 'usesEn'], zh: '不能删除 {name}（{code}）：仍被{uses}引用；请先改派或修改权责清单' },

  'cohandle.alreadyHandles': { params: ['id', 'department'], zh: '{department} 已在办理事件 {id}' },
  'cohandle.alreadyPending': { params: ['department'], zh: '{department} 的协办申请已在等待审批' },
  'cohandle.tooMany': { params: ['id', 'max'], zh: '事件 {id} 的协办申请已达 {max} 次' },
  'cohandle.notFound': { params: ['id', 'request'], zh: '事件 {id} 没有协办申请 {request}' },
  'cohandle.alreadyDecided': { params: ['request', 'state'], zh: '协办申请 {request} 已处理（{state}）', words: { state: 'requestState' } },
  'field.arriveNotHandling': { params: ['id', 'status'], zh: '事件 {id} 当前为「{status}」，只有处置中（已签收、未反馈）才能登记到场', words: STATUS },
  'field.returnTooLate': { params: ['id', 'status'], zh: '事件 {id} 当前为「{status}」，只能在反馈前退回', words: STATUS },
  'extension.wrongStatus': { params: ['id', 'status'], zh: '事件 {id} 当前为「{status}」，不能申请延期', words: STATUS },
  'extension.alreadyPending': { params: ID, zh: '事件 {id} 已有待审批的延期申请' },
  'extension.tooMany': { params: ['id', 'max'], zh: '事件 {id} 的延期申请已达 {max} 次' },
  'extension.notFound': { params: ['id', 'request'], zh: '事件 {id} 没有延期申请 {request}' },
  'extension.alreadyDecided': { params: ['request', 'state'], zh: '延期申请 {request} 已处理（{state}）', words: { state: 'requestState' } },

  'alarm.notFound': { params: ID, zh: '告警 {id} 不存在（可能已随事件办结而解除）' },
  'alarm.outsideArea': { params: ID, zh: '告警 {id} 的事件不在您的辖区内' },
  'alarm.eventEnded': { params: ['id', 'status'], zh: '事件 {id} {status}，不再告警', words: STATUS },
  'alarm.alreadyRaised': { params: ['id', 'reason'], zh: '事件 {id} 已因 {reason} 告警' },
  'alarm.alreadyAcked': { params: ['id', 'by', 'at'], zh: '告警 {id} 已由 {by} 于 {at} 确认' },
  'alarm.alreadyAckedOnConsole': { params: ['id', 'by', 'at', 'console'], zh: '告警 {id} 已由 {by} 于 {at} 确认（{console}）' },
  'alarm.atRung': { params: ['id', 'rung'], zh: '告警 {id} 已在第 {rung} 级' },
  'alarm.eventStillOpen': { params: ID, zh: '事件 {id} 仍在办理，告警不能解除（请确认告警）' },

  'call.eventNotFound': { params: ['call', 'id'], zh: '通话 {call} 关联的事件 {id} 不存在，通话记录未保存' },
  'call.eventOutsideArea': { params: ['call', 'id', 'district'], zh: '通话 {call} 关联的事件 {id} 在 {district}，不在您的辖区，通话记录未保存' },

  'level.alreadySet': { params: ['level'], zh: '指挥等级已是「{level}」', words: { level: 'level' } },
  'level.incidentEnded': { params: ['id', 'status'], zh: '事件 {id} {status}：应急响应只针对未办结的事件', words: STATUS },
  'level.cityWide': { params: ['scope'], zh: '指挥等级的含义是全市共用的，只有不限辖区的管理员可以修改（你的辖区：{scope}）' },
  'level.chainNeedsLimit': { params: ['rung', 'name'], zh: '告警升级链第 {rung} 级（{name}）不是最后一级，需要填写确认时限（分钟）' },
  'level.chainLastHasLimit': { params: ['name'], zh: '告警升级链最后一级（{name}）一直响到有人确认，不能有确认时限' },
  'level.factorAboveOne': { params: ['step', 'factor'], zh: '{step}时限系数 {factor} 大于 1：加强和应急只能收紧时限，不能放宽', words: { step: 'step' } },
  'level.factorAboveDaily': { params: ['step', 'factor', 'daily'], zh: '{step}时限系数 {factor} 大于日常的 {daily}：加强和应急只能收紧时限，不能比日常宽', words: { step: 'step' } },
  'emergency.notOpen': { params: [], zh: '没有执行中的应急预案（指挥等级不是应急）' },
  'emergency.stepNotFound': { params: ['step'], zh: '预案步骤 {step} 不存在' },
  'emergency.stepAlreadyDone': { params: ['step'], zh: '预案步骤 {step} 已完成' },
  'emergency.stepAlreadyOpen': { params: ['step'], zh: '预案步骤 {step} 本来就未完成' },
  'handover.eventNotFound': { params: ID, zh: '交接事项所列的事件 {id} 不存在' },
  'handover.alarmsLeft': { params: ['count', 'list'], zh: '还有 {count} 条未确认告警没有列入交接：{list}' },
  'handover.notFound': { params: ID, zh: '交接班记录 {id} 不存在' },
  'handover.alreadyAcked': { params: ['id', 'by'], zh: '交接班记录 {id} 已由 {by} 确认' },
  'handover.ownHandover': { params: [], zh: '交接班由接班人确认，交班人不能确认自己写的交接' },
  'handover.notAddressed': { params: ['id', 'to'], zh: '交接班记录 {id} 是交给 {to} 的' },

  'baseData.cityWide': { params: ['scope'], zh: '基础数据是全市共用的，只有不限辖区的管理员可以修改（你的辖区：{scope}）' },
  'rule.departmentNotFound': { params: ID, zh: '责任部门 {id} 不存在，请选择已有的部门' },
  'rule.notFound': { params: ['category'], zh: '权责清单中没有事件类别 {category}' },
  'rule.openEvents': { params: ['name', 'category', 'events'], zh: '不能删除事件类别 {name}（{category}）：仍有未办结事件 {events}；请先办结再删除' },
  'rule.usedByPlans': { params: ['name', 'category', 'plans'], zh: '不能删除事件类别 {name}（{category}）：仍由应急预案{plans}应对；请先在预案中取消该类别或删除预案' },
  'plan.cityWide': { params: ['scope'], zh: '应急预案是全市共用的，只有不限辖区的管理员可以修改（你的辖区：{scope}）' },
  'plan.notFound': { params: ID, zh: '预案 {id} 不存在（可能已被删除）' },
  'plan.noSteps': { params: ['title'], zh: '预案「{title}」没有步骤：至少要有一个步骤' },
  'plan.stepDepartmentNotFound': { params: ['step', 'id'], zh: '第 {step} 步的责任部门 {id} 不存在，请选择已有的部门' },
  'plan.duplicateResource': { params: ['step', 'name'], zh: '第 {step} 步的资源「{name}」重复列出，请合并数量' },
  'plan.unknownCategory': { params: ['category'], zh: '事件类别 {category} 不在权责清单中，预案只能应对已有的事件类别' },
  'plan.categoryTaken': { params: ['category', 'title', 'id'], zh: '事件类别 {category} 已由预案「{title}」（{id}）应对，一个类别只对应一个预案' },
  'plan.generalExists': { params: ['title', 'id'], zh: '已有总体预案「{title}」（{id}）：不选事件类别的预案只能有一个，请为本预案选择事件类别' },
  'plan.generalStaysGeneral': { params: ['title'], zh: '「{title}」是总体预案，应对没有专项预案的事件，不能改为专项预案；请新建专项预案' },
  'plan.generalUndeletable': { params: ['title'], zh: '不能删除总体预案「{title}」：没有专项预案的事件都按它处置；可以修改它的步骤' },
  'plan.inEmergency': { params: ['title'], zh: '不能删除预案「{title}」：当前应急响应正在执行它；可以修改，应急结束后再删除' },
} as const satisfies Record<string, RefusalDef>;

export type RefusalKey = keyof typeof REFUSALS;
export type RefusalParams<K extends RefusalKey> = { [P in (typeof REFUSALS)[K]['params'][number]]: string | number };
/** One refusal: a key of the table with exactly its parameters. */
export type Refusal = { [K in RefusalKey]: { key: K; params: RefusalParams<K> } }[RefusalKey];

/** The longest parameter value a reason carries (the wire's bound, protocol/wire.ts RefusalReason). */
export const MAX_REFUSAL_PARAM_CHARS = 500;

const clip = (text: string): string => (text.length <= MAX_REFUSAL_PARAM_CHARS ? text : `${text.slice(0, MAX_REFUSAL_PARAM_CHARS - 1)}…`);

export const isRefusalKey = (key: string): key is RefusalKey => Object.prototype.hasOwnProperty.call(REFUSALS, key);

/** The list a parameter's codes are shown from, if any (same for every language). */
export function refusalWordList(key: RefusalKey, param: string): WordList | undefined {
  const words: Readonly<Record<string, WordList>> | undefined = (REFUSALS[key] as RefusalDef).words;
  return words?.[param];
}

/** Fills a template: `{name}` by its parameter, `shown` giving a parameter's text (its value by default). */
export function fillTemplate(template: string, params: Readonly<Record<string, string | number>>, shown: (name: string, value: string | number) => string = (_n, v) => String(v)): string {
  return template.replace(/\{(\w+)\}/g, (whole, name: string) => (name in params ? shown(name, params[name]!) : whole));
}

/** The reason as it travels: every value within the wire's bound. */
export function refusalReason(refusal: Refusal): RefusalReason {
  const params: Record<string, string | number> = {};
  for (const [name, value] of Object.entries(refusal.params as Record<string, string | number>)) params[name] = typeof value === 'string' ? clip(value) : value;
  return { key: refusal.key, params };
}

/** The refusal in Chinese: the error's message. */
export function refusalZh(reason: RefusalReason): string {
  if (!isRefusalKey(reason.key)) return reason.key;
  const key = reason.key;
  return fillTemplate(REFUSALS[key].zh, reason.params, (name, value) => {
    const list = refusalWordList(key, name);
    if (!list) return String(value);
    const words: Readonly<Record<string, string>> = WORDS_ZH[list];
    return String(value)
      .split(',')
      .map((code) => words[code] ?? code)
      .join('/');
  });
}
