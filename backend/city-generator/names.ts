/**
 * Chinese names for the synthetic city: people, phone numbers and fictional place names.
 * Place names are composed from lists of common place-name characters; NameScope keeps them unique.
 */
import type { Rng } from './random';

/** Common surnames with rough relative frequencies (per cent of the population). */
export const SURNAMES: ReadonlyArray<readonly [string, number]> = [
  ['王', 7.25], ['李', 7.19], ['张', 6.83], ['刘', 5.38], ['陈', 4.53], ['杨', 3.08], ['黄', 2.23], ['赵', 2.29],
  ['吴', 2.05], ['周', 1.91], ['徐', 1.48], ['孙', 1.54], ['马', 1.29], ['朱', 1.21], ['胡', 1.16], ['郭', 1.15],
  ['何', 1.18], ['高', 1.0], ['林', 1.01], ['罗', 0.86], ['郑', 0.8], ['梁', 0.8], ['谢', 0.67], ['宋', 0.6],
  ['唐', 0.58], ['许', 0.56], ['韩', 0.55], ['冯', 0.52], ['邓', 0.5], ['曹', 0.5], ['彭', 0.48], ['曾', 0.47],
  ['肖', 0.45], ['田', 0.44], ['董', 0.43], ['袁', 0.42], ['潘', 0.41], ['于', 0.4], ['蒋', 0.39], ['蔡', 0.38],
  ['余', 0.37], ['杜', 0.36], ['叶', 0.35], ['程', 0.34], ['苏', 0.33], ['魏', 0.32], ['吕', 0.31], ['丁', 0.3],
  ['任', 0.29], ['沈', 0.28], ['姚', 0.27], ['卢', 0.26], ['姜', 0.25], ['崔', 0.24], ['钟', 0.23], ['谭', 0.22],
  ['陆', 0.21], ['汪', 0.2], ['范', 0.2], ['金', 0.2], ['石', 0.19], ['廖', 0.18], ['贾', 0.17], ['夏', 0.16],
  ['韦', 0.15], ['付', 0.15], ['方', 0.15], ['白', 0.14], ['邹', 0.14], ['孟', 0.14], ['熊', 0.13], ['秦', 0.13],
  ['邱', 0.13], ['江', 0.12], ['尹', 0.12], ['薛', 0.12], ['闫', 0.11], ['段', 0.11], ['雷', 0.11], ['侯', 0.1],
  ['龙', 0.1], ['史', 0.1], ['陶', 0.1], ['黎', 0.1], ['贺', 0.1], ['顾', 0.1], ['毛', 0.1], ['郝', 0.1],
  ['龚', 0.1], ['邵', 0.1], ['万', 0.1], ['钱', 0.1], ['严', 0.1], ['武', 0.09], ['戴', 0.09], ['孔', 0.08],
];

/** Characters common in given names (deduplicated at load). */
export const GIVEN_CHARS: readonly string[] = [
  ...new Set(
    ('伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超霞平刚桂兰玉萍红华建国文辉鹏飞宇浩然欣怡婷雪梅琳晶慧丹颖倩佳琪璐瑶悦萱涵' +
      '子轩博睿泽晨昊鑫宏志海波斌林峰亮成龙坤凯俊帅健凤春秋冬燕云彬立新永庆德福贵荣生山水金银安康宁恒毅诚信义忠良振兴' +
      '旭阳东晓光清荷莉薇蕾婧妍芸茜楠冰菲爽露月星彤琦珊雯嘉思雨诗梦一乐天航铭哲逸宸奕铁树胜利保贤淑兵桐涵若伊可心').split(''),
  ),
];

const PHONE_PREFIXES: readonly string[] = [
  ...['130', '131', '132', '133', '134', '135', '136', '137', '138', '139'],
  ...['150', '151', '152', '153', '155', '156', '157', '158', '159'],
  ...['180', '181', '182', '183', '184', '185', '186', '187', '188', '189'],
  ...['176', '177', '199'],
];

export function surname(rng: Rng): string {
  return rng.weighted(SURNAMES);
}

/** Surname plus a one- or two-character given name (two is the more common today). */
export function personName(rng: Rng): string {
  const family = surname(rng);
  const given = rng.chance(0.35) ? rng.pick(GIVEN_CHARS) : rng.pick(GIVEN_CHARS) + rng.pick(GIVEN_CHARS);
  return family + given;
}

/** "张某": how a reporting citizen is named in event texts. */
export function anonymisedPerson(rng: Rng): string {
  return surname(rng) + (rng.chance(0.7) ? '某' : '某某');
}

/** An 11-digit mainland mobile number. */
export function mobilePhone(rng: Rng): string {
  let rest = '';
  for (let i = 0; i < 8; i++) rest += String(rng.int(0, 9));
  return rng.pick(PHONE_PREFIXES) + rest;
}

