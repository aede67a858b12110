/**
 * `npm run backend -- import staff` and `import cameras` on a real SQLite file and a real PostgreSQL: the sample
 * city of harness/grid-files.ts imported first (as in grid-import.test.ts), then a roster CSV in GBK (as Excel in
 * China saves it) and a camera XLSX written here with exceljs; bad files refused with their report and nothing
 * written.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import iconv from 'iconv-lite';
import ExcelJS from 'exceljs';
import { generateCity } from '../../backend/city-generator/city';
import { openStore } from '../../backend/store/open';
import { seedCity } from '../../backend/city-setup';
import { featureCollection, geoJsonText, sampleCity } from '../../harness/grid-files';
import { backendImport, forEachStore, seqOf } from '../../harness/import-cli';

const dir = mkdtempSync(join(tmpdir(), 'people-import-it-'));



const ROSTER = '工号,姓名,手机号码,网格编码,角色\nWG001,张伟,13800138000,379901001001001,网格长\nWG002,欧阳娜娜,0755-83001234,379901001001002,专职\nWG003,"王芳\n（借调）",13900139000,379902002002002,兼职\n';
const camId = (k: number): string => `3701020000132${String(k).padStart(7, '0')}`;

async function cameraXlsx(path: string, rows: unknown[][]): Promise<string> {
  const wb = new ExcelJS.Workbook();
  const sheet = wb.addWorksheet('通道列表');
  sheet.addRow(['国标编码', '名称', '经度', '纬度', '方向', '视场角', '在线状态', '视频流地址']);
  for (const row of rows) sheet.addRow(row);
  await wb.xlsx.writeFile(path);
  return path;
}

function suite(kind: string, database: () => Promise<string>): void {
  describe(kind, () => {
    let db: string;
    beforeAll(async () => {
      db = await database();
      const store = await openStore(db);
      const city = generateCity({ seed: 1, scale: 0.05, staffPerGrid: 0, epoch: new Date().toISOString() });
      await seedCity(store, city, new Date().toISOString());
      await store.setMeta('city', JSON.stringify({ seed: 1, scale: 0.05, staffPerGrid: 0 }));
      await store.close();
      const gridsFile = join(dir, `${kind}-city.geojson`);
      writeFileSync(gridsFile, geoJsonText(featureCollection(sampleCity())));
      const grids = await backendImport(['grids', gridsFile, '--crs', 'wgs84', '--db', db]);
      expect(grids.code, grids.stdout + grids.stderr).toBe(0);
    }, 120_000);

    it('imports a GBK roster: the staff on the imported grids, one change batch', async () => {
      const file = join(dir, `${kind}-roster.csv`);
      writeFileSync(file, iconv.encode(ROSTER, 'gbk'));
      const before = await seqOf(db);
      const run = await backendImport(['staff', file, '--db', db]);
      expect(run.code, run.stdout + run.stderr).toBe(0);
      expect(run.stdout).toMatch(/编码 encoding gb18030/);
      expect(run.stdout).toMatch(/已导入.*imported.*新增 3 added/);
      const store = await openStore(db);
      const { state, seq } = await store.load();
      expect(seq).toBe(before + 1);
      expect([...state.staff.keys()].sort()).toEqual(['WG001', 'WG002', 'WG003']);
      expect(state.staff.get('WG002')).toMatchObject({ name: '欧阳娜娜', phone: '0755-83001234', role: 'full-time', gridId: 'g379901001001002', districtId: 'd379901', status: 'idle', sipUser: 'WG002', openTasks: 0 });
      expect(state.staff.get('WG003')!.name).toBe('王芳\n（借调）');
      expect(state.staff.get('WG001')!.position).toEqual(state.grids.get('g379901001001001')!.center);
      await store.close();
    }, 60_000);

    it('imports a camera XLSX: grids found from the positions, the generated cameras replaced', async () => {
      const file = await cameraXlsx(join(dir, `${kind}-cameras.xlsx`), [
        [camId(1), '东城一号', 116.3825, 39.9025, 90, 60, '在线', ''],
        [camId(2), '西城二号', { formula: '116.41+0.0075', result: 116.4175 }, 39.9075, '', '', '离线', `https://vms.example/hls/${camId(2)}.m3u8`],
      ]);
      const run = await backendImport(['cameras', file, '--crs', 'wgs84', '--stream-template', 'https://vms.example/live/{id}.flv', '--db', db]);
      expect(run.code, run.stdout + run.stderr).toBe(0);
      expect(run.stdout).toMatch(/新增 2 added.*删除 \d+ removed/);
      const store = await openStore(db);
      const { state } = await store.load();
      expect([...state.cameras.keys()].sort()).toEqual([camId(1), camId(2)]);
      expect(state.cameras.get(camId(1))).toMatchObject({ gridId: 'g379901001001001', districtId: 'd379901', online: true, heading: 90, fov: 60, streams: [{ protocol: 'flv', url: `https://vms.example/live/${camId(1)}.flv` }] });
      expect(state.cameras.get(camId(2))).toMatchObject({ gridId: 'g379902002002002', districtId: 'd379902', online: false, position: [116.4175, 39.9075], streams: [{ protocol: 'hls' }] });
      await store.close();
    }, 60_000);

    it('refuses bad files with their report and writes nothing', async () => {
      const before = await seqOf(db);
      const badRoster = join(dir, `${kind}-bad-roster.csv`);
      writeFileSync(badRoster, iconv.encode(ROSTER + 'WG001,李四,13800138001,379901001001001,专职\nWG009,赵六,12345,379999001001001,组长\n', 'gbk'));
      const staff = await backendImport(['staff', badRoster, '--db', db]);
      expect(staff.code, staff.stdout + staff.stderr).toBe(4);
      expect(staff.stdout).toMatch(/\[第6行 line 6, 工号 id WG001\] 工号重复/);
      expect(staff.stdout).toMatch(/\[第7行 line 7, 工号 id WG009\].*不是手机号/);
      expect(staff.stdout).toMatch(/未写入任何数据 \/ \d+ error\(s\).*nothing written/);
      const undecidable = join(dir, `${kind}-junk.csv`);
      writeFileSync(undecidable, Buffer.from([0xe5, 0xb7, 0xa5, 0xff, 0xfe, 0x80, 0x0a]));
      const junk = await backendImport(['staff', undecidable, '--db', db]);
      expect(junk.code).toBe(4);
      expect(junk.stdout).toMatch(/--encoding/);
      const badCameras = await cameraXlsx(join(dir, `${kind}-bad-cameras.xlsx`), [
        [camId(1), '一', 116.3825, 39.9025, '', '', '在线', 'rtsp://10.0.0.1/live'],
        ['3701', '二', 116.3825, 39.9025, '', '', '在线', ''],
        [camId(3), '三', 120, 30, '', '', '在线', ''],
      ]);
      const cams = await backendImport(['cameras', badCameras, '--crs', 'wgs84', '--db', db]);
      expect(cams.code, cams.stdout + cams.stderr).toBe(4);
      expect(cams.stdout).toMatch(/第2行.*RTSP/);
      expect(cams.stdout).toMatch(/第3行.*不是 20 位数字/);
      expect(cams.stdout).toMatch(/第4行.*不在任何网格内.*outside every grid/);
      expect(await seqOf(db)).toBe(before);
    }, 120_000);
  });
}

describe('import staff/cameras: usage', () => {
  it('exits 2 on bad usage', async () => {
    expect((await backendImport(['people', join(dir, 'x.csv')])).code).toBe(2);
    expect((await backendImport(['staff', join(dir, 'x.csv'), '--crs', 'gcj02'])).code).toBe(2);
  });
});

forEachStore(dir, suite);
