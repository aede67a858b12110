/**
 * `npm run backend -- import grids <file> [options]`: reads a real city's grids (GeoJSON or Shapefile), checks
 * them, prints the report, and when the file is clean writes its admin units and grids into the store as one
 * change batch. A file with any error changes nothing.
 */
import { existsSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { parseCli } from '../../node-util/cli';
import { describeRefusal } from '../../node-util/backend-refusal';
import { isDatabaseUrl, openStore } from '../store/open';
import { buildCity } from './build';
import { CRS_NAMES, isCrs } from './crs';
import { DEFAULT_MAX_BYTES, readGridFile } from './read';
import { errorsOf, formatReport } from './report';
import { NoCityError, writeImportedCity } from './write';

export const IMPORT_EXIT = { imported: 0, other: 1, usage: 2, database: 3, fileErrors: 4 } as const;

export const importUsage = `usage: backend import grids <file.geojson|file.shp> [--crs wgs84|cgcs2000|gcj02|bd09] [--code-property NAME] [--encoding E] [--max-mb N] [--db FILE|URL] [--dry-run] [--json]
  <file>            a GeoJSON FeatureCollection of Polygon/MultiPolygon grids, or a Shapefile (.shp with its .dbf;
                    .cpg and .prj read when present)
  --crs C           the file's coordinates: wgs84 or cgcs2000 (taken as is; default wgs84), gcj02 (Gaode/Tencent)
                    or bd09 (Baidu), converted to WGS84
  --code-property NAME  the property holding the 15-digit 网格编码 (default: 网格编码, WGBM, GRID_CODE, grid_code,
                    gridCode, code or CODE, the first present)
  --encoding E      the .dbf's text encoding when there is no .cpg (default utf-8; e.g. gbk)
  --max-mb N        refuse a larger file before reading it (default ${DEFAULT_MAX_BYTES / 1024 / 1024})
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
  if (what !== 'grids') fail(what === undefined ? 'import what? (grids)' : `cannot import ${JSON.stringify(what)} yet: only grids`);
  if (file === undefined || rest.length > 0) fail('import grids takes one file');
  if (!existsSync(file)) fail(`${file}: no such file`);
  if (values.crs !== undefined && !isCrs(values.crs)) fail(`--crs must be one of ${CRS_NAMES.join(', ')}`);
  const maxMb = values['max-mb'] === undefined ? DEFAULT_MAX_BYTES / 1024 / 1024 : Number(values['max-mb']);
  if (!(maxMb > 0 && maxMb <= 4096)) fail('--max-mb must be a number of megabytes, 0 < N ≤ 4096');
  if (values['code-property'] !== undefined && values['code-property'].trim() === '') fail('--code-property must name a property');

  const read = await readGridFile(file, { maxBytes: Math.floor(maxMb * 1024 * 1024), ...(values.encoding ? { encoding: values.encoding } : {}) });
  const crs = values.crs !== undefined && isCrs(values.crs) ? values.crs : 'wgs84';
  const { report, city } = buildCity(read, basename(file), { crs, crsGiven: values.crs !== undefined, ...(values['code-property'] ? { codeProperty: values['code-property'] } : {}) });
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
  const envUrl = process.env.ZONGZHI_DATABASE_URL || undefined;
  const db = values.db !== undefined ? (isDatabaseUrl(values.db) ? values.db : resolve(values.db)) : (envUrl ?? resolve('data/backend.sqlite'));
  if (!isDatabaseUrl(db) && !existsSync(db)) {
    process.stderr.write(`${db}: no such database; start the backend on it once, then import\n`);
    return IMPORT_EXIT.database;
  }
  let store: Awaited<ReturnType<typeof openStore>> | null = null;
  try {
    store = await openStore(db);
    const written = await writeImportedCity(store, city, new Date(), basename(file));
    print('imported', written.seq);
    return IMPORT_EXIT.imported;
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
