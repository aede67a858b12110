/**
 * POST /admin/import/<what>: an administrator's import into the running city (`npm run backend -- import …
 * --server URL`, upload.ts). multipart/form-data: `file` (with `file.sidecar` parts for a Shapefile's .dbf/.shx/
 * .prj/.cpg), `rules` (departments), `parents` (grids, with `parents.sidecar`), `options` (JSON: crs,
 * codeProperty, encoding, streamTemplate, playbackTemplate, maxMb, dryRun); the body may be gzip-compressed (Content-Encoding: gzip,
 * as the command line sends it: the server takes a request whole within 30 s). The files are read and checked as
 * the command line does (prepare.ts) — in a worker thread when the backend has one (read-worker.ts), so the
 * serving thread keeps answering — and written through this instance's command pipeline, so its consoles get the
 * batch at once and the other instances through the store. The administrator's token only (the base data is the
 * whole city's); one import at a time; every attempt audited, failures too. 200 with the report when imported or
 * a clean dry run, 422 with it when refused; 400, 401, 403, 404, 409, 413, 415, 500 with a line in Chinese and
 * English (a 500 after the batch was committed says so).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, extname, join } from 'node:path';
import { Readable, Transform, pipeline } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { z } from 'zod';
import type { Change } from '../../protocol';
import type { CityState } from '../../domain';
import type { Logger } from '../../node-util/logger';
import type { BackendStore, UserRecord } from '../store/types';
import { bearerUser, send } from '../http-answers';
import { parseRequestTarget } from '../../web-serving/request-target';
import { CRS_NAMES } from './crs';
import { defaultMaxBytes, importAudit, isImportKind, planImport, readImport, type ImportFiles, type ImportKind } from './prepare';
import type { ImportReader } from './read-worker';
import type { ImportTarget } from './write';
import { SHAPEFILE_SIDECARS } from './upload';

const PATH = /^\/admin\/import\/([a-z]+)$/;
/** After a refusal, at most this much more of an upload is read (and dropped) before the connection is cut. */
const DRAIN_BYTES = 16 * 1024 * 1024;

export interface ImportRouteOptions {
  store: BackendStore;
  /** Plans and commits one batch in the running instance's command pipeline (BackendServer.commitPlanned). */
  commitPlanned<R>(work: (state: CityState) => Promise<{ result: R; changes: Change[] | null }>): Promise<{ result: R; seq: number | null }>;
  log: Logger;
  /** How the files are read and checked: in a worker thread (read-worker.ts), or by default on this thread. */
  read?: ImportReader;
}

