/**
 * `npm run backend -- import grids|staff|cameras|departments|rules <file> [options]`: reads a real city's grids
 * (GeoJSON or Shapefile), staff roster, camera list, departments or 权责清单 (CSV or XLSX), checks them, prints the report, and when the file is
 * clean writes its records into the store as one change batch. A file with any error changes nothing.
 */
import { existsSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { parseCli } from '../../node-util/cli';
import { describeRefusal } from '../../node-util/backend-refusal';
import { isDatabaseUrl, openStore } from '../store/open';
import { CityState } from '../../domain';
import type { Change } from '../../protocol';
import { buildCity } from './build';
import { CRS_NAMES, isCrs } from './crs';
import { DEFAULT_MAX_BYTES, readGridFile } from './read';
import { errorsOf, formatReport, formatTableReport, type TableReport } from './report';
import { NoCityError, writeImportedCity, writeTableImport } from './write';
import { DEFAULT_TABLE_MAX_BYTES, readTable, type Table } from './table';
import { planDepartments, type DepartmentFiles } from './departments';
import { buildStaff } from './roster';
import { buildCameras } from './cameras';
import { registerImport } from './register-cli';
import { scopeIssues } from '../users-cli';
import { applyParents } from './parents';

export const IMPORT_EXIT = { imported: 0, other: 1, usage: 2, database: 3, fileErrors: 4 } as const;

export const importUsage = `usage: backend import grids <file.geojson|file.shp> [--parents <boundaries.geojson|.shp>] [--crs wgs84|cgcs2000|gcj02|bd09] [--code-property NAME] [--encoding E] [--max-mb N] [--db FILE|URL] [--dry-run] [--json]
       backend import staff <roster.csv|roster.xlsx> [--encoding E] [--max-mb N] [--db FILE|URL] [--dry-run] [--json]
       backend import cameras <cameras.csv|cameras.xlsx> [--crs C] [--stream-template URL] [--encoding E] [--max-mb N] [--db FILE|URL] [--dry-run] [--json]
       backend import departments <departments.csv|.xlsx> [--rules <rules.csv|.xlsx>] [--encoding E] [--max-mb N] [--db FILE|URL] [--dry-run] [--json]
       backend import rules <rules.csv|rules.xlsx> [--encoding E] [--max-mb N] [--db FILE|URL] [--dry-run] [--json]
       backend import population <population.csv|.xlsx> [--encoding E] [--max-mb N] [--db FILE|URL] [--dry-run] [--json]
       backend import places <places.csv|.xlsx> [--crs C] [--encoding E] [--max-mb N] [--db FILE|URL] [--dry-run] [--json]
       backend import persons <persons.csv|.xlsx> [--encoding E] [--max-mb N] [--db FILE|URL] [--dry-run] [--json]
  <file>            a GeoJSON FeatureCollection of Polygon/MultiPolygon grids, or a Shapefile (.shp with its .dbf;
                    .cpg and .prj read when present)
  --parents FILE    grids: the districts', streets' and communities' boundaries (same --crs; code property 编码,
                    区划代码, XZQDM, code…: 6/9/12 digits): each grid must lie inside them (≤ 1% outside), and the
                    admin units take their polygons from it
  --crs C           the file's coordinates: wgs84 or cgcs2000 (taken as is; default wgs84), gcj02 (Gaode/Tencent)
                    or bd09 (Baidu), converted to WGS84
  population        网格编码, 户数, 人口 per grid: updates those grids (the others keep theirs)
  places            编码, 名称, 类别, 地址, 经度, 纬度, 联系人, 联系电话, 备注: the city's places and organisations
  persons           姓名, 公民身份号码, 类别, 网格编码, 地址, 联系电话, 关注等级, 备注: the 重点人员 register (kept
                    in the store only, never replicated; the report masks ID numbers and phones)
  --code-property NAME  the property holding the 15-digit 网格编码 (default: 网格编码, WGBM, GRID_CODE, grid_code,
                    gridCode, code or CODE, the first present)
  --encoding E      the .dbf's text encoding when there is no .cpg (default utf-8; e.g. gbk); a CSV's encoding when
                    it is neither UTF-8 nor GB18030/GBK (detected otherwise)
  --stream-template URL  cameras: the stream URL for rows without one, {id} replaced by the camera's id
                    (e.g. 'https://vms.example/live/{id}.flv')
  --rules FILE      departments: the 权责清单 too, checked against the file's departments and written in the same
                    change batch (replacing the departments and the rules together)
  --max-mb N        refuse a larger file before reading it (default ${DEFAULT_MAX_BYTES / 1024 / 1024} for grids, ${DEFAULT_TABLE_MAX_BYTES / 1024 / 1024} for tables)
  --db FILE|URL     the backend's database (default ./data/backend.sqlite, or ZONGZHI_DATABASE_URL); it must hold a
                    city already (start the backend on it once)
  --dry-run         check and report only
  --json            print the report as one JSON object instead of lines
exit codes: 0 imported (or a clean dry run), 4 the file has errors (nothing written), 2 bad usage,
3 the database needs a person (one line says what), 1 other failures`;

export async function importMain(argv: string[]): Promise<number> {
  const cli = parseCli(
    {
      crs: { type: 'string' },
      'code-property': { type: 'string' },
      encoding: { type: 'string' },
      'stream-template': { type: 'string' },
      rules: { type: 'string' },
      parents: { type: 'string' },
      'max-mb': { type: 'string' },
      db: { type: 'string' },
      'dry-run': { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
    },
    importUsage,
    argv,
    true,
  );
  const fail: (message: string) => never = cli.fail;
  const { values } = cli;
  const [what, file, ...rest] = cli.positionals;
  const kinds = ['grids', 'staff', 'cameras', 'departments', 'rules', 'population', 'places', 'persons'];
  if (what === undefined || !kinds.includes(what)) fail(what === undefined ? 'import what? (grids, staff, cameras, departments, rules, population, places or persons)' : `cannot import ${JSON.stringify(what)}: grids, staff, cameras, departments, rules, population, places or persons`);
  if (file === undefined || rest.length > 0) fail(`import ${what} takes one file`);
  if (!existsSync(file)) fail(`${file}: no such file`);
  if (values.crs !== undefined && !isCrs(values.crs)) fail(`--crs must be one of ${CRS_NAMES.join(', ')}`);
  if (values.crs !== undefined && what !== 'grids' && what !== 'cameras' && what !== 'places') fail('--crs is for grids, cameras and places');
  if (values.rules !== undefined && what !== 'departments') fail('--rules is for departments (import rules takes its file alone)');
  if (values.rules !== undefined && !existsSync(values.rules)) fail(`${values.rules}: no such file`);
  if (values['stream-template'] !== undefined && what !== 'cameras') fail('--stream-template is for cameras');
  if (values['stream-template'] !== undefined && !values['stream-template'].includes('{id}')) fail('--stream-template must hold {id}');
  if (values['code-property'] !== undefined && what !== 'grids') fail('--code-property is for grids');
  if (values.parents !== undefined && what !== 'grids') fail('--parents is for grids');
  if (values.parents !== undefined && !existsSync(values.parents)) fail(`${values.parents}: no such file`);
  const maxMb = values['max-mb'] === undefined ? (what === 'grids' ? DEFAULT_MAX_BYTES : DEFAULT_TABLE_MAX_BYTES) / 1024 / 1024 : Number(values['max-mb']);
  if (!(maxMb > 0 && maxMb <= 4096)) fail('--max-mb must be a number of megabytes, 0 < N ≤ 4096');
  if (values['code-property'] !== undefined && values['code-property'].trim() === '') fail('--code-property must name a property');

  if (what === 'departments' || what === 'rules') {
    const read = (f: string): Promise<Table> => readTable(f, { maxBytes: Math.floor(maxMb * 1024 * 1024), ...(values.encoding ? { encoding: values.encoding } : {}) });
    const first = { table: await read(file), file: basename(file) };
    const files: DepartmentFiles = what === 'rules' ? { rules: first } : { departments: first, ...(values.rules !== undefined ? { rules: { table: await read(values.rules), file: basename(values.rules) } } : {}) };
    const options = { db: values.db, dryRun: values['dry-run'], json: values.json, meta: { key: what === 'rules' ? 'importedRules' : 'importedDepartments', source: [file, values.rules].filter((f) => f !== undefined).map((f) => basename(f)).join(' + ') } };
    const plan = (state: CityState): { report: TableReport[]; changes: Change[] | null } => planDepartments(files, state);
    if ([files.departments, files.rules].some((f) => f?.table.issues.some((i) => i.severity === 'error'))) return printTables(plan(new CityState()).report, null, options);
    return withStore(options.db, async (store) => {
      const { report, seq } = await writeTableImport(store, plan, { at: new Date(), dryRun: options.dryRun, meta: options.meta });
      return printTables(report, seq, options);
    });
  }

  if (what === 'population' || what === 'places' || what === 'persons') {
    const table = await readTable(file, { maxBytes: Math.floor(maxMb * 1024 * 1024), ...(values.encoding ? { encoding: values.encoding } : {}) });
    const crs = values.crs !== undefined && isCrs(values.crs) ? values.crs : 'wgs84';
    const options = { db: values.db, dryRun: values['dry-run'], json: values.json, meta: { key: `imported${what[0]!.toUpperCase()}${what.slice(1)}`, source: basename(file) } };
    return registerImport(what, table, { crs, file: basename(file) }, { print: (report, seq) => printTable(report, seq, options), withStore: (work) => withStore(options.db, work), ...options });
  }

  if (what !== 'grids') {
    const table = await readTable(file, { maxBytes: Math.floor(maxMb * 1024 * 1024), ...(values.encoding ? { encoding: values.encoding } : {}) });
    const crs = values.crs !== undefined && isCrs(values.crs) ? values.crs : 'wgs84';
    const template = values['stream-template'];
    const options = { db: values.db, dryRun: values['dry-run'], json: values.json, meta: { key: what === 'staff' ? 'importedStaff' : 'importedCameras', source: basename(file) } };
    const plan = (state: CityState): { report: TableReport; changes: Change[] | null } =>
      what === 'staff' ? buildStaff(table, state, basename(file), new Date()) : buildCameras(table, state, basename(file), { crs, ...(template ? { streamTemplate: template } : {}) });
    // A file that cannot be read is refused before the database is opened (the builders stop at its issues).
    if (table.issues.some((i) => i.severity === 'error')) return printTable(plan(new CityState()).report, null, options);
    return importTable(plan, options);
  }

  const read = await readGridFile(file, { maxBytes: Math.floor(maxMb * 1024 * 1024), ...(values.encoding ? { encoding: values.encoding } : {}) });
  const crs = values.crs !== undefined && isCrs(values.crs) ? values.crs : 'wgs84';
  const built = buildCity(read, basename(file), { crs, crsGiven: values.crs !== undefined, ...(values['code-property'] ? { codeProperty: values['code-property'] } : {}) });
  const { report } = built;
  let city = built.city;
  if (city && values.parents !== undefined) {
    // The parents' boundaries (same --crs): each grid inside them, the admin units' polygons taken from them.
    const parents = applyParents(await readGridFile(values.parents, { maxBytes: Math.floor(maxMb * 1024 * 1024), ...(values.encoding ? { encoding: values.encoding } : {}) }), basename(values.parents), { crs }, city);
    report.issues.push(...parents.issues);
    city = parents.city;
  }
  const print = (outcome: 'imported' | 'dry-run' | 'refused', seq?: number): void => {
    if (values.json) process.stdout.write(JSON.stringify({ outcome, ...(seq !== undefined ? { seq } : {}), report }) + '\n');
    else process.stdout.write(formatReport(report, outcome, seq).join('\n') + '\n');
  };
  if (!city || errorsOf(report).length > 0) {
    print('refused');
    return IMPORT_EXIT.fileErrors;
  }
  if (values['dry-run']) {
    print('dry-run');
    return IMPORT_EXIT.imported;
  }
  return withStore(values.db, async (store) => {
    const written = await writeImportedCity(store, city, new Date(), basename(file));
    report.issues.push(...scopeIssues(await store.listUsers(), city.adminUnits));
    print('imported', written.seq);
    return IMPORT_EXIT.imported;
  });
}

/**
 * Staff and cameras are checked against the grids the store holds (a dry run too, so it needs the database); the
 * check is repeated inside the write turn, on the city as committed then.
 */
interface TableOptions {
  db: string | undefined;
  dryRun: boolean;
  json: boolean;
  meta: { key: string; source: string };
}

async function importTable(plan: (state: CityState) => { report: TableReport; changes: Change[] | null }, options: TableOptions): Promise<number> {
  return withStore(options.db, async (store) => {
    const { report, seq } = await writeTableImport(store, plan, { at: new Date(), dryRun: options.dryRun, meta: options.meta });
    return printTable(report, seq, options);
  });
}

function printTable(report: TableReport, seq: number | null, options: TableOptions): number {
  const refused = report.issues.some((i) => i.severity === 'error');
  const outcome = refused ? 'refused' : options.dryRun ? 'dry-run' : 'imported';
  if (options.json) process.stdout.write(JSON.stringify({ outcome, ...(seq !== null ? { seq } : {}), report }) + '\n');
  else process.stdout.write(formatTableReport(report, outcome, seq ?? undefined).join('\n') + '\n');
  return refused ? IMPORT_EXIT.fileErrors : IMPORT_EXIT.imported;
}

/** Several files' reports (departments with their rules), one outcome for all. */
function printTables(reports: TableReport[], seq: number | null, options: TableOptions): number {
  const refused = reports.some((r) => r.issues.some((i) => i.severity === 'error'));
  const outcome = refused ? 'refused' : options.dryRun ? 'dry-run' : 'imported';
  if (options.json) process.stdout.write(JSON.stringify({ outcome, ...(seq !== null ? { seq } : {}), reports }) + '\n');
  else process.stdout.write(reports.flatMap((r) => formatTableReport(r, outcome, seq ?? undefined)).join('\n') + '\n');
  return refused ? IMPORT_EXIT.fileErrors : IMPORT_EXIT.imported;
}

export async function withStore(dbOption: string | undefined, work: (store: Awaited<ReturnType<typeof openStore>>) => Promise<number>): Promise<number> {
  const envUrl = process.env.ZONGZHI_DATABASE_URL || undefined;
  const db = dbOption !== undefined ? (isDatabaseUrl(dbOption) ? dbOption : resolve(dbOption)) : (envUrl ?? resolve('data/backend.sqlite'));
  if (!isDatabaseUrl(db) && !existsSync(db)) {
    process.stderr.write(`${db}: no such database; start the backend on it once, then import\n`);
    return IMPORT_EXIT.database;
  }
  let store: Awaited<ReturnType<typeof openStore>> | null = null;
  try {
    store = await openStore(db);
    return await work(store);
  } catch (e) {
    if (e instanceof NoCityError) {
      process.stderr.write(`${e.message}\n`);
      return IMPORT_EXIT.database;
    }
    const refusal = describeRefusal(e);
    if (refusal.code === 'start-failed') process.stderr.write(`${(e as Error).stack ?? String(e)}\n`);
    process.stderr.write(`${refusal.line}\n`);
    return refusal.exitCode === 3 ? IMPORT_EXIT.database : IMPORT_EXIT.other;
  } finally {
    await store?.close();
  }
}
