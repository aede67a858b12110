/**
 * Refusal reasons (domain/refusals.ts): the one table of keys and parameters, the console's catalogs holding
 * every key in zh-CN (equal to the domain's templates, which make the Chinese message) and in English, a few
 * handlers refusing with their key, the console's text in each language (unknown keys fall back to the message),
 * and the wire's bounds on a reason.
 */
import { describe, expect, it } from 'vitest';
import { refusalOf } from '../../harness/commands';
import { CityState, CommandError, REFUSALS, WORDS_ZH, alarmActions, executeCommand, upsert, type Actor } from '../../domain';
import { RefusalReason, WireErrorPayload, decodeFrame, errorFrame, type GovEvent } from '../../protocol';
import zhCN from '../../renderer/src/i18n/zh-CN';
import en from '../../renderer/src/i18n/en';
import { createConsoleI18n } from '../../renderer/src/i18n';
import { refusalText } from '../../renderer/src/i18n/refusals';

const T0 = Date.parse('2026-11-30T08:00:00Z');
const MIN = 60_000;
const SYSTEM: Actor = { id: 'system:alarms', name: '告警系统', role: 'system', districtScope: null };
const DISPATCHER: Actor = { id: 'disp', name: '调度员 张敏', role: 'dispatcher', districtScope: null, console: '坐席 3' };
const limits = { report: 60, dispatch: 120, handle: 1440, followup: 2880, close: 1440 };

const event = (id: string, extra: Partial<GovEvent>): GovEvent => ({
  id, source: 'hotline', category: 'road', severity: 1, title: `事件 ${id}`, description: '', location: [118, 24], address: '', gridId: 'g1', districtId: 'd1',
  status: 'new', step: 'report', reportedAt: new Date(T0).toISOString(), stepDeadline: new Date(T0 + 60 * MIN).toISOString(), finalDeadline: '2026-12-05T00:00:00.000Z',
  assignee: null, coHandlers: [], coHandlingRequests: [], supervised: false, escalation: 'grid', mergedInto: null,
  reporter: null, evaluation: null, closedAt: null, acceptedAt: null, dispatchedAt: null, handledAt: null, timelineCount: 1, actors: [], cameraId: null, version: 3, ...extra,
});

function city(...events: GovEvent[]): CityState {
  const state = new CityState(undefined, 0);
  state.apply([
    upsert('departments', { id: 'dept-urban', code: 'CG', name: '市城市管理局' }),
    upsert('rules', { id: 'road', category: 'road', categoryName: '道路破损', departmentId: 'dept-urban', limits, handlingLevel: 'district' }),
    ...events.map((e) => upsert('events', e)),
  ]);
  return state;
}
const locate = (): { gridId: string; districtId: string; address: string } => ({ gridId: 'g1', districtId: 'd1', address: '某路 1 号' });
function run(state: CityState, actor: Actor, type: string, payload: unknown, atMs = T0): void {
  state.apply(executeCommand({ state, actor, now: new Date(atMs), newId: (kind) => `${kind}-${atMs}`, locate }, type, payload).changes);
}
const refusal = (state: CityState, actor: Actor, type: string, payload: unknown, atMs = T0): CommandError => refusalOf(() => run(state, actor, type, payload, atMs), type);

/** Every leaf of a nested catalog section, as "a.b" → text. */
function leaves(section: object, prefix = ''): Map<string, string> {
  const out = new Map<string, string>();
  for (const [k, v] of Object.entries(section)) {
    if (typeof v === 'string') out.set(`${prefix}${k}`, v);
    else for (const [kk, vv] of leaves(v as object, `${prefix}${k}.`)) out.set(kk, vv);
  }
  return out;
}
const placeholders = (template: string): string[] => [...template.matchAll(/\{(\w+)\}/g)].map((m) => m[1]!);

describe('the refusal table and the console catalogs', () => {
  const { words: zhWords, ...zhTexts } = zhCN.refusals;
  const { words: enWords, ...enTexts } = en.refusals;

  it("has every key in zh-CN equal to the domain's template, and in English; no catalog key the domain lacks", () => {
    const keys = Object.keys(REFUSALS).sort();
    expect([...leaves(zhTexts).keys()].sort()).toEqual(keys);
    expect([...leaves(enTexts).keys()].sort()).toEqual(keys);
    for (const [key, def] of Object.entries(REFUSALS)) expect(leaves(zhTexts).get(key), key).toBe(def.zh);
    expect(zhWords).toEqual(WORDS_ZH);
    for (const [list, words] of Object.entries(WORDS_ZH)) expect(Object.keys(enWords[list as keyof typeof enWords]).sort(), list).toEqual(Object.keys(words).sort());
  });

  it('names in each template only the parameters its key declares, every declared one in some template, within the wire bounds', () => {
    const english = leaves(enTexts);
    for (const [key, def] of Object.entries(REFUSALS)) {
      const params: readonly string[] = def.params;
      const used = [...placeholders(def.zh), ...placeholders(english.get(key)!)];
      for (const name of used) expect(params, `${key} names {${name}}`).toContain(name);
      for (const name of params) expect(used, `${key} never shows ${name}`).toContain(name);
      expect(RefusalReason.safeParse({ key, params: Object.fromEntries(params.map((p) => [p, 'x'])) }).success, key).toBe(true);
      // vue-i18n reads "@", "|", "$" specially: none in the templates.
      expect(`${def.zh}${english.get(key)}`, key).not.toMatch(/[@|$]/);
    }
  });

  it('does not compile a wrong key or missing parameters', () => {
    const make = (): CommandError[] => [
      // @ts-expect-error: no such key
      new CommandError('conflict', { key: 'event.vanished', params: { id: 'E1' } }),
      // @ts-expect-error: event.changed needs from and to
      new CommandError('conflict', { key: 'event.changed', params: { id: 'E1' } }),
      new CommandError('conflict', { key: 'event.changed', params: { id: 'E1', from: 1, to: 2 } }),
    ];
    expect(make()[2]!.message).toBe('事件 E1 在您查看之后有了变化（版本 1 → 2），请查看后再试');
  });
});

