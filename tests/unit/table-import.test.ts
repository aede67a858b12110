/**
 * import staff / import cameras, without a database: the CSV's encoding (UTF-8, UTF-8 with BOM, GBK made here with
 * iconv-lite, undecidable bytes refused), CSV line numbers, XLSX cells (formulas by their cached value, text
 * starting with = kept), and every row check of the roster and the camera list against the sample city's grids.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import iconv from 'iconv-lite';
import ExcelJS from 'exceljs';
import { CityState, upsert } from '../../domain';
import type { GovEvent, Staff } from '../../protocol/model';
import { readGridFile } from '../../backend/import/read';
import { buildCity } from '../../backend/import/build';
import { decodeText, parseCsv, readTable } from '../../backend/import/table';
import { buildStaff, normalisePhone } from '../../backend/import/roster';
import { buildCameras, streamOf } from '../../backend/import/cameras';
import { formatTableReport } from '../../backend/import/report';
import { featureCollection, geoJsonText, sampleCity } from '../../harness/grid-files';

const dir = mkdtempSync(join(tmpdir(), 'table-import-'));
let n = 0;
const file = (content: string | Uint8Array, ext = '.csv'): string => {
  const path = join(dir, `t${n++}${ext}`);
  writeFileSync(path, content);
  return path;
};

let city: CityState;
beforeAll(async () => {
  const read = await readGridFile(file(geoJsonText(featureCollection(sampleCity())), '.geojson'));
  const built = buildCity(read, 'city.geojson', { crs: 'wgs84', crsGiven: true }).city!;
  city = new CityState();
  city.apply([...built.adminUnits.map((u) => upsert('adminUnits', u)), ...built.grids.map((g) => upsert('grids', g))]);
});

const ROSTER = '工号,姓名,手机,网格编码,角色\nA001,张伟,13800138000,379901001001001,网格长\nA002,李娜,0755-83001234,379901001001002,专职\nA003,"王, 芳",+86 139 0013 9000,379902002002002,兼职\n';

describe('decoding a CSV', () => {
  const text = '工号,姓名\nA001,张伟\nA002,欧阳娜娜\n';
  it('takes valid UTF-8 as UTF-8, with or without BOM', () => {
    expect(decodeText(Buffer.from(text, 'utf8'))).toEqual({ text, encoding: 'utf-8' });
    expect(decodeText(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(text, 'utf8')]))).toEqual({ text, encoding: 'utf-8 (BOM)' });
  });
  it('takes GBK bytes (as Excel saves them) as GB18030, the names intact', () => {
    const gbk = iconv.encode(text + '赵,䶮\n', 'gbk');
    expect(() => new TextDecoder('utf-8', { fatal: true }).decode(gbk)).toThrow(); // not UTF-8 by accident
    expect(decodeText(gbk)).toEqual({ text: text + '赵,䶮\n', encoding: 'gb18030' });
  });
  it('refuses bytes that are neither, and asks for --encoding; a given encoding is used and checked', () => {
    const junk = Uint8Array.from([0x41, 0x2c, 0xff, 0xff, 0x80, 0x0a]);
    const refused = decodeText(junk);
    expect('issue' in refused && refused.issue.kind).toBe('bad-encoding');
    expect('issue' in refused && refused.issue.en).toMatch(/--encoding/);
    expect(decodeText(Buffer.from([0x41, 0xe9, 0x0a]), 'latin1')).toEqual({ text: 'Aé\n', encoding: 'latin1' });
    expect('issue' in decodeText(Buffer.from('x'), 'klingon')).toBe(true);
  });
  it('parses quoted fields and embedded newlines with the line each row starts on', () => {
    const parsed = parseCsv('a,b\n1,"x\ny"\n\n2,"q ""z"""\n');
    expect('rows' in parsed && parsed.rows).toEqual([
      { line: 1, cells: ['a', 'b'] },
      { line: 2, cells: ['1', 'x\ny'] },
      { line: 5, cells: ['2', 'q "z"'] },
    ]);
    const bad = parseCsv('a,b\n1,"open\n');
    expect('issue' in bad).toBe(true);
  });
  it('refuses a file over the size limit before reading it', async () => {
    const table = await readTable(file(ROSTER), { maxBytes: 10 });
    expect(table.issues[0]!.kind).toBe('file-too-large');
  });
});

describe('XLSX cells', () => {
  it('takes a formula cell by its cached value and keeps text starting with = + - @ as text', async () => {
    const wb = new ExcelJS.Workbook();
    const sheet = wb.addWorksheet('名册');
    sheet.addRow(['工号', '姓名', '手机', '网格编码', '角色']);
    sheet.addRow(['A001', '=HYPERLINK("http://evil")', 13800138000, { formula: '"3799"&"01001001001"', result: '379901001001001' }, '网格长']);
    sheet.addRow(['A002', '@李娜', '13900139000', '379901001001002', { richText: [{ text: '专' }, { text: '职' }] }]);
    const path = join(dir, 'roster.xlsx');
    await wb.xlsx.writeFile(path);
    const table = await readTable(path);
    expect(table.format).toBe('xlsx');
    expect(table.rows).toEqual([
      { line: 2, cells: ['A001', '=HYPERLINK("http://evil")', '13800138000', '379901001001001', '网格长'] },
      { line: 3, cells: ['A002', '@李娜', '13900139000', '379901001001002', '专职'] },
    ]);
    const { changes } = buildStaff(table, city, 'roster.xlsx', new Date());
    expect(changes!.map((c) => c.op === 'upsert' && (c.data as { name: string }).name)).toEqual(['=HYPERLINK("http://evil")', '@李娜']);
  });
});

describe('the staff roster', () => {
  const now = new Date('2026-11-30T08:00:00Z');
  it('maps a clean roster (GBK) onto the stored grids', async () => {
    const table = await readTable(file(iconv.encode(ROSTER, 'gbk')));
    expect(table.encoding).toBe('gb18030');
    const { report, changes } = buildStaff(table, city, 'r.csv', now);
    expect(report.issues).toEqual([]);
    expect(report.counts).toEqual({ added: 3, updated: 0, removed: 0 });
    const staff = changes!.map((c) => (c.op === 'upsert' ? (c.data as Staff) : null));
    expect(staff[0]).toEqual({ id: 'A001', name: '张伟', phone: '13800138000', role: 'grid-leader', gridId: 'g379901001001001', districtId: 'd379901', status: 'idle', position: city.get('grids', 'g379901001001001')!.center, sipUser: 'A001', openTasks: 0, updatedAt: now.toISOString() });
    expect(staff.map((s) => s && [s.id, s.phone, s.role, s.name])).toEqual([
      ['A001', '13800138000', 'grid-leader', '张伟'],
      ['A002', '0755-83001234', 'full-time', '李娜'],
      ['A003', '13900139000', 'part-time', '王, 芳'],
    ]);
  });
  it('accepts English and pinyin headers', async () => {
    const table = await readTable(file('ID,Name,Mobile,grid_code,Role\nB1,Li Lei,13800138001,379901001001001,full-time\n'));
    expect(buildStaff(table, city, 'r.csv', now).report.issues).toEqual([]);
    const pinyin = await readTable(file('gonghao,xingming,shouji,WGBM,JS\nB1,Li Lei,13800138001,379901001001001,兼职\n'));
    expect(buildStaff(pinyin, city, 'r.csv', now).report.issues).toEqual([]);
  });
  it('takes 下沉干部 (cadres) pre-assigned to a grid, standing by (offline) until a level calls them', async () => {
    const { report, changes } = buildStaff(await readTable(file('工号,姓名,手机,网格编码,角色\nC1,刘洋,13800138009,379901001001001,下沉干部\n')), city, 'r.csv', now);
    expect(report.issues).toEqual([]);
    expect(changes![0]).toMatchObject({ op: 'upsert', data: { id: 'C1', role: 'cadre', gridId: 'g379901001001001', status: 'offline' } });
  });
  it('refuses the whole file and names every bad row with its line and reason', async () => {
    const bad = ROSTER + 'A001,赵六,13800138002,379901001001001,专职\nA005,,13800138003,379901001001001,专职\nA006,钱七,12345,379901001001001,专职\nA007,孙八,13800138004,379901001001001,组长\nA008,周九,13800138005,379999001001001,专职\nA009,吴十,13800138006,3799,专职\n';
    const { report, changes } = buildStaff(await readTable(file(bad)), city, 'bad.csv', now);
    expect(changes).toBeNull();
    expect(report.issues.map((i) => [i.line, i.kind])).toEqual([
      [5, 'duplicate-id'],
      [6, 'missing-value'],
      [7, 'bad-phone'],
      [8, 'bad-role'],
      [9, 'unknown-grid'],
      [10, 'unknown-grid'],
    ]);
    const lines = formatTableReport(report, 'refused');
    expect(lines.join('\n')).toMatch(/\[第5行 line 5, 工号 id A001\] 工号重复，与第2行相同 \/ duplicate 工号 \(staff id\), also on line 2/);
    expect(lines.at(-1)).toMatch(/6 个错误.*未写入任何数据 \/ 6 error\(s\).*nothing written/);
  });
  it('refuses a roster missing a column', async () => {
    const { report } = buildStaff(await readTable(file('工号,姓名,网格编码,角色\nA1,张三,379901001001001,专职\n')), city, 'r.csv', now);
    expect(report.issues.map((i) => i.kind)).toEqual(['missing-column']);
    expect(report.issues[0]!.zh).toContain('手机');
  });
  it('removes staff not in the file, but refuses to remove one holding open events (naming them)', async () => {
    const state = new CityState(undefined, 0);
    state.apply([...city.collections.grids.values()].map((g) => upsert('grids', g)));
    const old = { id: 'OLD1', name: '老王', phone: '13800000000', role: 'full-time' as const, gridId: 'g379901001001001', districtId: 'd379901', status: 'handling' as const, position: null, sipUser: 'OLD1', openTasks: 1, updatedAt: now.toISOString() };
    const kept = { ...old, id: 'A001', name: '张伟', status: 'patrolling' as const, position: [116.381, 39.901] as [number, number] };
    const gone = { ...old, id: 'OLD2', openTasks: 0 };
    state.apply([upsert('staff', old), upsert('staff', kept), upsert('staff', gone)]);
    const event = { id: 'E2026113000001', status: 'handling', assignee: { departmentId: null, staffId: 'OLD1' } } as unknown as GovEvent;
    state.apply([upsert('events', event), upsert('events', { ...event, id: 'E2026113000002', status: 'closed' })]);
    const refused = buildStaff(await readTable(file(ROSTER)), state, 'r.csv', now);
    expect(refused.changes).toBeNull();
    expect(refused.report.issues).toHaveLength(1);
    expect(refused.report.issues[0]).toMatchObject({ kind: 'has-open-events', id: 'OLD1' });
    expect(refused.report.issues[0]!.zh).toContain('E2026113000001');
    expect(refused.report.issues[0]!.zh).not.toContain('E2026113000002');
    state.apply([upsert('events', { ...event, status: 'closed' })]);
    const { report, changes } = buildStaff(await readTable(file(ROSTER)), state, 'r.csv', now);
    expect(report.counts).toEqual({ added: 2, updated: 1, removed: 2 });
    expect(changes!.filter((c) => c.op === 'remove').map((c) => c.id).sort()).toEqual(['OLD1', 'OLD2']);
    const a001 = changes!.find((c) => c.op === 'upsert' && c.id === 'A001');
    expect(a001?.op === 'upsert' && a001.data).toMatchObject({ status: 'patrolling', position: [116.381, 39.901], openTasks: 1 });
  });
  it('normalises phones', () => {
    expect(normalisePhone('+86 138-0013-8000')).toBe('13800138000');
    expect(normalisePhone('010 6512 3456')).toBe('010-65123456');
    expect(normalisePhone('0755-83001234转808')).toBe('0755-83001234-808');
    expect(normalisePhone('110')).toBeNull();
    expect(normalisePhone('23800138000')).toBeNull();
  });
});

describe('the camera list', () => {
  const id = (k: number): string => `3701020000131${String(k).padStart(7, '0')}`;
  const HEAD = '国标编码,名称,经度,纬度,方向,视场角,在线状态,视频流地址\n';
  it('maps cameras to the grid holding their position, with the stream template for rows without a URL', async () => {
    const csv = HEAD + `${id(1)},东城一号,116.3825,39.9025,90,60,在线,\n${id(2)},西城二号,116.4175,39.9075,,,离线,https://vms.example/hls/${id(2)}/index.m3u8\n`;
    const { report, changes } = buildCameras(await readTable(file(csv)), city, 'c.csv', { crs: 'wgs84', streamTemplate: 'https://vms.example/live/{id}.flv' });
    expect(report.issues).toEqual([]);
    const cams = changes!.map((c) => (c.op === 'upsert' ? c.data : null));
    expect(cams[0]).toEqual({ id: id(1), name: '东城一号', kind: 'tianwang', position: [116.3825, 39.9025], heading: 90, fov: 60, gridId: 'g379901001001001', districtId: 'd379901', online: true, streams: [{ protocol: 'flv', url: `https://vms.example/live/${id(1)}.flv`, codec: 'h264' }] });
    expect(cams[1]).toMatchObject({ gridId: 'g379902002002002', districtId: 'd379902', online: false, heading: 0, fov: 360, streams: [{ protocol: 'hls' }] });
  });
  it('gives every camera the platform\'s playback template (复盘回放), its kind from the URL; refuses one that is not a template', async () => {
    const csv = HEAD + `${id(1)},东城一号,116.3825,39.9025,90,60,在线,https://vms.example/live/${id(1)}.flv\n`;
    const table = await readTable(file(csv));
    const kinds = [
      ['https://vms.example/record/{id}.m3u8?start={fromUnix}&end={toUnix}', 'hls-range'],
      ['https://vms.example/record/{id}.mp4?from={from}&to={to}', 'mp4-range'],
      ['https://wvp.example/api/playback/start/{id}?startTime={from}&endTime={to}', 'gb28181-http'],
    ] as const;
    for (const [template, kind] of kinds) {
      const { changes } = buildCameras(table, city, 'c.csv', { crs: 'wgs84', playbackTemplate: template });
      const camera = changes!.find((c) => c.op === 'upsert')!;
      expect(camera.op === 'upsert' && camera.data).toMatchObject({ playback: { kind, urlTemplate: template.replace('{id}', '{cameraId}'), codec: 'h264' } });
    }
    for (const bad of ['https://vms.example/record/all.m3u8?start={fromUnix}', 'https://vms.example/record/{id}.m3u8', 'rtsp://vms.example/{id}?t={from}']) {
      const { report, changes } = buildCameras(table, city, 'c.csv', { crs: 'wgs84', playbackTemplate: bad });
      expect(changes).toBeNull();
      expect(report.issues[0]).toMatchObject({ severity: 'error', kind: 'bad-url', zh: expect.stringContaining('回放地址模板') });
    }
  });
  it('refuses bad ids, duplicates, positions outside every grid and unusable URLs, each with its line', async () => {
    const csv = HEAD + `${id(1)},一,116.3825,39.9025,,,在线,\n12345,二,116.3825,39.9025,,,在线,\n${id(1)},三,116.3825,39.9025,,,在线,\n${id(4)},四,117.5,39.9,,,在线,\n${id(5)},五,116.3825,39.9025,,,在线,rtsp://10.0.0.1/live\n${id(6)},六,116.3825,39.9025,400,,在线,\n${id(7)},七,116.3825,39.9025,,,不知道,\n`;
    const { report, changes } = buildCameras(await readTable(file(csv)), city, 'c.csv', { crs: 'wgs84' });
    expect(changes).toBeNull();
    expect(report.issues.filter((i) => i.severity === 'error').map((i) => [i.line, i.kind])).toEqual([
      [3, 'bad-id'],
      [4, 'duplicate-id'],
      [5, 'outside-grids'],
      [6, 'bad-url'],
      [7, 'bad-number'],
      [8, 'bad-number'],
    ]);
  });
  it('converts GCJ-02 positions with crs.ts before locating them', async () => {
    // 116.3825, 39.9025 in WGS84 is about 116.3887, 39.9039 in GCJ-02: as WGS84 it would be in another grid
    const csv = HEAD + `${id(1)},一,116.38874,39.90390,,,在线,\n`;
    const gcj = buildCameras(await readTable(file(csv)), city, 'c.csv', { crs: 'gcj02' });
    const cam = gcj.changes![0]!;
    expect(cam.op === 'upsert' && cam.data).toMatchObject({ gridId: 'g379901001001001' });
  });
  it('knows which URLs a browser plays', () => {
    expect(streamOf('https://v.example/live/1.flv', 'h264')?.protocol).toBe('flv');
    expect(streamOf('wss://v.example/live/1.flv', 'h264')?.protocol).toBe('flv');
    expect(streamOf('/video/x/index.m3u8', 'h264')?.protocol).toBe('hls');
    expect(streamOf('https://v.example/index/api/webrtc?app=live', 'h264')?.protocol).toBe('webrtc');
    expect(streamOf('rtsp://10.0.0.1/live', 'h264')).toBeNull();
    expect(streamOf('javascript:alert(1)', 'h264')).toBeNull();
    expect(streamOf('https://v.example/page.html', 'h264')).toBeNull();
  });
});
