/**
 * The sample city's registers (人、地、事、物、组织), generated like the rest of it (sample-city.ts): population.csv
 * (户数 and 人口 per grid, as the civil-affairs office counts them), places.csv (schools, a hospital, markets, a
 * hazardous-goods site, crowded places, enterprises, social organisations, offices; positions in GCJ-02) and
 * persons.csv — a 重点人员 / 特殊群体 register of invented people whose 公民身份号码 are valid in form (GB 11643
 * check character) but made up on the sample city's own area code, so they name nobody.
 */
import { idCheckChar } from '../../domain';
import { Rng } from '../city-generator/random';
import { mobilePhone, personName } from '../city-generator/names';
import { fromWgs84 } from './crs';
import { sampleCity } from './sample-city';

const STEP = 0.005;
const pad = (n: number, w: number): string => String(n).padStart(w, '0');

/** 网格编码, 户数, 人口 for every grid (a few hundred households a grid, about 2.7 people each). */
export function samplePopulationRows(): Array<Array<string | number>> {
  const rng = new Rng('sample-city:population');
  return [['网格编码', '户数', '人口'], ...sampleCity().map((g) => {
    const households = 280 + Math.floor(rng.next() * 160);
    return [g.code, households, Math.round(households * (2.4 + rng.next() * 0.6))];
  })];
}

const PLACES: Array<{ kind: string; name: string }> = [
  { kind: '学校', name: '实验小学' },
  { kind: '医院', name: '社区卫生服务中心' },
  { kind: '市场/商超', name: '农贸市场' },
  { kind: '危化品场所', name: '加油站' },
  { kind: '人员密集场所', name: '文化广场' },
  { kind: '企业', name: '物流有限公司' },
  { kind: '社会组织', name: '志愿者协会' },
  { kind: '机关单位', name: '街道办事处' },
];

/** One place per grid, kinds in turn; positions in the grid's south-west quarter, GCJ-02. */
export function samplePlaceRows(): Array<Array<string | number>> {
  const rng = new Rng('sample-city:places');
  const toGcj = fromWgs84('gcj02');
  const rows: Array<Array<string | number>> = [['编码', '名称', '类别', '地址', '经度', '纬度', '联系人', '联系电话', '备注']];
  sampleCity().forEach((g, i) => {
    const place = PLACES[i % PLACES.length]!;
    const [x0, y0] = g.ring[0]!;
    const [lon, lat] = toGcj([x0 + STEP * (0.2 + rng.next() * 0.2), y0 + STEP * (0.2 + rng.next() * 0.2)]);
    const community = String(g.properties.SQMC);
    rows.push([`CS${pad(i + 1, 4)}`, `${community}${place.name}`, place.kind, `${community}${i + 1}号`, Number(lon.toFixed(6)), Number(lat.toFixed(6)), personName(rng), mobilePhone(rng), '']);
  });
  return rows;
}

const CATEGORIES = ['独居老人', '留守儿童', '残疾人', '低保户', '社区矫正对象', '刑满释放人员', '严重精神障碍患者', '重点上访人员'];

/** An invented 18-character ID on the sample city's area code: a real date, the right check character. */
function sampleIdNumber(area: string, rng: Rng, serial: number): string {
  const year = 1940 + Math.floor(rng.next() * 70);
  const month = 1 + Math.floor(rng.next() * 12);
  const day = 1 + Math.floor(rng.next() * 28);
  const first17 = `${area}${year}${pad(month, 2)}${pad(day, 2)}${pad(serial % 1000, 3)}`;
  return first17 + idCheckChar(first17);
}

/** Two or three people per grid, categories in turn, 关注等级 1–3. */
export function samplePersonRows(): Array<Array<string | number>> {
  const rng = new Rng('sample-city:persons');
  const rows: Array<Array<string | number>> = [['姓名', '公民身份号码', '类别', '网格编码', '地址', '联系电话', '关注等级', '备注']];
  let n = 0;
  for (const g of sampleCity()) {
    const count = 2 + (Number(g.code.slice(-1)) % 2);
    for (let k = 0; k < count; k++, n++) {
      rows.push([personName(rng), sampleIdNumber(g.code.slice(0, 6), rng, n + 1), CATEGORIES[n % CATEGORIES.length]!, g.code, `${String(g.properties.SQMC)}${10 + n}号楼`, mobilePhone(rng), 1 + (n % 3), '']);
    }
  }
  return rows;
}
