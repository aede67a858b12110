/**
 * Reading a grid file as GIS teams export it: GeoJSON (a FeatureCollection) or a Shapefile (.shp with its .dbf,
 * and .cpg / .prj when present). The size is checked before anything is read whole; invalid JSON is refused with
 * its line and column; every feature keeps its index (and, in GeoJSON, the line it starts on) for the report.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { extname } from 'node:path';
import * as shapefile from 'shapefile';
import type { ImportIssue } from './report';

export const DEFAULT_MAX_BYTES = 200 * 1024 * 1024;

export interface RawFeature {
  index: number;
  line?: number;
  properties: Record<string, unknown>;
  geometry: unknown;
}

export interface ReadResult {
  format: 'geojson' | 'shapefile';
  features: RawFeature[];
  /** DBF encoding used (Shapefile). */
  encoding?: string;
  /** What the file says of its coordinate system (.prj, or GeoJSON's old `crs` member), when it says. */
  declaredCrs?: string;
  /** The declared system is projected (metres): refused, the grids must come in degrees. */
  projected?: boolean;
  /** Problems that stop the file before its features are looked at. */
  issues: ImportIssue[];
}

export interface ReadOptions {
  maxBytes?: number;
  /** DBF encoding when there is no .cpg (default utf-8). */
  encoding?: string;
}

const mb = (n: number): string => (n / 1024 / 1024).toFixed(1);

function tooLarge(file: string, size: number, max: number): ImportIssue {
  return {
    severity: 'error',
    kind: 'file-too-large',
    zh: `文件 ${file} 大小 ${mb(size)} MB，超过上限 ${mb(max)} MB，未读取`,
    en: `${file} is ${mb(size)} MB, over the ${mb(max)} MB limit: not read`,
  };
}

export async function readGridFile(file: string, options: ReadOptions = {}): Promise<ReadResult> {
  const ext = extname(file).toLowerCase();
  if (ext === '.shp') return readShapefile(file, options);
  return readGeoJson(file, options);
}

/** 1-based line and column of `offset` in `text`. */
export function lineColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: offset - lineStart + 1 };
}

/**
 * Offsets where each element of the root object's "features" array starts (for line numbers in the report):
 * one pass over the text, skipping strings.
 */
export function featureOffsets(text: string): number[] {
  const starts: number[] = [];
  let depth = 0;
  let lastString = '';
  let inFeatures = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 34 /* " */) {
      let j = i + 1;
      while (j < text.length && text.charCodeAt(j) !== 34) j += text.charCodeAt(j) === 92 ? 2 : 1;
      if (depth === 1) lastString = text.slice(i + 1, j);
      i = j;
    } else if (c === 123 /* { */ || c === 91 /* [ */) {
      if (inFeatures && depth === 2 && c === 123) starts.push(i);
      if (depth === 1 && c === 91 && lastString === 'features') inFeatures = true;
      depth++;
    } else if (c === 125 /* } */ || c === 93 /* ] */) {
      depth--;
      if (depth < 2) inFeatures = false;
    }
  }
  return starts;
}

function lineStarts(text: string): number[] {
  const starts = [0];
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) starts.push(i + 1);
  return starts;
}

function lineOf(starts: number[], offset: number): number {
  let lo = 0;
  let hi = starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if ((starts[mid] as number) <= offset) lo = mid;
    else hi = mid - 1;
  }
  return lo + 1;
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A declared name that is a projected system (metres), e.g. EPSG:4527 (CGCS2000 / 3-degree Gauss-Kruger). */
const PROJECTED_EPSG = /EPSG::?(?:45(?:0[2-9]|[1-9]\d)|3857|32[67]\d\d|2[34]\d\d)\b/i;