// ---------------------------------------------------------------------------------------------------------------
// Fictional place names

const DISTRICT_ROOTS: readonly string[] = [
  '东城', '西湖', '南山', '北湖', '高新', '临江', '滨河', '青山', '明湖', '金水',
  '凤凰', '龙泉', '翠屏', '云台', '泰和', '柳湾', '锦川', '玉泉', '清河', '华阳',
];

const CITY_NAMES: readonly string[] = ['云湖市', '青川市', '临岳市', '安澜市', '江屏市', '泉阳市', '明川市', '嘉岭市'];

/** First and second characters of composed place names: "福源", "锦秀", "青溪". */
const PLACE_FIRST = '东西南北中青金玉龙凤福安和平泰康华兴文明新丰盛祥瑞锦春阳清泉湖山河江松柏桃梅兰竹桂荷柳云霞星宁嘉永长广德仁翠碧紫石林花月海天鸿宏恒佳乐顺吉利富民振'.split('');
const PLACE_SECOND = '园苑庄湾林岭坡桥泉湖山河源城台门坊营亭阁府峰溪塘洲滨港岗堤阳华兴安平康宁庭景秀馨盛欣悦丰和春晖光'.split('');

const VILLAGE_SUFFIXES: readonly string[] = ['家庄', '家坡', '家屯', '家洼', '家营', '庄', '营', '峪', '集', '店', '家寨'];
const URBAN_COMMUNITY_PATTERNS: ReadonlyArray<readonly [string, number]> = [
  ['{r}社区', 5], ['{r}苑社区', 2], ['{r}里社区', 1.5], ['{r}新村社区', 1], ['{r}花园社区', 1.5], ['{r}东社区', 0.5],
  ['{r}西社区', 0.5], ['{r}南社区', 0.5], ['{r}北社区', 0.5],
];

/** Keeps generated names unique within a scope (a parent unit, or the whole city). */
export class NameScope {
  private readonly used = new Set<string>();
  constructor(private readonly parent?: NameScope) {}

  has(name: string): boolean {
    return this.used.has(name) || (this.parent?.has(name) ?? false);
  }

  add(name: string): void {
    this.used.add(name);
    this.parent?.add(name);
  }

  /**
   * Draws names with make() until one is unused here (and in the parent); after many tries the parent is
   * ignored (unique within this scope only), and last a number is appended so this never fails.
   */
  unique(make: () => string): string {
    for (let i = 0; i < 40; i++) {
      const name = make();
      if (!this.has(name)) return this.claim(name);
    }
    for (let i = 0; i < 40; i++) {
      const name = make();
      if (!this.used.has(name)) return this.claim(name);
    }
    const base = make();
    for (let n = 2; ; n++) {
      const name = `${base}${n}`;
      if (!this.used.has(name)) return this.claim(name);
    }
  }

  private claim(name: string): string {
    this.add(name);
    return name;
  }
}

export function placeRoot(rng: Rng): string {
  const first = rng.pick(PLACE_FIRST);
  let second = rng.pick(PLACE_SECOND);
  while (second === first) second = rng.pick(PLACE_SECOND);
  return first + second;
}

export function cityName(rng: Rng): string {
  return rng.pick(CITY_NAMES);
}

/** Distinct district names ("临江区"); at most DISTRICT_ROOTS.length of them. */
export function districtNames(rng: Rng, count: number): string[] {
  if (count > DISTRICT_ROOTS.length) throw new Error(`districtNames: at most ${DISTRICT_ROOTS.length} districts`);
  return rng.shuffle([...DISTRICT_ROOTS]).slice(0, count).map((root) => `${root}区`);
}

/** A street-level unit: 街道 in the urban districts, 镇 in the outer (rural) ones. */
export function streetName(rng: Rng, rural: boolean): string {
  return placeRoot(rng) + (rural ? '镇' : '街道');
}

/** A community-level unit: 社区 in town, 村 in the country ("王家庄村"). */
export function communityName(rng: Rng, rural: boolean): string {
  if (rural) {
    return rng.chance(0.6) ? `${surname(rng)}${rng.pick(VILLAGE_SUFFIXES)}村` : `${placeRoot(rng)}村`;
  }
  return rng.weighted(URBAN_COMMUNITY_PATTERNS).replace('{r}', placeRoot(rng));
}

/** Major roads are 大道/路, minor ones 路/街/巷. */
export function roadName(rng: Rng, major: boolean): string {
  const suffix = major ? rng.weighted([['大道', 1], ['路', 3]] as const) : rng.weighted([['路', 3], ['街', 2], ['巷', 1]] as const);
  return placeRoot(rng) + suffix;
}

/** The name without its administrative suffix: "福源街道" → "福源" (for "福源派出所"). */
export function stripAdminSuffix(name: string): string {
  return name.replace(/(街道|镇|社区|村|区|市)$/, '');
}
