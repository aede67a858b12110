/**
 * `import … --server URL`: the files go to a running backend (POST /admin/import/<what>, http-route.ts) with the
 * administrator's token, which checks and writes them there; its answer is the same ImportAnswer the command
 * line prints for a database. A Shapefile travels with its .dbf/.shx/.prj/.cpg beside it.
 */
import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, extname, join } from 'node:path';
import { z } from 'zod';
import { CRS_NAMES } from './crs';
import { IMPORT_KINDS, type ImportAnswer, type ImportFiles, type ImportKind, type ImportOptions } from './prepare';

export const SHAPEFILE_SIDECARS = ['.dbf', '.shx', '.prj', '.cpg'] as const;

/** The token from --token-file (the token alone, or a tokens.json whose "admin" entry is used), else the environment. */
export function readAdminToken(file: string | undefined, env: string | undefined): { ok: true; token: string } | { ok: false; message: string } {
  if (file === undefined) {
    if (env && env.trim()) return { ok: true, token: env.trim() };
    return { ok: false, message: '--server needs the administrator\'s token: --token-file FILE (the token, or the backend\'s tokens.json) or ZONGZHI_ADMIN_TOKEN' };
  }
  if (!existsSync(file)) return { ok: false, message: `${file}: no such file` };
  const text = readFileSync(file, 'utf8').trim();
  if (text.startsWith('{')) {
    const parsed = z.record(z.string(), z.string()).safeParse((() => { try { return JSON.parse(text) as unknown; } catch { return null; } })());
    const token = parsed.success ? parsed.data.admin : undefined;
    return token ? { ok: true, token } : { ok: false, message: `${file} holds no "admin" token (a tokens.json from before the administrator existed: see README, 基础数据)` };
  }
  if (!/^\S{16,512}$/.test(text)) return { ok: false, message: `${file} does not hold a token (one line of 16–512 characters, or a tokens.json)` };
  return { ok: true, token: text };
}

