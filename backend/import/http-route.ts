/**
 * POST /admin/import/<what>: an administrator's import into the running city (`npm run backend -- import …
 * --server URL`, upload.ts). multipart/form-data: `file` (with `file.sidecar` parts for a Shapefile's .dbf/.shx/
 * .prj/.cpg), `rules` (departments), `parents` (grids, with `parents.sidecar`), `options` (JSON: crs,
 * codeProperty, encoding, streamTemplate, maxMb, dryRun). The files are checked as the command line checks them
 * (prepare.ts) and written through this instance's command pipeline, so its consoles get the batch at once and
 * the other instances through the store. The administrator's token only (the base data is the whole city's); one
 * import at a time; every attempt audited. 200 with the report when imported or a clean dry run, 422 with it
 * when refused; 400, 401, 403, 404, 409, 413, 415 with a line in Chinese and English.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, extname, join } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { z } from 'zod';
import type { Change } from '../../protocol';
import type { CityState } from '../../domain';
import type { Logger } from '../../node-util/logger';
import type { BackendStore, UserRecord } from '../store/types';
import { hashToken } from '../users';
import { parseRequestTarget } from '../../web-serving/request-target';
import { CRS_NAMES } from './crs';
import { defaultMaxBytes, importAudit, isImportKind, prepareImport, type ImportFiles, type ImportKind } from './prepare';
import type { ImportTarget } from './write';
import { SHAPEFILE_SIDECARS } from './upload';

const PATH = /^\/admin\/import\/([a-z]+)$/;

export interface ImportRouteOptions {
  store: BackendStore;
  /** Plans and commits one batch in the running instance's command pipeline (BackendServer.commitPlanned). */
  commitPlanned<R>(work: (state: CityState) => Promise<{ result: R; changes: Change[] | null }>): Promise<{ result: R; seq: number | null }>;
  log: Logger;
}

const Options = z
  .object({
    crs: z.enum(CRS_NAMES).optional(),
    codeProperty: z.string().trim().min(1).max(64).optional(),
    encoding: z.string().max(32).optional(),
    streamTemplate: z.string().max(500).includes('{id}').optional(),
    maxMb: z.number().positive().max(4096).optional(),
    dryRun: z.boolean().default(false),
  })
  .strict();

class Refusal extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
  res.writeHead(status, { 'Content-Type': typeof body === 'string' ? 'text/plain; charset=utf-8' : 'application/json', 'Content-Length': text.length, 'Cache-Control': 'no-store' }).end(text);
}

/** The request's body as a form, refused beyond `limit` bytes (counted as it arrives, whatever Content-Length says). */
async function readForm(req: IncomingMessage, limit: number): Promise<FormData> {
  const type = req.headers['content-type'] ?? '';
  if (!/^multipart\/form-data;/i.test(type)) throw new Refusal(415, '须以 multipart/form-data 上传文件 / send the files as multipart/form-data');
  const declared = Number(req.headers['content-length']);
  const tooLarge = `上传内容超过 ${Math.round(limit / 1024 / 1024)} MB / the upload exceeds ${Math.round(limit / 1024 / 1024)} MB`;
  if (declared > limit) throw new Refusal(413, tooLarge);
  let seen = 0;
  const counted = req.pipe(
    new Transform({
      transform(chunk: Buffer, _encoding, done) {
        seen += chunk.length;
        done(seen > limit ? new Refusal(413, tooLarge) : null, chunk);
      },
    }),
  );
  const body = Readable.toWeb(counted) as ReadableStream<Uint8Array>;
  try {
    return await new Request('http://backend.invalid/', { method: 'POST', headers: { 'content-type': type }, body, duplex: 'half' } as RequestInit).formData();
  } catch (e) {
    if (seen > limit) throw new Refusal(413, tooLarge);
    throw new Refusal(400, `无法读取上传的表单 / the form could not be read: ${(e as Error).message}`);
  }
}

