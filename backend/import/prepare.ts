/**
 * One import, whoever runs it: the command line on a database (cli.ts), or a running backend asked over HTTP by
 * an administrator (http-route.ts). prepareImport reads and checks the files — a file that cannot be read is
 * refused before any database is touched — and gives `run`, which plans the import on the city as committed at
 * that moment and writes it through an ImportTarget (write.ts). The answer is the same either way: the
 * report(s), the outcome and the change batch's seq; formatAnswer gives its lines.
 */
import { basename } from 'node:path';
import { CityState, GridLocator } from '../../domain';
import type { Change, KeyPerson, LonLat } from '../../protocol';
import { scopeIssues } from '../users-cli';
import type { AuditEntry } from '../store/types';
import { buildCity, type ImportedCity } from './build';
import { buildCameras } from './cameras';
import type { Crs } from './crs';
import { planDepartments, type DepartmentFiles } from './departments';
import { applyParents } from './parents';
import { buildPersons } from './persons';
import { buildPlaces } from './places';
import { buildPopulation } from './population';
import { DEFAULT_MAX_BYTES, readGridFile } from './read';
import { errorsOf, formatReport, formatTableReport, type ImportIssue, type ImportReport, type TableReport } from './report';
import { buildStaff } from './roster';
import { DEFAULT_TABLE_MAX_BYTES, readTable, type Table } from './table';
import { gridChanges, resourceChanges, type ImportTarget } from './write';

export const IMPORT_KINDS = ['grids', 'staff', 'cameras', 'departments', 'rules', 'population', 'places', 'persons'] as const;
export type ImportKind = (typeof IMPORT_KINDS)[number];
export const isImportKind = (v: unknown): v is ImportKind => typeof v === 'string' && (IMPORT_KINDS as readonly string[]).includes(v);

export type Outcome = 'imported' | 'dry-run' | 'refused';
type Head = { outcome: Outcome; seq?: number };
export type ImportAnswer =
  | (Head & { what: 'grids'; report: ImportReport })
  | (Head & { what: 'departments' | 'rules'; reports: TableReport[] })
  | (Head & { what: 'staff' | 'cameras' | 'population' | 'places' | 'persons'; report: TableReport });

export interface ImportFiles {
  /** The file to import (its name, as the report shows it, is its basename). */
  file: string;
  /** departments: the 权责清单 too, written in the same batch. */
  rules?: string;
  /** grids: the districts', streets' and communities' boundaries. */
  parents?: string;
  /** The names the reports show, when not the paths' own (an upload is saved under names of the backend's). */
  names?: { file?: string; rules?: string; parents?: string };
}

export interface ImportOptions {
  crs?: Crs;
  codeProperty?: string;
  encoding?: string;
  streamTemplate?: string;
  playbackTemplate?: string;
  /** Per file; default 200 MB for grids, 50 MB for tables. */
  maxBytes?: number;
}

export interface PreparedImport {
  what: ImportKind;
  /** The files' names, for the audit and the meta record. */
  source: string;
  /** Refused on reading alone (nothing to write): the answer. */
  refused: ImportAnswer | null;
  /** The answer of a dry run when it needs no database (grids are checked on their own); else null. */
  dryRunAnswer: ImportAnswer | null;
  run(target: ImportTarget, options: { dryRun: boolean; at: Date }): Promise<ImportAnswer>;
}

const hasErrors = (reports: ReadonlyArray<{ issues: ReadonlyArray<{ severity: string }> }>): boolean => reports.some((r) => r.issues.some((i) => i.severity === 'error'));
const outcomeOf = (refused: boolean, dryRun: boolean): Outcome => (refused ? 'refused' : dryRun ? 'dry-run' : 'imported');
const withSeq = (seq: number | null): { seq?: number } => (seq !== null ? { seq } : {});

export const defaultMaxBytes = (what: ImportKind): number => (what === 'grids' ? DEFAULT_MAX_BYTES : DEFAULT_TABLE_MAX_BYTES);

/**
 * What reading and checking the files gave, before any database: plain data (a worker thread can hand it over,
 * read-worker.ts), all the slow work done — parsing, the geometry checks of the grids and their parents.
 */
export type ReadImport =
  | { what: 'grids'; source: string; report: ImportReport; city: ImportedCity | null }
  | { what: 'departments' | 'rules'; source: string; files: DepartmentFiles }
  | { what: 'staff' | 'cameras' | 'population' | 'places' | 'persons'; source: string; name: string; table: Table; crs: Crs; streamTemplate?: string; playbackTemplate?: string };

