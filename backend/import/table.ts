/**
 * Reading a table (the staff roster, the camera list) as offices and video platforms export them: CSV in UTF-8
 * (with or without BOM) or GBK/GB18030 (Excel in China), or an XLSX workbook (its first sheet). The size is
 * checked before the file is read; every row keeps the line (CSV) or row number (XLSX) it came from.
 *
 * Encoding: bytes that are valid UTF-8 are UTF-8; otherwise GB18030 (a superset of GBK and GB2312) when the text
 * it gives holds no replacement character; otherwise the file is refused and `--encoding` asked for. Never a
 * guess that garbles names.
 *
 * XLSX: a formula cell gives its cached result (nothing is evaluated); a text cell starting with = + - @ stays
 * text. CSV: parsed by csv-parse (quoted fields, embedded newlines), never evaluated either.
 */
import { readFileSync, statSync } from 'node:fs';
import { extname } from 'node:path';
import iconv from 'iconv-lite';
import { parse } from 'csv-parse/sync';
import ExcelJS from 'exceljs';
import type { ImportIssue } from './report';

export const DEFAULT_TABLE_MAX_BYTES = 50 * 1024 * 1024;
/** A roster or camera list longer than this is not one city's. */
export const MAX_ROWS = 200_000;

export interface TableRow {
  /** 1-based line in the CSV where the row starts, or the row number in the sheet. */
  line: number;
  cells: string[];
}

export interface Table {
  format: 'csv' | 'xlsx';
  /** The CSV's text encoding, as detected or given. */
  encoding?: string;
  headers: string[];
  /** The header row's line. */
  headerLine: number;
  rows: TableRow[];
  issues: ImportIssue[];
}

export interface TableOptions {
  maxBytes?: number;
  /** The CSV's encoding, when detection cannot tell (utf-8, gbk, gb18030, …: what iconv-lite knows). */
  encoding?: string;
}

const mb = (n: number): string => (n / 1024 / 1024).toFixed(1);
const fail = (kind: ImportIssue['kind'], zh: string, en: string): ImportIssue => ({ severity: 'error', kind, zh, en });

/** Strict UTF-8: a decoder that throws on any invalid sequence. */
const utf8 = new TextDecoder('utf-8', { fatal: true });

export type Decoded = { text: string; encoding: string } | { issue: ImportIssue };

/** The text of a CSV's bytes, by the rule above (or by `given`). */
export function decodeText(bytes: Uint8Array, given?: string): Decoded {
  if (given !== undefined) {
    const name = given.trim().toLowerCase();
    if (!iconv.encodingExists(name)) return { issue: fail('bad-encoding', `不支持的编码 ${given}`, `unknown encoding ${given}`) };
    const text = iconv.decode(Buffer.from(bytes), name).replace(/^\uFEFF/, '');
    if (text.includes('\uFFFD')) return { issue: fail('bad-encoding', `按 ${given} 解码出现无法识别的字节，请确认文件编码`, `decoding as ${given} meets bytes that are not ${given}: check the file's encoding`) };
    return { text, encoding: name };
  }
  const bom = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf;
  try {
    const text = utf8.decode(bom ? bytes.subarray(3) : bytes);
    return { text, encoding: bom ? 'utf-8 (BOM)' : 'utf-8' };
  } catch {
    // not UTF-8: try GB18030 below
  }
  const text = iconv.decode(Buffer.from(bytes), 'gb18030');
  if (!text.includes('\uFFFD')) return { text, encoding: 'gb18030' };
  return {
    issue: fail('bad-encoding', '无法判断文件编码（既不是 UTF-8 也不是 GBK/GB18030），请用 --encoding 指定，或在 Excel 中另存为“CSV UTF-8”', 'cannot tell the file\'s encoding (neither UTF-8 nor GBK/GB18030): give --encoding, or save as "CSV UTF-8" in Excel'),
  };
}