/** The backend's HTTP address from what a person may give: http(s)://host:port, or its ws(s):// address. */
export function importUrl(server: string, what: ImportKind): string | null {
  let url: URL;
  try {
    url = new URL(server.replace(/^ws(s?):/i, 'http$1:'));
  } catch {
    return null;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return null;
  return `${url.origin}/admin/import/${what}`;
}

// The answer crosses the network: checked before its lines are printed.
const Count = z.number().int().nonnegative();
const Issue = z.object({ severity: z.enum(['error', 'warning', 'note']), kind: z.string(), feature: Count.optional(), line: Count.optional(), column: Count.optional(), code: z.string().optional(), id: z.string().optional(), zh: z.string(), en: z.string() });
const Crs = z.enum(CRS_NAMES);
const GridReport = z.object({ file: z.string(), format: z.enum(['geojson', 'shapefile']), crs: Crs, encoding: z.string().optional(), features: Count, counts: z.object({ districts: Count, streets: Count, communities: Count, grids: Count }), issues: z.array(Issue) });
const TableReport = z.object({ what: z.enum(IMPORT_KINDS.filter((k) => k !== 'grids') as [string, ...string[]]), file: z.string(), format: z.enum(['csv', 'xlsx']), encoding: z.string().optional(), crs: Crs.optional(), rows: Count, counts: z.object({ added: Count, updated: Count, removed: Count }), issues: z.array(Issue) });
const Head = { outcome: z.enum(['imported', 'dry-run', 'refused']), seq: z.number().int().positive().optional() };
const Answer = z.union([
  z.object({ ...Head, what: z.literal('grids'), report: GridReport }),
  z.object({ ...Head, what: z.enum(['departments', 'rules']), reports: z.array(TableReport) }),
  z.object({ ...Head, what: z.enum(['staff', 'cameras', 'population', 'places', 'persons']), report: TableReport }),
]);

const fileOf = (path: string): File => new File([readFileSync(path)], basename(path));

/** The multipart form: file (+ its Shapefile sidecars), rules, parents (+ sidecars), options as JSON. */
export function importForm(files: ImportFiles, options: ImportOptions & { dryRun: boolean }): FormData {
  const form = new FormData();
  const add = (field: string, path: string): void => {
    form.append(field, fileOf(path));
    if (extname(path).toLowerCase() !== '.shp') return;
    const stem = join(dirname(path), basename(path, extname(path)));
    for (const ext of SHAPEFILE_SIDECARS) for (const candidate of [stem + ext, stem + ext.toUpperCase()]) if (existsSync(candidate)) form.append(`${field}.sidecar`, fileOf(candidate));
  };
  add('file', files.file);
  if (files.rules !== undefined) add('rules', files.rules);
  if (files.parents !== undefined) add('parents', files.parents);
  const { maxBytes, ...rest } = options;
  form.append('options', JSON.stringify({ ...rest, ...(maxBytes !== undefined ? { maxMb: maxBytes / 1024 / 1024 } : {}) }));
  return form;
}

export type SendResult = { ok: true; answer: ImportAnswer } | { ok: false; message: string; exitCode: number };

export async function importIntoServer(server: string, token: string, what: ImportKind, files: ImportFiles, options: ImportOptions & { dryRun: boolean }): Promise<SendResult> {
  const url = importUrl(server, what);
  if (!url) return { ok: false, message: `--server ${server}: not an http://, https://, ws:// or wss:// address`, exitCode: 2 };
  let response: Response;
  try {
    // Compressed on the way (GeoJSON and CSV shrink five- to tenfold): the backend takes a request whole within 30 s.
    const encoded = new Response(importForm(files, options));
    const body = encoded.body!.pipeThrough(new CompressionStream('gzip'));
    response = await fetch(url, {
      method: 'POST',
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': encoded.headers.get('content-type')!, 'Content-Encoding': 'gzip' },
      body,
      duplex: 'half',
      signal: AbortSignal.timeout(15 * 60_000),
    } as RequestInit);
  } catch (e) {
    const cause = (e as { cause?: { code?: string; message?: string } }).cause;
    const cut = cause?.code === 'ECONNRESET' || cause?.code === 'EPIPE' || cause?.code === 'UND_ERR_SOCKET';
    if (cut) return { ok: false, message: `后台在收完上传前断开了连接（${cause.code}）：令牌可能无效、文件超过后台的上限，或上传超过 30 秒 / the backend closed the connection before the upload ended: a refused token, a file over its limit, or over 30 s`, exitCode: 1 };
    return { ok: false, message: `无法连接后台 ${url}${cause?.code ? `（${cause.code}）` : ''} / cannot reach the backend: ${(e as Error).message}`, exitCode: 1 };
  }
  const text = await response.text();
  if (response.status === 200 || response.status === 422) {
    let parsed: unknown = null;
    try {
      parsed = JSON.parse(text);
    } catch {
      /* said below */
    }
    const checked = Answer.safeParse(parsed);
    // The schema checks what printing reads; the answer is the backend's own ImportAnswer.
    if (checked.success) return { ok: true, answer: parsed as ImportAnswer };
    return { ok: false, message: `后台的回答不是导入报告 / the backend's answer is not an import report: ${text.slice(0, 200)}`, exitCode: 1 };
  }
  if (response.status === 408) return { ok: false, message: `上传未在后台的请求时限（30 秒）内完成：网络太慢或文件太大，可在服务器上用 --db 导入 / the upload did not arrive within the backend's request limit (30 s): import on the server with --db`, exitCode: 1 };
  const exitCode = response.status === 401 || response.status === 403 ? 3 : response.status === 400 ? 2 : response.status === 413 ? 4 : 1;
  return { ok: false, message: `后台拒绝导入 the backend refused (HTTP ${response.status}): ${text.slice(0, 500)}`, exitCode };
}
