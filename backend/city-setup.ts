/**
 * The generated city in the backend: seeded into a fresh store with its history run through the real command
 * handlers, the users and the city an instance finds or makes before it serves, how points find their grid,
 * readable event ids, and which cameras offer WebRTC: startBackend's set-up, kept apart from its services.
 */
import { randomBytes } from 'node:crypto';
import { OWN_PLAYBACK_TEMPLATE, VIDEO_PATH_PREFIX, type Camera, type Change, type CollectionName, type CollectionTypes, type LonLat, type Plan } from '../protocol';
import { CityState, CommandError, GridLocator, defaultPlans, executeCommand, upsert, type Actor } from '../domain';
import type { RunningStore } from './store/open';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Logger } from '../node-util/logger';
import { generateCity, type City } from './city-generator/city';
import { ensureUsers } from './users';
import type { BackendConfig } from './index';
import { whepPath } from './video/webrtc-streams';
import { SimulationEngine, type ApplyCommand } from './live-simulator/engine';
import { commandPeople } from './live-simulator/people';

/** Event ids people can read out on the phone: E + local date + 5-digit counter (E2026112200042). */
export function eventIdFactory(state: CityState, clock: () => number): (kind: 'event' | 'cohandle' | 'handover' | 'extension') => string {
  const counters = new Map<string, number>();
  for (const id of state.collections.events.keys()) {
    const m = /^E(\d{8})(\d{5})$/.exec(id);
    if (m) counters.set(m[1]!, Math.max(counters.get(m[1]!) ?? 0, Number(m[2])));
  }
  let other = 0;
  // Instances of one city make these at the same moment: a tag of this process keeps their ids apart.
  const tag = randomBytes(3).toString('hex');
  return (kind) => {
    const day = new Date(clock() + 8 * 3_600_000).toISOString().slice(0, 10).replaceAll('-', '');
    if (kind !== 'event') return `${kind === 'cohandle' ? 'CH' : kind === 'extension' ? 'EX' : 'HO'}${day}${Date.now().toString(36)}${tag}${(other++).toString(36)}`;
    for (;;) {
      const next = (counters.get(day) ?? 0) + 1;
      counters.set(day, next);
      const id = `E${day}${String(next).padStart(5, '0')}`;
      if (!state.collections.events.has(id)) return id;
    }
  };
}

/**
 * Where a point is, from the grids the city holds now — generated or imported (`import grids`) — with the
 * address from its admin units' names; the index is rebuilt when grids or admin units change.
 */
export function stateLocator(state: CityState): (location: LonLat) => { gridId: string; districtId: string; address: string } | null {
  let built = '';
  let grids = new GridLocator([]);
  return (location) => {
    const version = `${state.versions.grids}:${state.versions.adminUnits}:${state.collections.grids.size}`;
    if (version !== built) {
      grids = new GridLocator(state.all('grids'));
      built = version;
    }
    const grid = grids.at(location);
    if (!grid) return null;
    const name = (id: string): string => state.get('adminUnits', id)?.name ?? '';
    return { gridId: grid.id, districtId: grid.districtId, address: `${name(grid.districtId)}${name(grid.streetId)}${name(grid.communityId)}` };
  };
}

/** Where a point is in the generated city (its lattice): the history backfill, before the city is in a store. */
export function locator(city: City): (location: LonLat) => { gridId: string; districtId: string; address: string } | null {
  return ([lon, lat]) => {
    const index = city.gridIndexOf(lon, lat);
    if (index === null) return null;
    const grid = city.grids[index]!;
    const place = city.placeOfGrid(index);
    return { gridId: grid.id, districtId: grid.districtId, address: `${place.districtName}${place.streetName}${place.communityName}` };
  };
}

/**
 * The built-in plans a city starts with, fitted to its 权责清单: a category the city has no rule for (an imported
 * list) is left out — plan.save would refuse it and the editor could not untick it — and a special plan left with
 * no category is not seeded (it would be a second general plan). Plans the store holds already are kept as they
 * are: one with the same id, the general plan, or a category a stored plan answers is not seeded again.
 */
