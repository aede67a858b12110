/**
 * The city's registers on a real SQLite file and a real PostgreSQL: `import population`, `import places` and
 * `import persons` through the command line (GBK CSV, XLSX), bad files refused with line numbers and nothing
 * written; the 重点人员 register read over real HTTP (GET /city/key-persons) per role, each read audited, none of
 * it in the change log or the city's records; and a hub's demo window getting masked rows.
 */
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import iconv from 'iconv-lite';
import ExcelJS from 'exceljs';
import { generateCity } from '../../backend/city-generator/city';
import { openStore, type RunningStore } from '../../backend/store/open';
import { seedCity } from '../../backend/city-setup';
import { keyPersonRoutes } from '../../backend/key-persons';
import { hashToken } from '../../backend/users';
import type { AuditEntry } from '../../backend/store/types';
import { CityState, idCheckChar } from '../../domain';
import { Hub } from '../../hub';
import { KeyPersonsAnswer } from '../../protocol';
import { featureCollection, geoJsonText, sampleCity } from '../../harness/grid-files';
import { backendImport, forEachStore, seqOf } from '../../harness/import-cli';

const dir = mkdtempSync(join(tmpdir(), 'city-registers-it-'));
const G1 = '379901001001001'; // 东城区, at 116.38…116.385, 39.90…39.905
const G8 = '379902002002002'; // 西城区
const idNo = (body17: string): string => body17 + idCheckChar(body17);
const P1 = idNo('11010119800101123');
const P2 = idNo('11010219900315456');
const P3 = idNo('11010520100607001');
const TOKENS = { leader: 'tok-reg-leader', duty: 'tok-reg-duty', dispatcher: 'tok-reg-dispatcher', scoped: 'tok-reg-scoped' } as const;

const PERSONS = `姓名,公民身份号码,类别,网格编码,地址,联系电话,关注等级,备注\n张三丰,${P1},刑满释放人员,${G1},东城区一巷1号,13800138000,1,每月走访\n李四,${P2},独居老人,${G1},东城区一巷2号,,2,\n王小明,${P3},留守儿童,${G8},西城区二巷3号,0755-83001234,3,\n`;

async function placesXlsx(path: string, rows: unknown[][]): Promise<string> {
  const wb = new ExcelJS.Workbook();
  const sheet = wb.addWorksheet('场所');
  sheet.addRow(['编码', '名称', '类别', '地址', '经度', '纬度', '联系人', '联系电话', '备注']);
  for (const row of rows) sheet.addRow(row);
  await wb.xlsx.writeFile(path);
  return path;
}