async function readGeoJson(file: string, options: ReadOptions): Promise<ReadResult> {
  const max = options.maxBytes ?? DEFAULT_MAX_BYTES;
  const size = statSync(file).size;
  const result: ReadResult = { format: 'geojson', features: [], issues: [] };
  if (size > max) return { ...result, issues: [tooLarge(file, size, max)] };
  const text = readFileSync(file, 'utf8').replace(/^\uFEFF/, '');
  let root: unknown;
  try {
    root = JSON.parse(text);
  } catch (e) {
    const message = (e as Error).message;
    const m = /at position (\d+)/.exec(message);
    const at = m ? lineColumn(text, Number(m[1])) : text.trim() === '' ? lineColumn(text, 0) : lineColumn(text, text.length);
    const reason = message.replace(/\s*\(line \d+ column \d+\)/, '');
    result.issues.push({ severity: 'error', kind: 'invalid-json', ...at, zh: `不是有效的 JSON：${reason}`, en: `not valid JSON: ${reason}` });
    return result;
  }
  if (!isRecord(root) || root.type !== 'FeatureCollection' || !Array.isArray(root.features)) {
    result.issues.push({ severity: 'error', kind: 'not-feature-collection', zh: '根对象不是 GeoJSON FeatureCollection（需要 "type": "FeatureCollection" 和 "features" 数组）', en: 'the root is not a GeoJSON FeatureCollection ("type": "FeatureCollection" with a "features" array)' });
    return result;
  }
  const crs = root.crs;
  if (isRecord(crs) && isRecord(crs.properties) && typeof crs.properties.name === 'string') {
    result.declaredCrs = crs.properties.name;
    result.projected = PROJECTED_EPSG.test(crs.properties.name);
  }
  const offsets = featureOffsets(text);
  const starts = lineStarts(text);
  root.features.forEach((f: unknown, index) => {
    const offset = offsets[index];
    const line = offset === undefined ? undefined : lineOf(starts, offset);
    const feature = isRecord(f) ? f : {};
    result.features.push({
      index,
      ...(line !== undefined ? { line } : {}),
      properties: isRecord(feature.properties) ? feature.properties : {},
      geometry: feature.geometry ?? null,
    });
  });
  return result;
}

const sibling = (shp: string, ext: string): string | null => {
  const base = shp.slice(0, -4);
  for (const e of [ext, ext.toUpperCase()]) if (existsSync(base + e)) return base + e;
  return null;
};

async function readShapefile(file: string, options: ReadOptions): Promise<ReadResult> {
  const max = options.maxBytes ?? DEFAULT_MAX_BYTES;
  const dbf = sibling(file, '.dbf');
  const size = statSync(file).size + (dbf ? statSync(dbf).size : 0);
  const result: ReadResult = { format: 'shapefile', features: [], issues: [] };
  if (size > max) return { ...result, issues: [tooLarge(file, size, max)] };
  const cpg = sibling(file, '.cpg');
  let encoding = options.encoding ?? 'utf-8';
  if (cpg) {
    const declared = readFileSync(cpg, 'latin1').trim().toLowerCase();
    encoding = /^(utf-?8|65001)$/.test(declared) ? 'utf-8' : /^(gbk|cp936|936|gb2312|gb18030)$/.test(declared) ? 'gbk' : declared;
  }
  try {
    new TextDecoder(encoding);
  } catch {
    result.issues.push({ severity: 'error', kind: 'file-unreadable', zh: `不支持 DBF 编码 ${encoding}`, en: `unsupported DBF encoding ${encoding}` });
    return result;
  }
  result.encoding = encoding;
  const prj = sibling(file, '.prj');
  if (prj) {
    const wkt = readFileSync(prj, 'utf8').trim();
    result.declaredCrs = wkt.slice(0, 120);
    result.projected = /^PROJCS|^PROJCRS/i.test(wkt);
  }
  try {
    const source = await shapefile.open(file, dbf ?? undefined, { encoding });
    for (let index = 0; ; index++) {
      const next = await source.read();
      if (next.done) break;
      result.features.push({ index, properties: (next.value.properties ?? {}) as Record<string, unknown>, geometry: next.value.geometry ?? null });
    }
  } catch (e) {
    result.issues.push({ severity: 'error', kind: 'file-unreadable', zh: `无法读取 Shapefile：${(e as Error).message}`, en: `cannot read the Shapefile: ${(e as Error).message}` });
  }
  return result;
}