/** A file name as a person gave it, safe as one path component; its extension must be one of `allowed`. */
function safeName(name: string, allowed: readonly string[], field: string): string {
  const cleaned = [...basename(name.replace(/\\/g, '/'))].map((c) => (c.charCodeAt(0) < 0x20 || '<>:"|?*'.includes(c) ? '_' : c)).join('').slice(-200);
  const ext = extname(cleaned).toLowerCase();
  if (!cleaned || cleaned.startsWith('.') || !allowed.includes(ext)) throw new Refusal(400, `${field}「${cleaned || name}」的文件类型须为 ${allowed.join('、')} / ${field} must be one of ${allowed.join(', ')}`);
  return cleaned;
}

const GRID_TYPES = ['.geojson', '.json', '.shp'];
const TABLE_TYPES = ['.csv', '.xlsx'];

/** Writes one field's file (and a Shapefile's sidecars beside it) into its own folder; its path. */
async function saveField(form: FormData, field: string, dir: string, allowed: readonly string[]): Promise<string | undefined> {
  const parts = form.getAll(field);
  if (parts.length === 0) return undefined;
  const part = parts[0];
  if (parts.length > 1 || !(part instanceof File)) throw new Refusal(400, `${field} 须为一个文件 / ${field} must be one file`);
  const name = safeName(part.name, allowed, field);
  const folder = join(dir, field);
  mkdirSync(folder);
  const path = join(folder, name);
  writeFileSync(path, Buffer.from(await part.arrayBuffer()));
  const sidecars = form.getAll(`${field}.sidecar`);
  if (sidecars.length > 0 && extname(name).toLowerCase() !== '.shp') throw new Refusal(400, `${field}.sidecar 只随 Shapefile（.shp）上传 / ${field}.sidecar parts go with a .shp only`);
  const stem = basename(name, extname(name));
  for (const sidecar of sidecars) {
    if (!(sidecar instanceof File)) throw new Refusal(400, `${field}.sidecar 须为文件 / ${field}.sidecar must be a file`);
    const sidecarName = safeName(sidecar.name, SHAPEFILE_SIDECARS, `${field}.sidecar`);
    if (basename(sidecarName, extname(sidecarName)) !== stem) throw new Refusal(400, `${sidecarName} 与 ${name} 不同名 / ${sidecarName} does not belong to ${name}`);
    writeFileSync(join(folder, sidecarName), Buffer.from(await sidecar.arrayBuffer()));
  }
  return path;
}

