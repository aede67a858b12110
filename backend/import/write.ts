/**
 * Writing an imported city into the store: one change batch through the store's write turn, like any commit
 * (a running instance on PostgreSQL reads it through its commit tail and sends it to its consoles). The file's
 * admin units and grids are upserted; the ones in the store and not in the file are removed.
 */
import { CityState, upsert } from '../../domain';
import type { Change, KeyPerson } from '../../protocol';
import type { RunningStore } from '../store/open';
import type { ImportedCity } from './build';

export class NoCityError extends Error {
  constructor() {
    super('the database holds no city yet: start the backend on it once (it sets the database up), then import');
  }
}

export interface WriteOutcome {
  seq: number;
  upserts: number;
  removes: number;
}

export async function writeImportedCity(store: RunningStore, city: ImportedCity, at: Date, source: string): Promise<WriteOutcome> {
  if (!(await store.getMeta('city'))) throw new NoCityError();
  const loaded = await store.load();
  const state = new CityState(loaded.state, loaded.seq);
  const outcome = await store.writeTurn(loaded.seq, async (turn) => {
    for (const batch of turn.missed) {
      state.apply(batch.changes);
      state.seq = batch.seq;
    }
    const changes: Change[] = [];
    const keepUnits = new Set(city.adminUnits.map((u) => u.id));
    const keepGrids = new Set(city.grids.map((g) => g.id));
    for (const id of state.collections.grids.keys()) if (!keepGrids.has(id)) changes.push({ op: 'remove', collection: 'grids', id });
    for (const id of state.collections.adminUnits.keys()) if (!keepUnits.has(id)) changes.push({ op: 'remove', collection: 'adminUnits', id });
    const removes = changes.length;
    for (const unit of city.adminUnits) changes.push(upsert('adminUnits', unit));
    for (const grid of city.grids) changes.push(upsert('grids', grid));
    const seq = state.seq + 1;
    await turn.commit({ seq, at: at.toISOString(), changes });
    return { seq, upserts: changes.length - removes, removes };
  });
  await store.setMeta('importedGrids', JSON.stringify({ source, at: at.toISOString(), seq: outcome.seq, grids: city.grids.length, adminUnits: city.adminUnits.length }));
  return outcome;
}

/**
 * A table import (staff, cameras): `plan` checks the file against the city as committed at the moment of writing
 * (inside the write turn, after what other instances committed) and gives the changes, or null when the file
 * has errors; then they are committed as one change batch — unless `dryRun`, or refused.
 */
export async function writeTableImport<R>(
  store: RunningStore,
  plan: (state: CityState) => { report: R; changes: Change[] | null },
  options: { at: Date; dryRun: boolean; meta: { key: string; source: string } },
): Promise<{ report: R; seq: number | null }> {
  if (!(await store.getMeta('city'))) throw new NoCityError();
  const loaded = await store.load();
  const state = new CityState(loaded.state, loaded.seq);
  if (options.dryRun) return { report: plan(state).report, seq: null };
  const outcome = await store.writeTurn(loaded.seq, async (turn) => {
    for (const batch of turn.missed) {
      state.apply(batch.changes);
      state.seq = batch.seq;
    }
    const { report, changes } = plan(state);
    if (!changes) return { report, seq: null };
    const seq = state.seq + 1;
    await turn.commit({ seq, at: options.at.toISOString(), changes });
    return { report, seq };
  });
  if (outcome.seq !== null) await store.setMeta(options.meta.key, JSON.stringify({ source: options.meta.source, at: options.at.toISOString(), seq: outcome.seq }));
  return outcome;
}

/**
 * The 重点人员 register (persons.ts): checked against the grids the store holds, then written in one transaction
 * of its own table — never a change batch, so nothing of it reaches the change log, snapshots or consoles.
 */
export async function writeKeyPersons<R>(
  store: RunningStore,
  plan: (state: CityState) => { report: R; rows: KeyPerson[] | null },
  options: { at: Date; dryRun: boolean; source: string },
): Promise<{ report: R; written: boolean }> {
  if (!(await store.getMeta('city'))) throw new NoCityError();
  const loaded = await store.load();
  const { report, rows } = plan(new CityState(loaded.state, loaded.seq));
  if (!rows || options.dryRun) return { report, written: false };
  await store.replaceKeyPersons(rows);
  await store.setMeta('importedPersons', JSON.stringify({ source: options.source, at: options.at.toISOString(), rows: rows.length }));
  return { report, written: true };
}