export function seedablePlans(hasRule: (category: string) => boolean, at: string, stored: readonly Plan[] = []): Plan[] {
  const answered = new Set(stored.flatMap((plan) => plan.categories));
  const hasGeneral = stored.some((plan) => plan.categories.length === 0);
  const plans: Plan[] = [];
  for (const plan of defaultPlans(at)) {
    if (stored.some((x) => x.id === plan.id) || (plan.categories.length === 0 && hasGeneral)) continue;
    const categories = plan.categories.filter((category) => hasRule(category) && !answered.has(category));
    if (plan.categories.length > 0 && categories.length === 0) continue;
    plans.push({ ...plan, categories });
  }
  return plans;
}

export async function seedCity(store: RunningStore, city: City, at: string): Promise<void> {
  const put = async <C extends CollectionName>(collection: C, items: Iterable<CollectionTypes[C]>): Promise<void> => store.seedEntities(collection, items);
  await put('adminUnits', city.adminUnits);
  await put('grids', city.grids);
  await put('departments', city.departments);
  await put('rules', city.rules.map((r) => ({ ...r, id: r.category })));
  await put('staff', city.staff);
  await put('cameras', city.cameras);
  await put('resources', city.resources);
  await put('commandLevel', [{ id: 'current', level: 'daily', since: at, by: '系统', reason: '系统初始化：日常全域覆盖', incidentId: null, planTitle: '', planId: null, plan: [] }]);
  const rules = new Set(city.rules.map((r) => r.category));
  await put('plans', seedablePlans((category) => rules.has(category), at));
}

/** Commits the built-in plans (fitted to the stored 权责清单) to a city that has a change log: one batch, in the write turn. */
async function seedPlansInto(store: RunningStore): Promise<void> {
  const loaded = await store.load();
  const state = new CityState(loaded.state, loaded.seq);
  await store.writeTurn(loaded.seq, async (turn) => {
    for (const batch of turn.missed) {
      state.apply(batch.changes);
      state.seq = batch.seq;
    }
    const at = new Date().toISOString();
    const plans = seedablePlans((category) => state.get('rules', category) !== undefined, at, [...state.all('plans')]);
    if (plans.length > 0) await turn.commit({ seq: state.seq + 1, at, changes: plans.map((plan) => upsert('plans', plan)) });
  });
}

/** Runs `days` of city life through the real command handlers on an in-memory state (no seqs, no deltas). */
export async function backfillHistory(state: CityState, city: City, seed: number, fromMs: number, toMs: number): Promise<{ applied: number; refused: number }> {
  const nextId = eventIdFactory(state, () => currentMs);
  let currentMs = fromMs;
  const locate = locator(city);
  const apply: ApplyCommand = async (actor: Actor, type, payload, atMs) => {
    currentMs = atMs;
    try {
      const outcome = executeCommand({ state, actor, now: new Date(atMs), newId: nextId, locate }, type, payload);
      state.apply(outcome.changes);
      return { ok: true, result: outcome.result };
    } catch (e) {
      if (e instanceof CommandError) return { ok: false, reason: e.message };
      throw e;
    }
  };
  // Staff, departments and platforms act as the routes would run them (live-simulator/people.ts).
  const engine = new SimulationEngine({ city, state, seed: `history:${seed}`, apply, people: commandPeople(state, apply) });
  engine.adoptOpenEvents(fromMs);
  // Hour by hour so staff duty follows the clock and overdue events get supervised as they would live.
  for (let t = fromMs; t < toMs; t += 3_600_000) {
    const until = Math.min(toMs, t + 3_600_000);
    const { changes } = engine.moveStaff(until, 3_600_000);
    state.apply(changes);
    await engine.advance(until);
    await engine.superviseOverdue(until, 50);
  }
  return { applied: engine.actionsApplied, refused: engine.actionsRefused };
}

/**
 * Camera records changed so that their own WebRTC stream is listed first when served, and absent when not; and,
 * with `recorded`, the backend's own cameras (their streams are its test pictures) name its recordings as their
 * playback (复盘回放), taken away again when this backend does not record.
 */
