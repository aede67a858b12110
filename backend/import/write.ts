/**
 * Where a checked import is written: an ImportTarget plans it on the city as committed at that moment and writes
 * it as one change batch through the store's write turn, like any commit. Two targets: the store itself (the
 * command line on a database: a running instance on PostgreSQL reads the batch through its commit tail), and a
 * running backend's command pipeline (an administrator's import over HTTP, http-route.ts: its consoles get the
 * batch at once). The 重点人员 register is the exception: its own table, never a change batch.
 */
import { CityState, GridLocator, upsert } from '../../domain';
import type { Change, KeyPerson } from '../../protocol';
import type { RunningStore } from '../store/open';
import type { UserRecord } from '../store/types';
import type { ImportedCity } from './build';

export class NoCityError extends Error {
  constructor() {
    super('the database holds no city yet: start the backend on it once (it sets the database up), then import');
  }
}

export type ChangePlan<R> = (state: CityState) => { report: R; changes: Change[] | null };
export type RegisterPlan<R> = (state: CityState) => { report: R; rows: KeyPerson[] | null };

export interface ImportTarget {
  /** Plans on the city as committed now; commits the changes as one batch unless they are null or it is a dry run. */
  changes<R>(plan: ChangePlan<R>, dryRun: boolean): Promise<{ report: R; seq: number | null }>;
  /** Plans the 重点人员 register on the city as committed now; replaces it in one transaction of its own table. */
  register<R>(plan: RegisterPlan<R>, dryRun: boolean): Promise<{ report: R; written: boolean }>;
  users(): Promise<UserRecord[]>;
  setMeta(key: string, value: string): Promise<void>;
  /** How many rows of the 重点人员 register name these grids. */
  keyPersonsIn(gridIds: string[]): Promise<number>;
}

/**
 * The changes that make the store's admin units and grids the file's: the file's upserted, the ones in the store
 * and not in the file removed.
 */
export function gridChanges(state: CityState, city: ImportedCity): Change[] {
  const changes: Change[] = [];
  const keepUnits = new Set(city.adminUnits.map((u) => u.id));
  const keepGrids = new Set(city.grids.map((g) => g.id));
  for (const id of state.collections.grids.keys()) if (!keepGrids.has(id)) changes.push({ op: 'remove', collection: 'grids', id });
  for (const id of state.collections.adminUnits.keys()) if (!keepUnits.has(id)) changes.push({ op: 'remove', collection: 'adminUnits', id });
  for (const unit of city.adminUnits) changes.push(upsert('adminUnits', unit));
  for (const grid of city.grids) changes.push(upsert('grids', grid));
  return changes;
}

/**
 * The resources (police stations, intercoms, sensors) are not imported: the ones the store holds are placed again
 * by their position in the imported grids, and those inside none (the generated city's, elsewhere) removed.
 */
export function resourceChanges(state: CityState, city: ImportedCity): { changes: Change[]; moved: number; removed: number } {
  const locator = new GridLocator(city.grids);
  const changes: Change[] = [];
  let moved = 0;
  for (const resource of state.collections.resources.values()) {
    const grid = locator.at(resource.position);
    if (!grid) changes.push({ op: 'remove', collection: 'resources', id: resource.id });
    else if (grid.id !== resource.gridId || grid.districtId !== resource.districtId) {
      changes.push(upsert('resources', { ...resource, gridId: grid.id, districtId: grid.districtId }));
      moved++;
    }
  }
  return { changes, moved, removed: changes.length - moved };
}

/** The command line's target: the database itself (a dry run reads it; the write is checked again in the turn). */
export function storeTarget(store: RunningStore, at: () => Date = () => new Date()): ImportTarget {
  const loadCity = async (): Promise<{ state: CityState; seq: number }> => {
    if (!(await store.getMeta('city'))) throw new NoCityError();
    const loaded = await store.load();
    return { state: new CityState(loaded.state, loaded.seq), seq: loaded.seq };
  };
  return {
    async changes(plan, dryRun) {
      const { state, seq: known } = await loadCity();
      if (dryRun) return { report: plan(state).report, seq: null };
      return store.writeTurn(known, async (turn) => {
        for (const batch of turn.missed) {
          state.apply(batch.changes);
          state.seq = batch.seq;
        }
        const { report, changes } = plan(state);
        if (!changes) return { report, seq: null };
        const seq = state.seq + 1;
        await turn.commit({ seq, at: at().toISOString(), changes });
        return { report, seq };
      });
    },
    // In the write turn too: checked against the grids as committed, one register replace at a time across
    // instances and command lines.
    async register(plan, dryRun) {
      const { state, seq: known } = await loadCity();
      if (dryRun) return { report: plan(state).report, written: false };
      return store.writeTurn(known, async (turn) => {
        for (const batch of turn.missed) {
          state.apply(batch.changes);
          state.seq = batch.seq;
        }
        const { report, rows } = plan(state);
        if (!rows) return { report, written: false };
        await store.replaceKeyPersons(rows);
        return { report, written: true };
      });
    },
    keyPersonsIn: async (gridIds) => (await store.keyPersonsIn(gridIds)).length,
    users: () => store.listUsers(),
    setMeta: (key, value) => store.setMeta(key, value),
  };
}
