/**
 * `npm run backend -- import grids|staff|cameras|departments|rules|population|places|persons <file> [options]`:
 * reads a real city's grids (GeoJSON or Shapefile), staff roster, camera list, departments or 权责清单,
 * population, places or 重点人员 register (CSV or XLSX), checks them, prints the report, and when the file is
 * clean writes its records as one change batch — into a database (--db), or into a running backend (--server,
 * an administrator's token): prepare.ts does the same either way. A file with any error changes nothing.
 */
import { existsSync } from 'node:fs';
import { parseCli } from '../../node-util/cli';
import { CRS_NAMES, isCrs } from './crs';
import { DEFAULT_MAX_BYTES } from './read';
import { DEFAULT_TABLE_MAX_BYTES } from './table';
import { storeTarget } from './write';
import { IMPORT_EXIT, withStore } from './with-store';
import { IMPORT_KINDS, defaultMaxBytes, formatAnswer, importAudit, isImportKind, prepareImport, type ImportAnswer, type ImportFiles, type ImportOptions } from './prepare';
import { importIntoServer, readAdminToken } from './upload';
import { playbackOf } from './cameras';

export { IMPORT_EXIT };

export const importUsage = `usage: backend import grids <file.geojson|file.shp> [--parents <boundaries.geojson|.shp>] [--crs wgs84|cgcs2000|gcj02|bd09] [--code-property NAME] [--encoding E] [--max-mb N] [--db FILE|URL] [--dry-run] [--json]
       backend import staff <roster.csv|roster.xlsx> [--encoding E] [--max-mb N] [--db FILE|URL] [--dry-run] [--json]
       backend import cameras <cameras.csv|cameras.xlsx> [--crs C] [--stream-template URL] [--playback-template URL] [--encoding E] [--max-mb N] [--db FILE|URL] [--dry-run] [--json]
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
  --playback-template URL  cameras: the platform's playback (回放) URL of a time range, for 复盘回放: {id}, and
                    {from} {to} (ISO 8601), {fromMs} {toMs} or {fromUnix} {toUnix}; .m3u8: an HLS playlist, .mp4: an
                    MP4, anything else: a GB/T 28181 platform's HTTP 回放 API answering JSON with the URL to play
  --rules FILE      departments: the 权责清单 too, checked against the file's departments and written in the same
                    change batch (replacing the departments and the rules together)
  --max-mb N        refuse a larger file before reading it (default ${DEFAULT_MAX_BYTES / 1024 / 1024} for grids, ${DEFAULT_TABLE_MAX_BYTES / 1024 / 1024} for tables)
  --db FILE|URL     the backend's database (default ./data/backend.sqlite, or ZONGZHI_DATABASE_URL); it must hold a
                    city already (start the backend on it once)
  --server URL      import into a running backend instead (http://host:port, or its ws:// address): the files are
                    sent to it (gzip-compressed; it takes a request whole within 30 s), checked and written there,
                    and its consoles get the change at once; needs the administrator's token (user admin) from
                    --token-file or ZONGZHI_ADMIN_TOKEN
  --token-file F    with --server: a file holding the token, or the backend's tokens.json (its "admin" entry)
  --dry-run         check and report only
  --json            print the report as one JSON object instead of lines
exit codes: 0 imported (or a clean dry run), 4 the file has errors (nothing written), 2 bad usage,
3 the database (or with --server the token) needs a person (one line says what), 1 other failures
(with --server: 4 also when the backend refuses the upload's size)`;