export async function readImport(what: ImportKind, files: ImportFiles, options: ImportOptions = {}): Promise<ReadImport> {
  const maxBytes = options.maxBytes ?? defaultMaxBytes(what);
  const crs: Crs = options.crs ?? 'wgs84';
  const readOptions = { maxBytes, ...(options.encoding ? { encoding: options.encoding } : {}) };
  const nameOf = (field: keyof ImportFiles & ('file' | 'rules' | 'parents')): string => files.names?.[field] ?? basename(files[field]!);
  const name = nameOf('file');
  const source = (['file', 'rules', 'parents'] as const).filter((f) => files[f] !== undefined).map(nameOf).join(' + ');

  if (what === 'grids') {
    const read = await readGridFile(files.file, readOptions);
    const built = buildCity(read, name, { crs, crsGiven: options.crs !== undefined, ...(options.codeProperty ? { codeProperty: options.codeProperty } : {}) });
    const { report } = built;
    let city = built.city;
    if (city && files.parents !== undefined) {
      // The parents' boundaries (same crs): each grid inside them, the admin units' polygons taken from them.
      const parents = applyParents(await readGridFile(files.parents, readOptions), nameOf('parents'), { crs }, city);
      report.issues.push(...parents.issues);
      city = parents.city;
    }
    return { what, source, report, city };
  }
  const table: Table = await readTable(files.file, readOptions);
  if (what === 'departments' || what === 'rules') {
    const first = { table, file: name };
    return { what, source, files: what === 'rules' ? { rules: first } : { departments: first, ...(files.rules !== undefined ? { rules: { table: await readTable(files.rules, readOptions), file: nameOf('rules') } } : {}) } };
  }
  return { what, source, name, table, crs, ...(options.streamTemplate ? { streamTemplate: options.streamTemplate } : {}), ...(options.playbackTemplate ? { playbackTemplate: options.playbackTemplate } : {}) };
}

export async function prepareImport(what: ImportKind, files: ImportFiles, options: ImportOptions = {}): Promise<PreparedImport> {
  return planImport(await readImport(what, files, options));
}

/** The import as read, ready to run on the city as committed at that moment. */
export function planImport(read: ReadImport): PreparedImport {
  const { what, source } = read;
  const meta = async (target: ImportTarget, at: Date, extra: Record<string, unknown>): Promise<void> =>
    target.setMeta(`imported${what[0]!.toUpperCase()}${what.slice(1)}`, JSON.stringify({ source, at: at.toISOString(), ...extra }));

  if (read.what === 'grids') {
    const { report, city: imported } = read;
    const refused: ImportAnswer | null = !imported || errorsOf(report).length > 0 ? { what: 'grids', outcome: 'refused', report } : null;
    return {
      what,
      source,
      refused,
      dryRunAnswer: refused ?? { what: 'grids', outcome: 'dry-run', report },
      async run(target, { dryRun, at }) {
        if (refused || !imported) return refused ?? { what: 'grids', outcome: 'refused', report };
        if (dryRun) return { what: 'grids', outcome: 'dry-run', report };
        let gone: string[] = [];
        const { seq } = await target.changes((state) => {
          const keep = new Set(imported.grids.map((g) => g.id));
          gone = [...state.collections.grids.keys()].filter((id) => !keep.has(id));
          const resources = resourceChanges(state, imported);
          if (resources.removed > 0 || resources.moved > 0)
            report.issues.push({
              severity: 'note',
              kind: 'resources',
              zh: `设施（派出所、对讲、传感器）不随文件导入：已按位置重新归入导入的网格 ${resources.moved} 个，不在任何导入网格内的 ${resources.removed} 个已移除`,
              en: `resources (police stations, intercoms, sensors) are not imported: ${resources.moved} placed again in the imported grids by their position, ${resources.removed} inside none of them removed`,
            });
          report.issues.push(...strayIssues(state, imported));
          return { report, changes: [...gridChanges(state, imported), ...resources.changes] };
        }, false);
        await meta(target, at, { seq, grids: imported.grids.length, adminUnits: imported.adminUnits.length });
        report.issues.push(...scopeIssues(await target.users(), imported.adminUnits));
        const orphaned = gone.length > 0 ? await target.keyPersonsIn(gone) : 0;
        if (orphaned > 0)
          report.issues.push({
            severity: 'warning',
            kind: 'stray',
            zh: `重点人员登记表中有 ${orphaned} 人所属的网格已不在导入的网格中（查不到）：请按新的网格编码重新导入登记表（import persons）`,
            en: `${orphaned} rows of the 重点人员 register name grids the import removed (they cannot be found): import the register again with the new grid codes (import persons)`,
          });
        return { what: 'grids', outcome: 'imported', report, ...withSeq(seq) };
      },
    };
  }

  if ('files' in read) {
    const kind = read.what;
    const plan = (state: CityState): { report: TableReport[]; changes: Change[] | null } => planDepartments(read.files, state);
    const unreadable = [read.files.departments, read.files.rules].some((f) => f?.table.issues.some((i) => i.severity === 'error'));
    const refused: ImportAnswer | null = unreadable ? { what: kind, outcome: 'refused', reports: plan(new CityState()).report } : null;
    return {
      what,
      source,
      refused,
      dryRunAnswer: refused,
      async run(target, { dryRun, at }) {
        if (refused) return refused;
        const { report, seq } = await target.changes(plan, dryRun);
        if (seq !== null) await meta(target, at, { seq });
        return { what: kind, outcome: outcomeOf(hasErrors(report), dryRun), reports: report, ...withSeq(seq) };
      },
    };
  }

  const { table: main, name, crs, streamTemplate: template, playbackTemplate } = read;
  if (read.what === 'persons') {
    const plan = (state: CityState): { report: TableReport; rows: KeyPerson[] | null } => buildPersons(main, state, name);
    const refused: ImportAnswer | null = hasErrors([main]) ? { what: 'persons', outcome: 'refused', report: plan(new CityState()).report } : null;
    return {
      what,
      source,
      refused,
      dryRunAnswer: refused,
      async run(target, { dryRun, at }) {
        if (refused) return refused;
        const { report, written } = await target.register(plan, dryRun);
        if (written) await meta(target, at, { rows: report.rows });
        return { what: 'persons', outcome: outcomeOf(hasErrors([report]), dryRun), report };
      },
    };
  }

  const kind = read.what;
  const plan = (state: CityState): { report: TableReport; changes: Change[] | null } => {
    if (kind === 'staff') return buildStaff(main, state, name, new Date());
    if (kind === 'cameras') return buildCameras(main, state, name, { crs, ...(template ? { streamTemplate: template } : {}), ...(playbackTemplate ? { playbackTemplate } : {}) });
    if (kind === 'population') return buildPopulation(main, state, name);
    return buildPlaces(main, state, name, crs);
  };
  // A file that cannot be read is refused before the database is opened (the builders stop at its issues).
  const refused: ImportAnswer | null = hasErrors([main]) ? { what: kind, outcome: 'refused', report: plan(new CityState()).report } : null;
  return {
    what,
    source,
    refused,
    dryRunAnswer: refused,
    async run(target, { dryRun, at }) {
      if (refused) return refused;
      const { report, seq } = await target.changes(plan, dryRun);
      if (seq !== null) await meta(target, at, { seq });
      return { what: kind, outcome: outcomeOf(hasErrors([report]), dryRun), report, ...withSeq(seq) };
    },
  };
}

