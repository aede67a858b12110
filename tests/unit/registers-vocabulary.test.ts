import { describe, expect, it } from 'vitest';
import { KEY_PERSON_CATEGORY_LABELS, KeyPersonCategory, PLACE_KIND_LABELS, PlaceKind } from '../../protocol';
import zh from '../../renderer/src/i18n/zh-CN';
import en from '../../renderer/src/i18n/en';

describe('register vocabularies', () => {
  it('the console labels are the protocol labels, every kind and category in both languages', () => {
    for (const k of PlaceKind.options) expect([zh.registers.placeKinds[k], en.registers.placeKinds[k]]).toEqual([PLACE_KIND_LABELS[k].zh, PLACE_KIND_LABELS[k].en]);
    for (const c of KeyPersonCategory.options) expect([zh.registers.keyPersonCategories[c], en.registers.keyPersonCategories[c]]).toEqual([KEY_PERSON_CATEGORY_LABELS[c].zh, KEY_PERSON_CATEGORY_LABELS[c].en]);
    expect(Object.keys(zh.registers.placeKinds).sort()).toEqual([...PlaceKind.options].sort());
    expect(Object.keys(zh.registers.keyPersonCategories).sort()).toEqual([...KeyPersonCategory.options].sort());
  });
});