export async function importMain(argv: string[]): Promise<number> {
  const cli = parseCli(
    {
      crs: { type: 'string' },
      'code-property': { type: 'string' },
      encoding: { type: 'string' },
      'stream-template': { type: 'string' },
      'playback-template': { type: 'string' },
      rules: { type: 'string' },
      parents: { type: 'string' },
      'max-mb': { type: 'string' },
      db: { type: 'string' },
      server: { type: 'string' },
      'token-file': { type: 'string' },
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
  const kinds = IMPORT_KINDS.join(', ');
  if (!isImportKind(what)) return fail(what === undefined ? `import what? (${kinds})` : `cannot import ${JSON.stringify(what)}: ${kinds}`);
  if (file === undefined || rest.length > 0) fail(`import ${what} takes one file`);
  if (!existsSync(file)) fail(`${file}: no such file`);
  if (values.crs !== undefined && !isCrs(values.crs)) fail(`--crs must be one of ${CRS_NAMES.join(', ')}`);
  if (values.crs !== undefined && what !== 'grids' && what !== 'cameras' && what !== 'places') fail('--crs is for grids, cameras and places');
  if (values.rules !== undefined && what !== 'departments') fail('--rules is for departments (import rules takes its file alone)');
  if (values.rules !== undefined && !existsSync(values.rules)) fail(`${values.rules}: no such file`);
  if (values['stream-template'] !== undefined && what !== 'cameras') fail('--stream-template is for cameras');
  if (values['stream-template'] !== undefined && !values['stream-template'].includes('{id}')) fail('--stream-template must hold {id}');
  if (values['playback-template'] !== undefined && what !== 'cameras') fail('--playback-template is for cameras');
  if (values['playback-template'] !== undefined && !playbackOf(values['playback-template'])) fail('--playback-template must be an http(s) URL holding {id} and {from}, {fromMs} or {fromUnix}');
  if (values['code-property'] !== undefined && what !== 'grids') fail('--code-property is for grids');
  if (values.parents !== undefined && what !== 'grids') fail('--parents is for grids');
  if (values.parents !== undefined && !existsSync(values.parents)) fail(`${values.parents}: no such file`);
  const maxMb = values['max-mb'] === undefined ? defaultMaxBytes(what) / 1024 / 1024 : Number(values['max-mb']);
  if (!(maxMb > 0 && maxMb <= 4096)) fail('--max-mb must be a number of megabytes, 0 < N ≤ 4096');
  if (values['code-property'] !== undefined && values['code-property'].trim() === '') fail('--code-property must name a property');
  if (values.server !== undefined && values.db !== undefined) fail('--server and --db exclude each other: import into a running backend, or into a database');
  if (values['token-file'] !== undefined && values.server === undefined) fail('--token-file is for --server');

  const files: ImportFiles = { file: file!, ...(values.rules !== undefined ? { rules: values.rules } : {}), ...(values.parents !== undefined ? { parents: values.parents } : {}) };
  const options: ImportOptions = {
    maxBytes: Math.floor(maxMb * 1024 * 1024),
    ...(values.crs !== undefined && isCrs(values.crs) ? { crs: values.crs } : {}),
    ...(values['code-property'] ? { codeProperty: values['code-property'] } : {}),
    ...(values.encoding ? { encoding: values.encoding } : {}),
    ...(values['stream-template'] ? { streamTemplate: values['stream-template'] } : {}),
    ...(values['playback-template'] ? { playbackTemplate: values['playback-template'] } : {}),
  };
  const print = (answer: ImportAnswer): number => {
    process.stdout.write(values.json ? JSON.stringify(answer) + '\n' : formatAnswer(answer).join('\n') + '\n');
    return answer.outcome === 'refused' ? IMPORT_EXIT.fileErrors : IMPORT_EXIT.imported;
  };

  if (values.server !== undefined) {
    const token = readAdminToken(values['token-file'], process.env.ZONGZHI_ADMIN_TOKEN);
    if (!token.ok) fail(token.message);
    const sent = await importIntoServer(values.server, token.ok ? token.token : '', what, files, { ...options, dryRun: values['dry-run'] });
    if (sent.ok) return print(sent.answer);
    process.stderr.write(`${sent.message}\n`);
    return sent.exitCode;
  }

  const prepared = await prepareImport(what, files, options);
  if (prepared.refused) return print(prepared.refused);
  if (values['dry-run'] && prepared.dryRunAnswer) return print(prepared.dryRunAnswer);
  return withStore(values.db, async (store) => {
    const answer = await prepared.run(storeTarget(store), { dryRun: values['dry-run'], at: new Date() });
    await store.audit([importAudit(answer, prepared.source, { userId: null, via: 'command line' })]);
    return print(answer);
  });
}