async function auditOf(store: RunningStore): Promise<AuditEntry[]> {
  return (store as unknown as { auditLog(): AuditEntry[] | Promise<AuditEntry[]> }).auditLog();
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
      await store.upsertUsers([
        { id: 'leader', name: '指挥长', role: 'leader', districtScope: null, tokenHash: hashToken(TOKENS.leader), departmentId: null, staffId: null },
        { id: 'duty', name: '值班员', role: 'duty', districtScope: null, tokenHash: hashToken(TOKENS.duty), departmentId: null, staffId: null },
        { id: 'dispatcher', name: '调度员', role: 'dispatcher', districtScope: null, tokenHash: hashToken(TOKENS.dispatcher), departmentId: null, staffId: null },
        { id: 'scoped', name: '西城调度员', role: 'dispatcher', districtScope: ['d379902'], tokenHash: hashToken(TOKENS.scoped), departmentId: null, staffId: null },
      ]);
      await store.close();
      const gridsFile = join(dir, `${kind}-city.geojson`);
      writeFileSync(gridsFile, geoJsonText(featureCollection(sampleCity())));
      const grids = await backendImport(['grids', gridsFile, '--crs', 'wgs84', '--db', db]);
      expect(grids.code, grids.stdout + grids.stderr).toBe(0);
    }, 120_000);

    it('imports population per grid (GBK CSV), places (XLSX) and the key-person register; bad files change nothing', async () => {
      const pop = join(dir, `${kind}-population.csv`);
      writeFileSync(pop, iconv.encode(`网格编码,户数,人口\n${G1},412,1234\n${G8},"1,005",3010\n`, 'gbk'));
      const before = await seqOf(db);
      const ran = await backendImport(['population', pop, '--db', db]);
      expect(ran.code, ran.stdout + ran.stderr).toBe(0);
      expect(ran.stdout).toMatch(/编码 encoding gb18030/);
      expect(ran.stdout).toMatch(/14 个网格不在文件中，保留原有户数和人口/);
      const badPop = join(dir, `${kind}-bad-population.csv`);
      writeFileSync(badPop, `grid_code,households,population\n${G1},-1,10\n379999001001001,1,1\n${G8},2,2.5\n${G8},1,1\n`);
      const refusedPop = await backendImport(['population', badPop, '--db', db]);
      expect(refusedPop.code).toBe(4);
      expect(refusedPop.stdout).toMatch(/第2行.*户数“-1”须为非负整数/);
      expect(refusedPop.stdout).toMatch(/第3行.*不是已导入的网格/);
      expect(refusedPop.stdout).toMatch(/第4行.*人口“2.5”/);
      expect(refusedPop.stdout).toMatch(/第5行.*网格重复，与第4行相同/);

      const places = await placesXlsx(join(dir, `${kind}-places.xlsx`), [
        ['SCH-001', '东城第一小学', '学校', '东城区一巷10号', 116.3825, 39.9025, '赵校长', '13900139000', '=SUM(A1) 不是公式'],
        ['HAZ-002', '西城加油站', '危化品场所', '', 116.4175, 39.9075, '', '', ''],
      ]);
      const placed = await backendImport(['places', places, '--crs', 'wgs84', '--db', db]);
      expect(placed.code, placed.stdout + placed.stderr).toBe(0);
      expect(placed.stdout).toMatch(/新增 2 added/);
      const badPlaces = await placesXlsx(join(dir, `${kind}-bad-places.xlsx`), [
        ['SCH-001', '一', '游乐场', '', 116.3825, 39.9025, '', '', ''],
        ['SCH-001', '二', '学校', '', 120, 30, '', '', ''],
      ]);
      const refusedPlaces = await backendImport(['places', badPlaces, '--db', db]);
      expect(refusedPlaces.code).toBe(4);
      expect(refusedPlaces.stdout).toMatch(/第2行.*类别“游乐场”不认识/);
      expect(refusedPlaces.stdout).toMatch(/第3行.*编码重复/);
      expect(refusedPlaces.stdout).toMatch(/第3行.*不在任何网格内/);

      const persons = join(dir, `${kind}-persons.csv`);
      writeFileSync(persons, iconv.encode(PERSONS, 'gbk'));
      const people = await backendImport(['persons', persons, '--db', db]);
      expect(people.code, people.stdout + people.stderr).toBe(0);
      expect(people.stdout).toMatch(/不进入变更日志.*3 人 persons/);
      const badPersons = join(dir, `${kind}-bad-persons.csv`);
      const wrongCheck = P2.slice(0, 17) + (P2[17] === '0' ? '1' : '0');
      writeFileSync(badPersons, PERSONS + `赵六,${wrongCheck},吸毒人员,${G1},,13700137000,1,\n钱七,${P1},算命先生,379999001001001,,13600136000,1,\n`);
      const refusedPersons = await backendImport(['persons', badPersons, '--db', db]);
      expect(refusedPersons.code).toBe(4);
      expect(refusedPersons.stdout).toMatch(/第5行.*校验位不符/);
      expect(refusedPersons.stdout).toMatch(/第6行.*公民身份号码重复，与第2行相同/);
      expect(refusedPersons.stdout).toMatch(/第6行.*类别“算命先生”不认识/);
      expect(refusedPersons.stdout).toMatch(/第6行.*网格编码“379999001001001”不是已导入的网格/);
      // The report names rows by masked ID: no whole ID number, no phone.
      for (const secret of [P1, wrongCheck, '13700137000', '13600136000']) expect(refusedPersons.stdout).not.toContain(secret);
      expect(refusedPersons.stdout).toContain(`${P1.slice(0, 4)}**********${P1.slice(-4)}`);

      expect(await seqOf(db)).toBe(before + 2); // population, places; persons outside the change log
      const store = await openStore(db);
      try {
        const { state } = await store.load();
        const grids = [...state.grids.values()];
        expect(grids.find((g) => g.code === G1)).toMatchObject({ households: 412, population: 1234 });
        expect(grids.find((g) => g.code === G8)).toMatchObject({ households: 1005, population: 3010 });
        expect(grids.find((g) => g.code === '379901001001002')).toMatchObject({ households: 300, population: 900 });
        expect(state.places.get('pl-SCH-001')).toMatchObject({ kind: 'school', gridId: `g${G1}`, districtId: 'd379901', contact: { name: '赵校长', phone: '13900139000' }, note: '=SUM(A1) 不是公式' });
        expect(state.places.get('pl-HAZ-002')).toMatchObject({ kind: 'hazardous', gridId: `g${G8}`, contact: null });
        const register = await store.keyPersonsIn([`g${G1}`, `g${G8}`]);
        expect(register.map((r) => [r.name, r.category, r.level])).toEqual([['张三丰', 'released', 1], ['李四', 'elderly-alone', 2], ['王小明', 'left-behind-child', 3]]);
        expect(register[2]!.phone).toBe('0755-83001234');
        // Nothing of the register in the city's records or its change log.
        const logged = JSON.stringify(await store.changesSince(0, 10_000)) + JSON.stringify(Object.fromEntries(Object.entries(state).map(([c, m]) => [c, [...(m as Map<string, unknown>).values()]])));
        for (const secret of [P1, P2, P3, '张三丰']) expect(logged).not.toContain(secret);
      } finally {
        await store.close();
      }
    }, 180_000);

    describe('GET /city/key-persons', () => {
      let store: RunningStore;
      let server: Server;
      let base: string;
      beforeAll(async () => {
        store = await openStore(db);
        const loaded = await store.load();
        const routes = keyPersonRoutes(store, new CityState(loaded.state, loaded.seq));
        server = createServer((req, res) => void (routes(req, res) || res.writeHead(404).end()));
        await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
        base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      });
      afterAll(async () => {
        await new Promise((done) => server.close(done));
        await store.close();
      });
      const get = (query: string, token?: string): Promise<Response> => fetch(`${base}/city/key-persons?${query}`, token ? { headers: { Authorization: `Bearer ${token}` } } : {});

      it('reveals to leader and duty, masks for a dispatcher and with masked=1, refuses outside the scope; audits every request', async () => {
        const auditBefore = (await auditOf(store)).length;
        const leader = KeyPersonsAnswer.parse(await (await get(`level=grid&id=g${G1}`, TOKENS.leader)).json());
        expect(leader).toMatchObject({ target: { level: 'grid', id: `g${G1}` }, revealed: true, maskedBecause: null, total: 2, byCategory: { released: 1, 'elderly-alone': 1 }, truncated: false });
        expect(leader.rows[0]).toMatchObject({ name: '张三丰', idNumber: P1, phone: '13800138000', address: '东城区一巷1号', note: '每月走访' });
        const district = KeyPersonsAnswer.parse(await (await get('level=district&id=d379901', TOKENS.duty)).json());
        expect(district).toMatchObject({ revealed: true, total: 2 });

        const dispatcher = KeyPersonsAnswer.parse(await (await get(`level=grid&id=g${G1}`, TOKENS.dispatcher)).json());
        expect(dispatcher).toMatchObject({ revealed: false, maskedBecause: 'role', total: 2 });
        expect(dispatcher.rows[0]).toMatchObject({ name: '张**', idNumber: `${P1.slice(0, 4)}**********${P1.slice(-4)}`, phone: '（已隐藏）', note: '（已隐藏）' });
        expect(dispatcher.rows[0]!.address).toMatch(/社区.*网格/);
        const demo = KeyPersonsAnswer.parse(await (await get(`level=grid&id=g${G1}&masked=1`, TOKENS.leader)).json());
        expect(demo).toMatchObject({ revealed: false, maskedBecause: 'demo' });
        expect(JSON.stringify(demo)).not.toContain(P1);

        const outside = await get(`level=grid&id=g${G1}`, TOKENS.scoped);
        expect(outside.status).toBe(403);
        expect(await outside.text()).toMatch(/不在您的辖区内.*outside your districts/);
        expect((await get(`level=grid&id=g${G8}`, TOKENS.scoped)).status).toBe(200);
        expect((await get(`level=grid&id=g${G1}`)).status).toBe(401);
        expect((await get(`level=grid&id=g${G1}`, 'not-a-token')).status).toBe(401);
        const bad = await get('level=city&id=x', TOKENS.leader);
        expect(bad.status).toBe(400);
        expect(await bad.text()).toMatch(/level 须为 grid、community、street 或 district/);
        expect((await get('level=grid&id=g000', TOKENS.leader)).status).toBe(404);
        expect((await get('level=street&id=d379901', TOKENS.leader)).status).toBe(404);

        const log = await auditOf(store);
        const audit = log.slice(0, log.length - auditBefore); // newest first
        expect(audit.map((a) => a.detail.refused ?? 200).reverse()).toEqual([200, 200, 200, 200, 403, 200, 401, 401, 400, 404, 404]);
        expect(audit.every((a) => a.kind === 'sensitive-read')).toBe(true);
        expect(audit.at(-1)).toMatchObject({ userId: 'leader', detail: { target: { level: 'grid', id: `g${G1}` }, revealed: true, rows: 2 } });
        expect(JSON.stringify(audit)).not.toContain(P1);
      });

      it('a demo window of a hub gets masked rows, fetched each time (a non-demo one of a leader reveals)', async () => {
        const hub = new Hub({ dataDir: join(dir, `${kind}-hub`), version: 'test', backend: { url: `${base.replace(/^http/, 'ws')}/ws`, token: TOKENS.leader }, link: { backoffBaseMs: 60_000, backoffMaxMs: 60_000 } });
        try {
          const demo = hub.openSession({ bridge: 'websocket', displayRole: 'map', label: 'demo', demo: true }, () => {});
          const reply = await demo.handle('keyPersons', { target: { level: 'grid', id: `g${G1}` } });
          expect(reply).toMatchObject({ ok: true, result: { revealed: false, maskedBecause: 'demo', total: 2 } });
          expect(JSON.stringify(reply)).not.toContain(P1);
          expect(JSON.stringify(reply)).not.toContain('13800138000');
          const desk = hub.openSession({ bridge: 'websocket', displayRole: 'dispatch', label: 'desk' }, () => {});
          expect(await desk.handle('keyPersons', { target: { level: 'grid', id: `g${G1}` } })).toMatchObject({ ok: true, result: { revealed: true, rows: [{ idNumber: P1 }, {}] } });
          expect(await desk.handle('keyPersons', { target: { level: 'grid', id: 'g000' } })).toMatchObject({ ok: false, error: { code: 'not-found' } });
          expect(await desk.handle('keyPersons', { target: { level: 'city', id: 'x' } })).toMatchObject({ ok: false, error: { code: 'invalid-params' } });
        } finally {
          hub.close();
        }
        // Never kept by the hub: its files hold no trace of the register.
        const files = readdirSync(join(dir, `${kind}-hub`));
        expect(files.length).toBeGreaterThan(0);
        for (const f of files) expect(readFileSync(join(dir, `${kind}-hub`, f)).includes(Buffer.from(P1))).toBe(false);
      });
    });
  });
}

forEachStore(dir, suite);