const Options = z
  .object({
    crs: z.enum(CRS_NAMES).optional(),
    codeProperty: z.string().trim().min(1).max(64).optional(),
    encoding: z.string().max(32).optional(),
    streamTemplate: z.string().max(500).includes('{id}').optional(),
    playbackTemplate: z.string().max(1000).optional(),
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


/** The request's body as a form, refused beyond `limit` bytes (counted as it arrives, compressed and not). */
async function readForm(req: IncomingMessage, limit: number): Promise<FormData> {
  const type = req.headers['content-type'] ?? '';
  if (!/^multipart\/form-data;/i.test(type)) throw new Refusal(415, '须以 multipart/form-data 上传文件 / send the files as multipart/form-data');
  const encoding = (req.headers['content-encoding'] ?? 'identity').toLowerCase();
  if (encoding !== 'identity' && encoding !== 'gzip') throw new Refusal(415, `不支持的压缩方式 ${encoding}（可用 gzip）/ unsupported Content-Encoding ${encoding} (gzip is)`);
  const tooLarge = `上传内容超过 ${Math.round(limit / 1024 / 1024)} MB / the upload exceeds ${Math.round(limit / 1024 / 1024)} MB`;
  if (Number(req.headers['content-length']) > limit) throw new Refusal(413, tooLarge);
  const counter = (): Transform => {
    let seen = 0;
    return new Transform({
      transform(chunk: Buffer, _encoding, done) {
        seen += chunk.length;
        done(seen > limit ? new Refusal(413, tooLarge) : null, chunk);
      },
    });
  };
  const out = counter();
  // pipeline() ends `out` with the error when the client goes away or a limit is passed (pipe() would leave it
  // open, and the form would never settle).
  let failure: unknown = null;
  const stages = encoding === 'gzip' ? [counter(), createGunzip(), out] : [out];
  pipeline(req, ...(stages as [Transform]), (e) => {
    if (e) failure ??= e;
  });
  const body = Readable.toWeb(out) as ReadableStream<Uint8Array>;
  try {
    return await new Request('http://backend.invalid/', { method: 'POST', headers: { 'content-type': type }, body, duplex: 'half' } as RequestInit).formData();
  } catch (e) {
    if (failure instanceof Refusal) throw failure;
    if (failure) throw new Refusal(400, `上传未完成 / the upload did not arrive whole: ${(failure as Error).message}`);
    throw new Refusal(400, `无法读取上传的表单 / the form could not be read: ${(e as Error).message}`);
  }
}

/** A file name as a person gave it: shown in the report only (saved under a name of ours); its type must be `allowed`. */
function displayName(name: string, allowed: readonly string[], field: string): string {
  const shown = [...basename(name.replace(/\\/g, '/'))].map((c) => (c.charCodeAt(0) < 0x20 ? '_' : c)).join('').slice(-120);
  if (!allowed.includes(extname(shown).toLowerCase())) throw new Refusal(400, `${field}「${shown || name.slice(0, 120)}」的文件类型须为 ${allowed.join('、')} / ${field} must be one of ${allowed.join(', ')}`);
  return shown;
}

const GRID_TYPES = ['.geojson', '.json', '.shp'];
const TABLE_TYPES = ['.csv', '.xlsx'];

/** Writes one field's file (and a Shapefile's sidecars beside it) into its own folder as data.<ext>; its path and shown name. */
async function saveField(form: FormData, field: string, dir: string, allowed: readonly string[]): Promise<{ path: string; name: string } | undefined> {
  const parts = form.getAll(field);
  if (parts.length === 0) return undefined;
  const part = parts[0];
  if (parts.length > 1 || !(part instanceof File)) throw new Refusal(400, `${field} 须为一个文件 / ${field} must be one file`);
  const name = displayName(part.name, allowed, field);
  const folder = join(dir, field);
  mkdirSync(folder);
  const path = join(folder, `data${extname(name).toLowerCase()}`);
  writeFileSync(path, Buffer.from(await part.arrayBuffer()));
  const sidecars = form.getAll(`${field}.sidecar`);
  if (sidecars.length > 0 && extname(name).toLowerCase() !== '.shp') throw new Refusal(400, `${field}.sidecar 只随 Shapefile（.shp）上传 / ${field}.sidecar parts go with a .shp only`);
  const stem = basename(name, extname(name));
  const seen = new Set<string>();
  for (const sidecar of sidecars) {
    if (!(sidecar instanceof File)) throw new Refusal(400, `${field}.sidecar 须为文件 / ${field}.sidecar must be a file`);
    const sidecarName = displayName(sidecar.name, SHAPEFILE_SIDECARS, `${field}.sidecar`);
    const ext = extname(sidecarName).toLowerCase();
    if (basename(sidecarName, extname(sidecarName)) !== stem || seen.has(ext)) throw new Refusal(400, `${sidecarName} 不属于 ${name} / ${sidecarName} does not belong to ${name}`);
    seen.add(ext);
    writeFileSync(join(folder, `data${ext}`), Buffer.from(await sidecar.arrayBuffer()));
  }
  return { path, name };
}

export function importRoutes(o: ImportRouteOptions): (req: IncomingMessage, res: ServerResponse) => boolean {
  let busy = false;
  const read = o.read ?? readImport;

  /** The pipeline as the import's target; `done` learns what was written (a failure after it must say so). */
  const targetFor = (done: { seq: number | null; register: boolean }): ImportTarget => ({
    changes: async (plan, dryRun) => {
      const { result, seq } = await o.commitPlanned(async (state) => {
        const planned = plan(state);
        return { result: planned.report, changes: dryRun ? null : planned.changes };
      });
      done.seq = seq;
      return { report: result, seq };
    },
    // In the pipeline's order too: the register is checked against the grids as committed at that moment.
    register: async (plan, dryRun) =>
      (
        await o.commitPlanned(async (state) => {
          const { report, rows } = plan(state);
          if (!rows || dryRun) return { result: { report, written: false }, changes: null };
          await o.store.replaceKeyPersons(rows);
          done.register = true;
          return { result: { report, written: true }, changes: null };
        })
      ).result,
    users: () => o.store.listUsers(),
    setMeta: (key, value) => o.store.setMeta(key, value),
    keyPersonsIn: async (gridIds) => (await o.store.keyPersonsIn(gridIds)).length,
  });

  return (req, res) => {
    const path = PATH.exec(parseRequestTarget(req.url)?.pathname ?? '');
    if (!path) return false;
    if (req.method !== 'POST') {
      res.writeHead(405, { Allow: 'POST' }).end();
      return true;
    }
    const asked = path[1]!.slice(0, 20);
    let user: UserRecord | null = null;
    let dir: string | null = null;
    const done = { seq: null as number | null, register: false };
    /** Audited (best effort: the answer goes out even when the audit cannot be written, and the log says so). */
    const audit = async (detail: Record<string, unknown>): Promise<void> => {
      try {
        await o.store.audit([{ at: new Date().toISOString(), userId: user?.id ?? null, kind: 'import', detail: { what: asked, via: 'http', ...detail } }]);
      } catch (e) {
        o.log.error('import not audited', { ...detail, error: (e as Error).message });
      }
    };
    /**
     * A refusal: audited and answered. What else of the upload is coming is read and dropped — up to
     * DRAIN_BYTES, so that the client gets to read the answer — then the connection is cut.
     */
    const refuse = async (status: number, message: string): Promise<void> => {
      await audit({ outcome: 'refused', status, reason: message.slice(0, 300) });
      send(res, status, message);
      let drained = 0;
      req.on('data', (chunk: Buffer) => {
        drained += chunk.length;
        if (drained > DRAIN_BYTES) req.destroy();
      });
      req.resume();
    };
    void (async () => {
      user = await bearerUser(o.store, req);
      if (!user) return refuse(401, '需要有效的令牌 / a valid bearer token is required');
      if (user.role !== 'admin' || user.districtScope !== null) return refuse(403, '只有系统管理员（全市）可以导入基础数据 / only the administrator (whole city) imports base data');
      const what = path[1];
      if (!isImportKind(what)) return refuse(404, `不能导入「${asked}」：可导入 grids、staff、cameras、departments、rules、population、places、persons / cannot import ${asked}`);
      if (busy) return refuse(409, '另一项导入正在进行，请稍后再试 / another import is running on this backend; try again when it has finished');
      busy = true;
      try {
        await runImport(user, what);
      } finally {
        busy = false;
        if (dir) rmSync(dir, { recursive: true, force: true });
      }
    })().catch(async (e: unknown) => {
      if (e instanceof Refusal) return refuse(e.status, e.message);
      const message = (e as Error).message.slice(0, 300);
      o.log.error('import failed', { error: (e as Error).stack ?? String(e), seq: done.seq, register: done.register });
      const written = done.seq !== null ? `已写入变更批次 ${done.seq} / change batch ${done.seq} was committed` : done.register ? '重点人员登记表已替换 / the register was replaced' : null;
      await audit({ outcome: 'failed', ...(done.seq !== null ? { seq: done.seq } : {}), written: written !== null, reason: message });
      if (!res.headersSent) send(res, 500, written ? `导入已写入，但随后出错（${written}）/ imported, then failed: ${message}` : `导入失败，未写入任何数据 / the import failed, nothing written: ${message}`);
    });
    return true;

    async function runImport(by: UserRecord, what: ImportKind): Promise<void> {
      // Each file within its limit, the form at most two of them and their Shapefile sidecars.
      const form = await readForm(req, 2 * defaultMaxBytes(what) + 16 * 1024 * 1024);
      const raw = form.get('options');
      if (raw !== null && typeof raw !== 'string') throw new Refusal(400, 'options 须为 JSON 文本字段，不是文件 / options must be a JSON text field, not a file');
      let json: unknown = {};
      try {
        json = raw === null ? {} : JSON.parse(raw);
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
      const files: ImportFiles = {
        file: file.path,
        ...(rules ? { rules: rules.path } : {}),
        ...(parents ? { parents: parents.path } : {}),
        names: { file: file.name, ...(rules ? { rules: rules.name } : {}), ...(parents ? { parents: parents.name } : {}) },
      };
      const prepared = planImport(await read(what, files, { ...rest, ...(maxMb !== undefined ? { maxBytes: Math.floor(maxMb * 1024 * 1024) } : {}) }));
      const answer = prepared.refused ?? (dryRun ? prepared.dryRunAnswer : null) ?? (await prepared.run(targetFor(done), { dryRun, at: new Date() }));
      const line = importAudit(answer, prepared.source, { userId: by.id, via: 'http' });
      await audit(line.detail);
      o.log.info('import', { what, by: by.id, source: prepared.source, outcome: answer.outcome, ...(answer.seq !== undefined ? { seq: answer.seq } : {}) });
      send(res, answer.outcome === 'refused' ? 422 : 200, answer);
    }
  };
}