export function importRoutes(o: ImportRouteOptions): (req: IncomingMessage, res: ServerResponse) => boolean {
  let busy = false;
  const target: ImportTarget = {
    changes: async (plan, dryRun) => {
      const { result, seq } = await o.commitPlanned(async (state) => {
        const planned = plan(state);
        return { result: planned.report, changes: dryRun ? null : planned.changes };
      });
      return { report: result, seq };
    },
    // In the pipeline's order too: the register is checked against the grids as committed at that moment.
    register: async (plan, dryRun) =>
      (
        await o.commitPlanned(async (state) => {
          const { report, rows } = plan(state);
          if (!rows || dryRun) return { result: { report, written: false }, changes: null };
          await o.store.replaceKeyPersons(rows);
          return { result: { report, written: true }, changes: null };
        })
      ).result,
    users: () => o.store.listUsers(),
    setMeta: (key, value) => o.store.setMeta(key, value),
  };

  return (req, res) => {
    const path = PATH.exec(parseRequestTarget(req.url)?.pathname ?? '');
    if (!path) return false;
    if (req.method !== 'POST') {
      res.writeHead(405, { Allow: 'POST' }).end();
      return true;
    }
    const token = /^Bearer (\S+)$/.exec(req.headers.authorization ?? '')?.[1];
    let user: UserRecord | null = null;
    let dir: string | null = null;
    const refuse = async (status: number, message: string): Promise<void> => {
      await o.store.audit([{ at: new Date().toISOString(), userId: user?.id ?? null, kind: 'import', detail: { what: path[1]!.slice(0, 20), via: 'http', outcome: 'refused', status, reason: message.slice(0, 300) } }]);
      send(res, status, message);
      req.resume(); // whatever of the upload is still coming is read and dropped
    };
    void (async () => {
      user = token ? await o.store.findUserByTokenHash(hashToken(token)) : null;
      if (!user) return refuse(401, '需要有效的令牌 / a valid bearer token is required');
      if (user.role !== 'admin' || user.districtScope !== null) return refuse(403, '只有系统管理员（全市）可以导入基础数据 / only the administrator (whole city) imports base data');
      const what = path[1];
      if (!isImportKind(what)) return refuse(404, `不能导入「${what}」：可导入 grids、staff、cameras、departments、rules、population、places、persons / cannot import ${what}`);
      if (busy) return refuse(409, '另一项导入正在进行，请稍后再试 / another import is running on this backend; try again when it has finished');
      busy = true;
      try {
        await runImport(req, res, user, what);
      } finally {
        busy = false;
        if (dir) rmSync(dir, { recursive: true, force: true });
      }
    })().catch(async (e: unknown) => {
      if (e instanceof Refusal) return refuse(e.status, e.message).catch(() => undefined);
      o.log.error('import failed', { error: (e as Error).stack ?? String(e) });
      if (!res.headersSent) send(res, 500, `导入失败，未写入任何数据 / the import failed, nothing written: ${(e as Error).message.slice(0, 300)}`);
    });
    return true;

    async function runImport(req: IncomingMessage, res: ServerResponse, by: UserRecord, what: ImportKind): Promise<void> {
      // Each file within its limit, the form at most two of them and their Shapefile sidecars.
      const form = await readForm(req, 2 * defaultMaxBytes(what) + 16 * 1024 * 1024);
      const raw = form.get('options');
      let json: unknown = {};
      try {
        json = typeof raw === 'string' ? JSON.parse(raw) : {};
      } catch {
        throw new Refusal(400, 'options 须为 JSON / options must be JSON');
      }
      const options = Options.safeParse(json);
      if (!options.success) throw new Refusal(400, `导入选项有误 / bad options: ${options.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
      const { dryRun, maxMb, ...rest } = options.data;
      if (form.has('rules') && what !== 'departments') throw new Refusal(400, 'rules 只用于 departments / rules goes with departments');
      if (form.has('parents') && what !== 'grids') throw new Refusal(400, 'parents 只用于 grids / parents goes with grids');
      if (rest.crs && what !== 'grids' && what !== 'cameras' && what !== 'places') throw new Refusal(400, 'crs 只用于 grids、cameras、places / crs is for grids, cameras and places');
      dir = mkdtempSync(join(tmpdir(), 'zongzhi-import-'));
      const file = await saveField(form, 'file', dir, what === 'grids' ? GRID_TYPES : TABLE_TYPES);
      if (!file) throw new Refusal(400, '缺少文件（file）/ the form has no file');
      const rules = await saveField(form, 'rules', dir, TABLE_TYPES);
      const parents = await saveField(form, 'parents', dir, GRID_TYPES);
      const files: ImportFiles = { file, ...(rules ? { rules } : {}), ...(parents ? { parents } : {}) };
      const prepared = await prepareImport(what, files, { ...rest, ...(maxMb !== undefined ? { maxBytes: Math.floor(maxMb * 1024 * 1024) } : {}) });
      const answer = prepared.refused ?? (dryRun ? prepared.dryRunAnswer : null) ?? (await prepared.run(target, { dryRun, at: new Date() }));
      await o.store.audit([importAudit(answer, prepared.source, { userId: by.id, via: 'http' })]);
      o.log.info('import', { what, by: by.id, source: prepared.source, outcome: answer.outcome, ...(answer.seq !== undefined ? { seq: answer.seq } : {}) });
      send(res, answer.outcome === 'refused' ? 422 : 200, answer);
    }
  };
}