describe('handlers refuse with a key', () => {
  it('acknowledging an acknowledged alarm: alarm.alreadyAcked… with who, when and where', () => {
    const state = city(event('E1', { severity: 3, status: 'dispatched', step: 'dispatch', assignee: { departmentId: 'dept-urban', staffId: null } }));
    for (const a of alarmActions(state, T0)) run(state, SYSTEM, a.type, a.payload);
    run(state, DISPATCHER, 'alarm.acknowledge', { alarmId: 'alarm-E1' }, T0 + MIN);
    const e = refusal(state, DISPATCHER, 'alarm.acknowledge', { alarmId: 'alarm-E1' }, T0 + 2 * MIN);
    expect(e.code).toBe('conflict');
    expect(e.reason).toEqual({ key: 'alarm.alreadyAckedOnConsole', params: { id: 'alarm-E1', by: '调度员 张敏', at: new Date(T0 + MIN).toISOString(), console: '坐席 3' } });
    expect(e.message).toBe(`告警 alarm-E1 已由 调度员 张敏 于 ${new Date(T0 + MIN).toISOString()} 确认（坐席 3）`);
  });

  it('a stale baseVersion: event.changed; a step out of order: event.wrongStatus in words; an unknown event: event.notFound', () => {
    const state = city(event('E1', {}));
    expect(refusal(state, DISPATCHER, 'event.accept', { eventId: 'E1', baseVersion: 1 }).reason).toEqual({ key: 'event.changed', params: { id: 'E1', from: 1, to: 3 } });
    const wrong = refusal(state, DISPATCHER, 'event.feedback', { eventId: 'E1', note: 'x' });
    expect(wrong.reason).toEqual({ key: 'event.wrongStatus', params: { id: 'E1', action: 'feedback', status: 'new', needs: 'handling' } });
    expect(wrong.message).toBe('事件 E1 当前为「待受理」，不能反馈处置结果（需要「处置中」）');
    expect(refusal(state, DISPATCHER, 'event.accept', { eventId: 'E9' }).reason).toEqual({ key: 'event.notFound', params: { id: 'E9' } });
    const viewer = refusal(state, { ...DISPATCHER, role: 'viewer' }, 'event.accept', { eventId: 'E1' });
    expect([viewer.code, viewer.message]).toEqual(['forbidden', '演示（只读）账号不能执行 event.accept']);
  });
});

describe("the console's text for a reason", () => {
  const i18n = createConsoleI18n('zh-CN');
  const g = i18n.global;
  const text = (reason: unknown): string | null => refusalText(reason as RefusalReason, { t: (k, named) => g.t(k, named), te: (k) => g.te(k) });

  it('is the catalog text in the window language, codes in words; unknown keys or missing parameters give null', () => {
    const wrong = { key: 'event.wrongStatus', params: { id: 'E1', action: 'mergeInto', status: 'closed', needs: 'new,accepted' } };
    g.locale.value = 'zh-CN';
    expect(text(wrong)).toBe('事件 E1 当前为「已结案」，不能并入（需要「待受理/已受理」）');
    g.locale.value = 'en';
    expect(text(wrong)).toBe('cannot merge into event E1: it is “closed” (needs “new/accepted”)');
    expect(text({ key: 'input.problem', params: { zh: '部门编码为空', en: 'empty department code' } })).toBe('empty department code');
    expect(text({ key: 'event.teleported', params: { id: 'E1' } })).toBeNull();
    expect(text({ key: 'event.changed', params: { id: 'E1' } })).toBeNull();
    expect(text(undefined)).toBeNull();
  });
});

describe('a reason on the wire', () => {
  it('travels in an error frame; one out of bounds is dropped from the frame, not the error', () => {
    const reason = { key: 'event.notFound', params: { id: 'E9' } };
    const sent = decodeFrame(errorFrame({ code: 'invalid', message: '事件 E9 不存在', reason, retryable: false }, 'c1'));
    expect(sent.ok && WireErrorPayload.parse(sent.frame.payload)).toMatchObject({ reason });
    const tooMany = { key: 'event.notFound', params: Object.fromEntries(Array.from({ length: 11 }, (_, i) => [`p${i}`, i])) };
    for (const bad of [tooMany, { key: 'Event Not Found', params: {} }, { key: 'event.notFound', params: { id: 'x'.repeat(501) } }]) {
      expect(RefusalReason.safeParse(bad).success).toBe(false);
      const read = WireErrorPayload.safeParse({ code: 'conflict', message: 'm', reason: bad, retryable: false });
      expect(read.success && read.data.reason).toBe(undefined);
    }
    // A parameter value past the bound is clipped by the domain, never sent too long.
    const long = new CommandError('invalid', { key: 'command.invalidPayload', params: { type: 'event.report', problem: 'y'.repeat(900) } });
    expect(RefusalReason.safeParse(long.reason).success).toBe(true);
  });
});
