/**
 * 地、物、组织: the city's places and organisations (编码, 名称, 类别, 地址, 经度, 纬度, 联系人, 联系电话, 备注), each
 * placed in its grid by its position (the domain's GridLocator over the store's grids), all or nothing; the
 * city's places become the file's (those not in it removed).
 */
import { GridLocator, upsert, type CityState } from '../../domain';
import { PLACE_KIND_LABELS, PlaceKind, type Change, type Place } from '../../protocol';
import { cellOf, placedAt, startTable } from './columns';
import { toWgs84, type Crs } from './crs';
import type { TableReport } from './report';
import { normalisePhone } from './roster';
import type { Table } from './table';

export const PLACE_COLUMNS = {
  code: ['编码', '场所编码', '单位编码', '统一社会信用代码', 'code', 'id', 'BM'],
  name: ['名称', '场所名称', '单位名称', 'name', 'MC'],
  kind: ['类别', '类型', '场所类别', 'kind', 'type', 'category', 'LB'],
  address: ['地址', '详细地址', 'address', 'DZ'],
  lon: ['经度', 'longitude', 'lon', 'lng', 'JD', 'x'],
  lat: ['纬度', 'latitude', 'lat', 'WD', 'y'],
  contactName: ['联系人', '负责人', 'contact', 'contactName', 'contact_name', 'LXR'],
  contactPhone: ['联系电话', '电话', '手机', 'phone', 'contactPhone', 'contact_phone', 'LXDH'],
  note: ['备注', 'note', 'remark', 'BZ'],
} as const;
type Col = keyof typeof PLACE_COLUMNS;
const LABEL: Record<Col, string> = { code: '编码', name: '名称', kind: '类别', address: '地址', lon: '经度', lat: '纬度', contactName: '联系人', contactPhone: '联系电话', note: '备注' };

/** The kinds by what a file may write: each Chinese label, its parts (市场, 商超), a few synonyms, the ids. */
const KINDS = new Map<string, PlaceKind>();
for (const kind of PlaceKind.options) {
  KINDS.set(kind, kind);
  for (const part of PLACE_KIND_LABELS[kind].zh.split('/')) KINDS.set(part, kind);
  KINDS.set(PLACE_KIND_LABELS[kind].zh, kind);
}
for (const [text, kind] of Object.entries({ 幼儿园: 'school', 中小学: 'school', 卫生院: 'hospital', 诊所: 'hospital', 商场: 'market', 超市: 'market', 农贸市场: 'market', 危险化学品场所: 'hazardous', 加油站: 'hazardous', 人员密集: 'crowded', 公司: 'enterprise', 社会团体: 'organisation', 社团: 'organisation', 机关: 'government', 事业单位: 'government' } as const)) KINDS.set(text, kind);

export function buildPlaces(table: Table, state: CityState, file: string, crs: Crs): { report: TableReport; changes: Change[] | null } {
  const started = startTable<Col>('places', table, file, PLACE_COLUMNS, ['code', 'name', 'kind', 'lon', 'lat'], LABEL, { zh: '文件中没有场所', en: 'the file has no rows' });
  const { report, issues, cols, error } = started;
  report.crs = crs;
  if (!cols) return { report, changes: null };
  const convert = toWgs84(crs);
  const locator = new GridLocator(state.collections.grids.values());
  const seen = new Map<string, number>();
  const places: Place[] = [];
  for (const row of table.rows) {
    const cell = cellOf(cols, row);
    const code = cell('code');
    let ok = true;
    if (!/^[\w.-]{1,64}$/u.test(code)) {
      error(row, code || undefined, 'bad-id', `编码“${code}”须为 1–64 个字母、数字、点、横线或下划线`, `code "${code}" must be 1–64 letters, digits, dots, dashes or underscores`);
      ok = false;
    } else if (seen.has(code)) {
      error(row, code, 'duplicate-id', `编码重复，与第${seen.get(code)}行相同`, `duplicate code, also on line ${seen.get(code)}`);
      ok = false;
    } else seen.set(code, row.line);
    const name = cell('name');
    if (name === '') {
      error(row, code, 'missing-value', '名称为空', 'empty name');
      ok = false;
    }
    const kind = KINDS.get(cell('kind')) ?? KINDS.get(cell('kind').toLowerCase());
    if (!kind) {
      const known = PlaceKind.options.map((k) => PLACE_KIND_LABELS[k].zh).join('、');
      error(row, code, 'bad-kind', `类别“${cell('kind')}”不认识（可用：${known}）`, `unknown kind "${cell('kind')}" (known: ${PlaceKind.options.join(', ')})`);
      ok = false;
    }
    const placed = placedAt(cell('lon'), cell('lat'), convert, locator);
    const [position, grid] = 'grid' in placed ? [placed.position, placed.grid] : [null, null];
    if (!('grid' in placed)) {
      error(row, code, placed.kind, placed.zh, placed.en);
      ok = false;
    }
    const contactName = cell('contactName');
    const phoneText = cell('contactPhone');
    const phone = phoneText === '' ? '' : normalisePhone(phoneText);
    if (phone === null) {
      // The contact's phone is personal data: the report gives its length, never the number.
      error(row, code, 'bad-phone', `联系电话不是手机号或固定电话（${phoneText.length} 个字符）`, `the contact phone is not a mobile or landline number (${phoneText.length} characters)`);
      ok = false;
    }
    if (!ok || !kind || !position || !grid || phone === null) continue;
    places.push({
      id: `pl-${code}`,
      code,
      name,
      kind,
      address: cell('address'),
      position,
      gridId: grid.id,
      communityId: grid.communityId,
      streetId: grid.streetId,
      districtId: grid.districtId,
      contact: contactName === '' && phone === '' ? null : { name: contactName, phone },
      note: cell('note'),
    });
  }
  if (issues.some((i) => i.severity === 'error')) return { report, changes: null };
  const changes: Change[] = [];
  const keep = new Set(places.map((p) => p.id));
  for (const id of state.collections.places.keys()) if (!keep.has(id)) changes.push({ op: 'remove', collection: 'places', id });
  report.counts.removed = changes.length;
  for (const p of places) {
    if (state.collections.places.has(p.id)) report.counts.updated++;
    else report.counts.added++;
    changes.push(upsert('places', p));
  }
  return { report, changes };
}
