/**
 * The page apps' catalogs (网格通 renderer/src/field/messages.ts, the department page renderer/src/department/
 * messages.ts): zh-CN and en name the same keys with the same placeholders, and every message compiles; no field
 * template keeps a hard-coded Chinese text (every word goes through t(...)).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MESSAGES as FIELD } from '../../renderer/src/field/messages';
import { MESSAGES as DEPARTMENT } from '../../renderer/src/department/messages';
import { i18n as fieldI18n, statusName } from '../../renderer/src/field/i18n';
import { i18n as departmentI18n } from '../../renderer/src/department/i18n';

/** Every leaf of a catalog: its dotted key and its text. */
function leaves(tree: object, prefix = ''): [string, unknown][] {
  return Object.entries(tree).flatMap(([key, value]): [string, unknown][] =>
    value !== null && typeof value === 'object' ? leaves(value as object, `${prefix}${key}.`) : [[`${prefix}${key}`, value]],
  );
}
const placeholders = (text: string): string[] => [...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1]!).sort();

const CJK = /[\u3400-\u9fff\uf900-\ufaff]/;

/**
 * The Chinese characters of a Vue file's <template> outside t(...) calls and comments (the texts hard-coded there).
 * The top-level <template> is the one opening and closing at the start of a line.
 */
function hardCodedChinese(sfc: string): string[] {
  const template = /^<template>([\s\S]*)^<\/template>/m.exec(sfc)?.[1] ?? '';
  let rest = template.replace(/<!--[\s\S]*?-->/g, '');
  // Drop each t(...) call with its arguments, parentheses and quotes balanced.
  for (let at = rest.search(/(?<![\w$.])t\(/); at >= 0; at = rest.search(/(?<![\w$.])t\(/)) {
    let depth = 0;
    let quote = '';
    let end = at + 1;
    for (; end < rest.length; end++) {
      const c = rest[end]!;
      if (quote) {
        if (c === '\\') end++;
        else if (c === quote) quote = '';
      } else if (c === "'" || c === '"' || c === '`') quote = c;
      else if (c === '(') depth++;
      else if (c === ')' && --depth === 0) break;
    }
    rest = rest.slice(0, at) + rest.slice(end + 1);
  }
  return rest.split('\n').filter((line) => CJK.test(line)).map((line) => line.trim());
}

describe.each([
  ['field', FIELD, fieldI18n],
  ['department', DEPARTMENT, departmentI18n],
] as const)('the %s catalogs', (_, messages, i18n) => {
  const zh = leaves(messages['zh-CN']);
  const en = leaves(messages.en);

  it('name the same keys in zh-CN and en, each a non-empty text with the same placeholders', () => {
    expect(en.map(([key]) => key)).toEqual(zh.map(([key]) => key));
    const english = new Map(en);
    for (const [key, text] of zh) {
      expect(typeof text, key).toBe('string');
      expect((text as string).trim(), key).not.toBe('');
      expect(placeholders(english.get(key) as string), key).toEqual(placeholders(text as string));
    }
  });

  it('compile, every message in both languages (no stray @ or | that vue-i18n would read as syntax)', () => {
    const { t, locale } = i18n.global as unknown as { t: (key: string, values: Record<string, string>) => string; locale: { value: string } };
    try {
      for (const lang of ['zh-CN', 'en']) {
        locale.value = lang;
        for (const [key, text] of lang === 'en' ? en : zh) {
          const values = Object.fromEntries(placeholders(text as string).map((p) => [p, `<${p}>`]));
          expect(t(key, values), `${lang} ${key}`).toBe((text as string).replace(/\{(\w+)\}/g, '<$1>'));
        }
      }
    } finally {
      locale.value = 'zh-CN';
    }
  });
});

describe('网格通 speaks its language', () => {
  it("names a task's status in the staff member's words, else the console's, in the chosen language", () => {
    expect(statusName('dispatched')).toBe('已派遣，待签收');
    expect(statusName('closed')).toBe('已结案'); // the console's word
    expect(statusName('something-new')).toBe('something-new');
    fieldI18n.global.locale.value = 'en';
    try {
      expect(statusName('dispatched')).toBe('Dispatched, to sign for');
      expect(statusName('closed')).toBe('Closed');
    } finally {
      fieldI18n.global.locale.value = 'zh-CN';
    }
  });

  it('keeps no hard-coded Chinese in a field template (comments and t(...) aside)', () => {
    const dir = resolve(import.meta.dirname, '../../renderer/src/field');
    const files = readdirSync(dir).filter((f) => f.endsWith('.vue'));
    expect(files.length).toBeGreaterThanOrEqual(5);
    for (const file of files) expect(hardCodedChinese(readFileSync(join(dir, file), 'utf8')), file).toEqual([]);
  });

  it('the check finds a hard-coded text, and passes one in t(...) or a comment', () => {
    const sfc = (body: string): string => `<script setup lang="ts">\nconst a = '脚本里的字';\n</script>\n\n<template>\n  <div>\n${body}\n  </div>\n</template>\n`;
    expect(hardCodedChinese(sfc(`    <template v-if="x"><b>登录</b></template>`))).toEqual(['<template v-if="x"><b>登录</b></template>']);
    expect(hardCodedChinese(sfc(`    <input :placeholder="ok ? t('a.b') : '用户名'" />`))).toHaveLength(1);
    expect(hardCodedChinese(sfc(`    <!-- 说明 -->\n    <b>{{ t('a.b', { x: f('（', ')') }) }}</b>`))).toEqual([]);
  });
});