/**
 * Staff and cameras the store holds that are not inside the imported grid they name (the generated city's, until
 * the city's own roster and camera list are imported): a warning each kind, with how many.
 */
function strayIssues(state: CityState, city: ImportedCity): ImportIssue[] {
  const locator = new GridLocator(city.grids);
  const stray = (rows: Iterable<{ gridId: string; position: LonLat | null }>): number => [...rows].filter((r) => !r.position || locator.at(r.position)?.id !== r.gridId).length;
  const issues: ImportIssue[] = [];
  const staff = stray(state.collections.staff.values());
  const cameras = stray(state.collections.cameras.values());
  if (staff > 0) issues.push({ severity: 'warning', kind: 'stray', zh: `${staff} 名网格员不在所属的导入网格内（生成城市的名册）：请导入本市的网格员名册（import staff）`, en: `${staff} staff are not inside the imported grid they belong to (the generated roster): import the city's roster (import staff)` });
  if (cameras > 0) issues.push({ severity: 'warning', kind: 'stray', zh: `${cameras} 个摄像头不在所属的导入网格内（生成城市的点位）：请导入本市的摄像头清单（import cameras）`, en: `${cameras} cameras are not inside the imported grid they name (the generated ones): import the city's camera list (import cameras)` });
  return issues;
}

/** The answer as the report's lines (what the command line prints, whichever way it imported). */
export function formatAnswer(answer: ImportAnswer): string[] {
  if (answer.what === 'grids') return formatReport(answer.report, answer.outcome, answer.seq);
  if ('reports' in answer) return answer.reports.flatMap((r) => formatTableReport(r, answer.outcome, answer.seq));
  return formatTableReport(answer.report, answer.outcome, answer.seq);
}

/** How many errors and warnings the answer's reports hold (for the audit). */
export function tally(answer: ImportAnswer): { errors: number; warnings: number } {
  const reports: ReadonlyArray<{ issues: ReadonlyArray<{ severity: string }> }> = 'reports' in answer ? answer.reports : [answer.report];
  const count = (severity: string): number => reports.reduce((n, r) => n + r.issues.filter((i) => i.severity === severity).length, 0);
  return { errors: count('error'), warnings: count('warning') };
}

/** The audit line of an import, whoever ran it and however it ended (refusals and dry runs too). */
export function importAudit(answer: ImportAnswer, source: string, by: { userId: string | null; via: 'command line' | 'http' }): AuditEntry {
  return { at: new Date().toISOString(), userId: by.userId, kind: 'import', detail: { what: answer.what, source, via: by.via, outcome: answer.outcome, ...(answer.seq !== undefined ? { seq: answer.seq } : {}), ...tally(answer) } };
}