/** Rows of CSV text (the header first), each with the line it starts on. */
export function parseCsv(text: string): { rows: TableRow[] } | { issue: ImportIssue } {
  try {
    const records = parse(text, { info: true, relax_column_count: true, skip_empty_lines: true, bom: true }) as unknown as Array<{ record: string[]; info: { lines: number } }>;
    return {
      rows: records.map(({ record, info }) => {
        const inner = record.reduce((n, cell) => n + (cell.match(/\n/g)?.length ?? 0), 0);
        return { line: info.lines - inner, cells: record.map((c) => c.trim()) };
      }),
    };
  } catch (e) {
    const err = e as Error & { lines?: number };
    const at = err.lines !== undefined ? `第${err.lines}行：` : '';
    return { issue: { ...fail('file-unreadable', `${at}CSV 格式错误：${err.message}`, `${err.lines !== undefined ? `line ${err.lines}: ` : ''}not valid CSV: ${err.message}`), ...(err.lines !== undefined ? { line: err.lines } : {}) } };
  }
}

/** A cell's value as text: formulas by their cached result, rich text joined, dates as ISO, errors empty. */
export function cellText(value: ExcelJS.CellValue): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') return value.trim();
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : '';
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (value instanceof Date) return value.toISOString();
  if (typeof value === 'object') {
    if ('richText' in value) return value.richText.map((r) => r.text).join('').trim();
    if ('formula' in value || 'sharedFormula' in value) return 'result' in value && value.result !== undefined ? cellText(value.result as ExcelJS.CellValue) : '';
    if ('hyperlink' in value) return String((value as { text?: unknown }).text ?? value.hyperlink).trim();
    if ('error' in value) return '';
  }
  return '';
}

async function readXlsx(file: string): Promise<{ rows: TableRow[] } | { issue: ImportIssue }> {
  const workbook = new ExcelJS.Workbook();
  try {
    await workbook.xlsx.readFile(file);
  } catch (e) {
    return { issue: fail('file-unreadable', `无法读取 XLSX：${(e as Error).message}`, `cannot read the XLSX: ${(e as Error).message}`) };
  }
  const sheet = workbook.worksheets[0];
  if (!sheet) return { issue: fail('no-rows', '工作簿中没有工作表', 'the workbook has no sheet') };
  const rows: TableRow[] = [];
  sheet.eachRow({ includeEmpty: false }, (row, number) => {
    const cells: string[] = [];
    for (let c = 1; c <= row.cellCount; c++) cells.push(cellText(row.getCell(c).value));
    if (cells.some((c) => c !== '')) rows.push({ line: number, cells });
  });
  return { rows };
}

export async function readTable(file: string, options: TableOptions = {}): Promise<Table> {
  const max = options.maxBytes ?? DEFAULT_TABLE_MAX_BYTES;
  const format = extname(file).toLowerCase() === '.xlsx' ? 'xlsx' : 'csv';
  const table: Table = { format, headers: [], headerLine: 0, rows: [], issues: [] };
  const size = statSync(file).size;
  if (size > max) return { ...table, issues: [fail('file-too-large', `文件 ${file} 大小 ${mb(size)} MB，超过上限 ${mb(max)} MB，未读取`, `${file} is ${mb(size)} MB, over the ${mb(max)} MB limit: not read`)] };
  let read: { rows: TableRow[] } | { issue: ImportIssue };
  if (format === 'xlsx') read = await readXlsx(file);
  else {
    const decoded = decodeText(readFileSync(file), options.encoding);
    if ('issue' in decoded) return { ...table, issues: [decoded.issue] };
    table.encoding = decoded.encoding;
    read = parseCsv(decoded.text);
  }
  if ('issue' in read) return { ...table, issues: [read.issue] };
  const [header, ...rows] = read.rows;
  if (!header) return { ...table, issues: [fail('no-rows', '文件是空的（没有表头）', 'the file is empty (no header row)')] };
  if (rows.length > MAX_ROWS) return { ...table, issues: [fail('file-too-large', `${rows.length} 行，超过上限 ${MAX_ROWS} 行`, `${rows.length} rows, over the ${MAX_ROWS} limit`)] };
  return { ...table, headers: header.cells, headerLine: header.line, rows };
}

/** Header names compared loosely: case, spaces, underscores and full-width brackets do not matter. */
const norm = (s: string): string => s.toLowerCase().replace(/[\s_\-()（）]/g, '');

/** The index of the first header matching one of `aliases`, or -1. */
export function columnOf(headers: readonly string[], aliases: readonly string[]): number {
  const wanted = aliases.map(norm);
  for (const alias of wanted) {
    const i = headers.findIndex((h) => norm(h) === alias);
    if (i >= 0) return i;
  }
  return -1;
}
