/**
 * The city's registers beside the replicated model: the vocabulary of places (地、物、组织, a replicated
 * collection: see Place in model.ts) and the 重点人员 / 特殊群体 register — personal data that is never
 * replicated: it lives in the backend's store alone and is read one target at a time over HTTP
 * (GET /city/key-persons), every read audited, masked unless the reader's role may see it.
 */
import { z } from 'zod';
import type { PlaceKind } from './model';

/** Chinese and English labels of the place kinds; the import accepts each Chinese label (and a few synonyms). */
export const PLACE_KIND_LABELS: Record<PlaceKind, { zh: string; en: string }> = {
  school: { zh: '学校', en: 'School' },
  hospital: { zh: '医院', en: 'Hospital' },
  market: { zh: '市场/商超', en: 'Market / supermarket' },
  hazardous: { zh: '危化品场所', en: 'Hazardous-goods site' },
  'key-place': { zh: '重点场所', en: 'Key place' },
  crowded: { zh: '人员密集场所', en: 'Crowded place' },
  enterprise: { zh: '企业', en: 'Enterprise' },
  organisation: { zh: '社会组织', en: 'Social organisation' },
  government: { zh: '机关单位', en: 'Government office' },
  other: { zh: '其他', en: 'Other' },
};

/**
 * 重点人员 (people under the community's attention) and 特殊群体 (vulnerable groups the community looks after):
 * one fixed vocabulary, its ids stable in files and audits.
 */
export const KeyPersonCategory = z.enum([
  'released', // 刑满释放人员
  'community-correction', // 社区矫正对象
  'drug-user', // 吸毒人员
  'mental-illness', // 严重精神障碍患者
  'petitioner', // 重点上访人员
  'cult', // 邪教人员
  'elderly-alone', // 独居老人
  'left-behind-child', // 留守儿童
  'child-in-difficulty', // 困境儿童
  'disabled', // 残疾人
  'subsistence', // 低保户
]);
export type KeyPersonCategory = z.infer<typeof KeyPersonCategory>;

export const KEY_PERSON_CATEGORY_LABELS: Record<KeyPersonCategory, { zh: string; en: string; group: 'key' | 'special' }> = {
  released: { zh: '刑满释放人员', en: 'Released prisoner', group: 'key' },
  'community-correction': { zh: '社区矫正对象', en: 'Under community correction', group: 'key' },
  'drug-user': { zh: '吸毒人员', en: 'Drug user', group: 'key' },
  'mental-illness': { zh: '严重精神障碍患者', en: 'Severe mental disorder', group: 'key' },
  petitioner: { zh: '重点上访人员', en: 'Persistent petitioner', group: 'key' },
  cult: { zh: '邪教人员', en: 'Cult member', group: 'key' },
  'elderly-alone': { zh: '独居老人', en: 'Elderly living alone', group: 'special' },
  'left-behind-child': { zh: '留守儿童', en: 'Left-behind child', group: 'special' },
  'child-in-difficulty': { zh: '困境儿童', en: 'Child in difficulty', group: 'special' },
  disabled: { zh: '残疾人', en: 'Person with disability', group: 'special' },
  subsistence: { zh: '低保户', en: 'Subsistence-allowance household', group: 'special' },
};

/** 关注等级: 1 the closest attention, 3 the least. */
export const KeyPersonLevel = z.number().int().min(1).max(3);

/** One row of the register as stored (and as a role allowed to see it reads it). */
export const KeyPerson = z.object({
  id: z.string().min(1).max(64),
  name: z.string().max(100),
  /** 公民身份号码 (GB 11643); masked rows carry it as 5101**********1234. */
  idNumber: z.string().max(18),
  category: KeyPersonCategory,
  gridId: z.string(),
  address: z.string().max(500),
  phone: z.string().max(40),
  level: KeyPersonLevel,
  note: z.string().max(2000),
});
export type KeyPerson = z.infer<typeof KeyPerson>;

export const RegisterLevel = z.enum(['grid', 'community', 'street', 'district']);
export type RegisterLevel = z.infer<typeof RegisterLevel>;

/** The most rows one answer carries; `total` and `byCategory` count them all. */
export const KEY_PERSONS_MAX_ROWS = 500;

export const KeyPersonsAnswer = z.object({
  target: z.object({ level: RegisterLevel, id: z.string(), name: z.string() }),
  /** True when the rows are as stored; false when masked (see maskedBecause). */
  revealed: z.boolean(),
  maskedBecause: z.enum(['role', 'demo']).nullable(),
  total: z.number().int().nonnegative(),
  byCategory: z.partialRecord(KeyPersonCategory, z.number().int().nonnegative()),
  rows: z.array(KeyPerson).max(KEY_PERSONS_MAX_ROWS),
  truncated: z.boolean(),
});
export type KeyPersonsAnswer = z.infer<typeof KeyPersonsAnswer>;
