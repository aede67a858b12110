/** `import population|places|persons`: the city's registers (人、地、事、物、组织), planned and written as cli.ts does the other tables. */
import { CityState } from '../../domain';
import type { Change, KeyPerson } from '../../protocol';
import type { RunningStore } from '../store/open';
import type { Crs } from './crs';
import { buildPersons } from './persons';
import { buildPlaces } from './places';
import { buildPopulation } from './population';
import type { TableReport } from './report';
import type { Table } from './table';
import { writeKeyPersons, writeTableImport } from './write';

export interface RegisterRun {
  dryRun: boolean;
  meta: { key: string; source: string };
  /** Prints the report; gives the exit code. */
  print(report: TableReport, seq: number | null): number;
  withStore(work: (store: RunningStore) => Promise<number>): Promise<number>;
}

export async function registerImport(what: 'population' | 'places' | 'persons', table: Table, source: { crs: Crs; file: string }, run: RegisterRun): Promise<number> {
  if (what === 'persons') {
    const plan = (state: CityState): { report: TableReport; rows: KeyPerson[] | null } => buildPersons(table, state, source.file);
    if (table.issues.some((i) => i.severity === 'error')) return run.print(plan(new CityState()).report, null);
    return run.withStore(async (store) => {
      const { report } = await writeKeyPersons(store, plan, { at: new Date(), dryRun: run.dryRun, source: source.file });
      return run.print(report, null);
    });
  }
  const plan = (state: CityState): { report: TableReport; changes: Change[] | null } => (what === 'population' ? buildPopulation(table, state, source.file) : buildPlaces(table, state, source.file, source.crs));
  // A file that cannot be read is refused before the database is opened (the builders stop at its issues).
  if (table.issues.some((i) => i.severity === 'error')) return run.print(plan(new CityState()).report, null);
  return run.withStore(async (store) => {
    const { report, seq } = await writeTableImport(store, plan, { at: new Date(), dryRun: run.dryRun, meta: run.meta });
    return run.print(report, seq);
  });
}