export function advertiseWebRtc(state: CityState, served: boolean, recorded = false): Change[] {
  const changes: Change[] = [];
  for (const original of state.all('cameras')) {
    const { playback, ...rest } = original;
    const recordedHere = recorded && original.streams.some((s) => s.url.startsWith(VIDEO_PATH_PREFIX));
    const codec265 = original.streams.length > 0 && original.streams.every((s) => s.codec === 'h265');
    // A platform's playback (imported) stays; the backend's own is set or taken away.
    const camera: Camera = recordedHere ? { ...rest, playback: { kind: 'hls-range', urlTemplate: OWN_PLAYBACK_TEMPLATE, codec: codec265 ? 'h265' : 'h264' } } : playback?.urlTemplate === OWN_PLAYBACK_TEMPLATE ? rest : original;
    const own = whepPath(camera.id);
    const others = camera.streams.filter((s) => !(s.protocol === 'webrtc' && s.url === own));
    // Browsers' WebRTC has no H.265: an H.265-only camera keeps its other streams (and its clear message).
    const codec = camera.streams.find((s) => s.codec === 'h264')?.codec;
    const streams = served && codec ? [{ protocol: 'webrtc' as const, url: own, codec, offer: 'server' as const }, ...others] : others;
    if (JSON.stringify({ ...camera, streams }) !== JSON.stringify(original)) changes.push(upsert('cameras', { ...camera, streams }));
  }
  return changes;
}

/**
 * What an instance finds or makes before it serves (run under the store's set-up lock): the users and their
 * tokens, then the city — generated from the parameters the database holds, or, on a fresh database, from the
 * configuration and seeded with its history run through the real command handlers.
 */
export async function setUpCity(
  store: RunningStore,
  config: BackendConfig,
  log: Logger,
): Promise<{ tokens: Record<string, string>; storedCity: string | null; cityParams: { seed: number; scale: number; staffPerGrid: number }; city: City }> {
  // Users first: a tokens file that cannot be used stops the start before anything is written.
  const tokensFile = config.tokensFile === undefined ? join(dirname(config.dbFile), 'tokens.json') : config.tokensFile;
  if (tokensFile) mkdirSync(dirname(tokensFile), { recursive: true });
  const tokens = await ensureUsers(store, tokensFile, config.tokens, config.rotateTokens === true, config.databaseUrl !== undefined);
  const storedCity = await store.getMeta('city');
  const cityParams = storedCity
    ? (JSON.parse(storedCity) as { seed: number; scale: number; staffPerGrid: number })
    : { seed: config.seed ?? 1, scale: config.scale ?? 1, staffPerGrid: config.staffPerGrid ?? 3 };
  if (storedCity && (config.seed !== undefined || config.scale !== undefined) && (config.seed !== cityParams.seed || (config.scale ?? 1) !== cityParams.scale)) {
    log.warn('database already holds a city; ignoring --seed/--scale', { stored: cityParams });
  }
  const started = performance.now();
  const city = generateCity({ seed: cityParams.seed, scale: cityParams.scale, staffPerGrid: cityParams.staffPerGrid, epoch: new Date().toISOString() });
  log.info('city generated', { grids: city.grids.length, staff: city.staff.length, cameras: city.cameras.length, buildings: city.buildings.count, ms: Math.round(performance.now() - started) });

  if (storedCity && config.startAtMs !== undefined) log.warn('database already has a clock; ignoring the start time');
  if (!storedCity) {
    const now = config.startAtMs ?? Date.now();
    await seedCity(store, city, new Date(now).toISOString());
    const days = config.historyDays ?? 30;
    if (days > 0) {
      const { state } = await store.load();
      const history = new CityState(state);
      const t0 = performance.now();
      const counts = await backfillHistory(history, city, cityParams.seed, now - days * 86_400_000, now);
      await store.seedEntities('events', history.all('events'));
      await store.seedEntities('timeline', history.all('timeline'));
      await store.seedEntities('staff', history.all('staff'));
      log.info('history generated', { days, events: history.collections.events.size, ...counts, ms: Math.round(performance.now() - t0) });
    }
    await store.setMeta('city', JSON.stringify(cityParams));
    await store.setMeta('plans', 'seeded');
  } else if ((await store.getMeta('plans')) === null) {
    // A city made before plans were records: its first start with them seeds the built-in ones, once, as a
    // sequenced batch so that consoles resuming by deltas get them.
    await seedPlansInto(store);
    await store.setMeta('plans', 'seeded');
  }
  return { tokens, storedCity, cityParams, city };
}
