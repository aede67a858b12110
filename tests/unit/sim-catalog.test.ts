import { describe, expect, it } from 'vitest';
import { EventSource, ResponsibilityRule } from '../../protocol/model';
import { CATEGORIES, DEPARTMENTS, categoryById, eventContent, pickCategory, pickSeverity, pickSource, rulesFromCatalog } from '../../backend/city-generator/catalog';
import { NameScope, communityName, mobilePhone, personName, roadName, streetName } from '../../backend/city-generator/names';
import { Rng } from '../../backend/city-generator/random';

const place = { districtName: '临江区', streetName: '福源街道', communityName: '锦秀社区', roadName: '青溪路' };

describe('event catalogue', () => {
  it('has ~20 well-formed categories routed to known departments', () => {
    expect(CATEGORIES.length).toBeGreaterThanOrEqual(18);
    expect(CATEGORIES.length).toBeLessThanOrEqual(24);
    expect(DEPARTMENTS.length).toBeGreaterThanOrEqual(12);
    const depts = new Set(DEPARTMENTS.map((d) => d.id));
    expect(new Set(CATEGORIES.map((c) => c.id)).size).toBe(CATEGORIES.length);
    expect(new Set(CATEGORIES.map((c) => c.name)).size).toBe(CATEGORIES.length);
    for (const c of CATEGORIES) {
      expect(c.id).toMatch(/^[a-z]+(-[a-z]+)*$/);
      expect(depts.has(c.departmentId)).toBe(true);
      expect(c.titles.length).toBeGreaterThanOrEqual(4);
      expect(c.titles.length).toBeLessThanOrEqual(8);
      expect(c.descriptions.length).toBeGreaterThanOrEqual(2);
      expect(c.descriptions.length).toBeLessThanOrEqual(4);
      expect(c.severity.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 6);
      expect(Object.keys(c.sources).sort()).toEqual([...EventSource.options].sort());
      expect(Object.values(c.sources).some((w) => w > 0)).toBe(true);
      expect(c.weight).toBeGreaterThan(0);
      // Realistic limits: accepted within an hour, handled within 5 days, each later step within a few days.
      expect(c.limits.report).toBeLessThanOrEqual(60);
      expect(c.limits.dispatch).toBeLessThanOrEqual(120);
      expect(c.limits.handle).toBeLessThanOrEqual(5 * 24 * 60);
      expect(c.limits.followup).toBeLessThanOrEqual(2 * 24 * 60);
    }
    // Urgent categories get shorter limits than ordinary ones.
    expect(categoryById('flood').limits.handle).toBeLessThan(categoryById('sanitation').limits.handle);
    expect(categoryById('fire-hazard').limits.report).toBeLessThan(categoryById('noise').limits.report);
    expect(() => categoryById('nope')).toThrow(/nope/);
  });

  it('rulesFromCatalog gives one valid rule per category', () => {
    const rules = rulesFromCatalog();
    expect(rules.map((r) => r.category)).toEqual(CATEGORIES.map((c) => c.id));
    for (const r of rules) ResponsibilityRule.parse(r);
    rules[0]!.limits.report = 1; // a copy: editing it leaves the catalogue alone
    expect(CATEGORIES[0]!.limits.report).not.toBe(1);
  });

  it('eventContent fills every placeholder and is deterministic', () => {
    const rng = new Rng('content');
    for (const c of CATEGORIES) {
      for (let i = 0; i < 30; i++) {
        const e = eventContent(rng, c, place);
        expect(e.title).not.toMatch(/[{}]|undefined/);
        expect(e.description).not.toMatch(/[{}]|undefined/);
        expect(e.address).toMatch(/^临江区福源街道锦秀社区青溪路\d+号$/);
      }
    }
    const a = eventContent(new Rng(1), 'fire-hazard', place);
    expect(eventContent(new Rng(1), 'fire-hazard', place)).toEqual(a);
    expect(a.title.length).toBeGreaterThan(5);
  });

  it('draws categories, sources and severities by their weights', () => {
    const rng = new Rng('draw');
    const flood = categoryById('flood');
    for (let i = 0; i < 500; i++) {
      expect(flood.sources[pickSource(rng, flood)]).toBeGreaterThan(0);
      expect(pickCategory(rng, 'sensor').sources.sensor).toBeGreaterThan(0);
      const s = pickSeverity(rng, categoryById('street-vending'));
      expect(s).toBeGreaterThanOrEqual(1);
      expect(s).toBeLessThanOrEqual(3); // its severity 4 has probability 0
    }
    const counts = new Map<string, number>();
    for (let i = 0; i < 5000; i++) {
      const c = pickCategory(rng).id;
      counts.set(c, (counts.get(c) ?? 0) + 1);
    }
    expect(counts.get('sanitation')!).toBeGreaterThan(counts.get('flood')! * 3);
    const video = new Map<string, number>();
    for (let i = 0; i < 3000; i++) {
      const c = pickCategory(rng, 'video-ai').id;
      video.set(c, (video.get(c) ?? 0) + 1);
    }
    expect(video.get('dispute-neighbour') ?? 0).toBe(0);
    expect(video.get('street-vending')!).toBeGreaterThan(video.get('noise') ?? 0);
  });
});

describe('names', () => {
  it('makes plausible Chinese names and mobile numbers', () => {
    const rng = new Rng('names');
    for (let i = 0; i < 300; i++) {
      expect(personName(rng)).toMatch(/^[\u4e00-\u9fff]{2,3}$/);
      expect(mobilePhone(rng)).toMatch(/^1(3\d|5[0-35-9]|8\d|7[67]|99)\d{8}$/);
      expect(streetName(rng, false)).toMatch(/街道$/);
      expect(streetName(rng, true)).toMatch(/镇$/);
      expect(communityName(rng, false)).toMatch(/社区$/);
      expect(communityName(rng, true)).toMatch(/村$/);
      expect(roadName(rng, true)).toMatch(/(大道|路)$/);
    }
  });

  it('NameScope never repeats a name, even when the generator runs out', () => {
    const rng = new Rng('scope');
    const scope = new NameScope();
    const names = Array.from({ length: 50 }, () => scope.unique(() => rng.pick(['甲', '乙'])));
    expect(new Set(names).size).toBe(50);
    const city = new NameScope();
    const a = new NameScope(city);
    const b = new NameScope(city);
    const first = a.unique(() => '同名');
    const second = b.unique(() => '同名'); // another parent scope: allowed to repeat only after trying
    expect(first).toBe('同名');
    expect(second).toBe('同名');
    expect(a.unique(() => '同名')).toBe('同名2');
  });
});
