/**
 * The camera list from a table as video platforms export it: the national 20-digit GB/T 28181 device/channel id,
 * name, longitude/latitude (any of the coordinate systems of crs.ts), direction and field of view (optional),
 * online state, a stream URL (or `--stream-template` with {id}). Each camera's grid and district are found from
 * its position among the grids the store holds (the domain's GridLocator), all or nothing per file; the city's
 * cameras become the file's.
 */
import { GridLocator, upsert, type CityState } from '../../domain';
import type { Change } from '../../protocol';
import type { Camera, CameraPlayback, CameraStream } from '../../protocol/model';
import { toWgs84, type Crs } from './crs';
import type { ImportIssue, TableReport } from './report';
import { columnOf, type Table, type TableRow } from './table';
import { placedAt } from './columns';

export const CAMERA_COLUMNS = {
  id: ['国标编码', '国标ID', '设备编码', '通道编码', '通道国标编码', '设备国标编码', 'gbId', 'gb_id', 'deviceId', 'channelId', 'id', 'GBBM'],
  name: ['名称', '设备名称', '通道名称', '点位名称', 'name', 'MC'],
  lon: ['经度', 'longitude', 'lon', 'lng', 'JD', 'x'],
  lat: ['纬度', 'latitude', 'lat', 'WD', 'y'],
  heading: ['方向', '朝向', '方位角', 'heading', 'direction', 'azimuth'],
  fov: ['视场角', '视角', 'fov', 'fieldOfView'],
  online: ['在线状态', '状态', '在线', 'online', 'status'],
  url: ['视频流地址', '流地址', '播放地址', 'url', 'streamUrl', 'stream'],
  codec: ['编码格式', '视频编码', 'codec'],
  kind: ['类型', '建设类型', 'kind', 'type'],
} as const;

const REQUIRED = ['id', 'name', 'lon', 'lat'] as const;
const LABEL: Record<keyof typeof CAMERA_COLUMNS, string> = { id: '国标编码', name: '名称', lon: '经度', lat: '纬度', heading: '方向', fov: '视场角', online: '在线状态', url: '视频流地址', codec: '编码格式', kind: '类型' };

const ONLINE: Record<string, boolean> = { 在线: true, 离线: false, on: true, off: false, online: true, offline: false, '1': true, '0': false, true: true, false: false, 是: true, 否: false };

/** The protocol a player needs for a URL, by its scheme and ending; null when a browser cannot play it. */
export function streamOf(url: string, codec: CameraStream['codec']): CameraStream | null {
  let parsed: URL;
  try {
    parsed = new URL(url, 'http://relative.invalid');
  } catch {
    return null;
  }
  if (!['http:', 'https:', 'ws:', 'wss:'].includes(parsed.protocol)) return null;
  if (!url.startsWith('/') && !/^(https?|wss?):\/\/[^/]/i.test(url)) return null;
  const path = parsed.pathname.toLowerCase();
  if (path.endsWith('.m3u8')) return { protocol: 'hls', url, codec };
  if (path.endsWith('.flv')) return { protocol: 'flv', url, codec };
  if (path.endsWith('.ts')) return { protocol: 'mpegts', url, codec };
  if (/\/whep\b|webrtc/.test(path)) return { protocol: 'webrtc', url, codec, offer: 'client' };
  return null;
}

export interface CameraOptions {
  crs: Crs;
  /** A URL with {id} for the cameras whose row has none. */
  streamTemplate?: string;
  /** The platform's playback (回放) URL for a time range, {id} or {cameraId} and {from}/{fromMs}/{fromUnix}… (playbackOf). */
  playbackTemplate?: string;
}

/**
 * A camera's playback from a platform's URL template (复盘回放): an HLS playlist (.m3u8) or an MP4 (.mp4) of the
 * range, otherwise a GB/T 28181 platform's HTTP 回放 API; the camera's id as {id} or {cameraId}, the range as
 * {from} {to} (ISO 8601), {fromMs} {toMs} or {fromUnix} {toUnix}. Null when it is not such a template.
 */
export function playbackOf(template: string): CameraPlayback | null {
  const urlTemplate = template.replaceAll('{id}', '{cameraId}');
  if (!urlTemplate.includes('{cameraId}') || !/\{(from|fromMs|fromUnix)\}/.test(urlTemplate) || urlTemplate.length > 1000) return null;
  if (!/^(https?:\/\/[^/\s]+)?\/\S*$/i.test(urlTemplate)) return null;
  const path = urlTemplate.split('?')[0]!.toLowerCase();
  return { kind: path.endsWith('.m3u8') ? 'hls-range' : path.endsWith('.mp4') ? 'mp4-range' : 'gb28181-http', urlTemplate };
}

export function buildCameras(table: Table, state: CityState, file: string, options: CameraOptions): { report: TableReport; changes: Change[] | null } {
  const issues: ImportIssue[] = [...table.issues];
  const report: TableReport = { what: 'cameras', file, format: table.format, ...(table.encoding ? { encoding: table.encoding } : {}), crs: options.crs, rows: table.rows.length, counts: { added: 0, updated: 0, removed: 0 }, issues };
  if (issues.some((i) => i.severity === 'error')) return { report, changes: null };
  const cols = Object.fromEntries(Object.entries(CAMERA_COLUMNS).map(([k, aliases]) => [k, columnOf(table.headers, aliases)])) as Record<keyof typeof CAMERA_COLUMNS, number>;
  for (const key of REQUIRED) {
    if (cols[key] < 0) issues.push({ severity: 'error', kind: 'missing-column', line: table.headerLine, zh: `缺少“${LABEL[key]}”列（可用列名：${CAMERA_COLUMNS[key].join('、')}）`, en: `no "${LABEL[key]}" column (accepted headers: ${CAMERA_COLUMNS[key].join(', ')})` });
  }
  if (issues.length > 0) return { report, changes: null };
  if (table.rows.length === 0) {
    issues.push({ severity: 'error', kind: 'no-rows', zh: '文件中没有摄像头', en: 'the file has no rows' });
    return { report, changes: null };
  }
  const playback = options.playbackTemplate === undefined ? undefined : playbackOf(options.playbackTemplate);
  if (playback === null) {
    issues.push({ severity: 'error', kind: 'bad-url', zh: `回放地址模板“${options.playbackTemplate}”无效：须为 http(s) 地址，含 {id} 和 {from}/{fromMs}/{fromUnix}`, en: `playback template "${options.playbackTemplate}" is not usable: an http(s) URL holding {id} and {from}/{fromMs}/{fromUnix} is needed` });
    return { report, changes: null };
  }
  const convert = toWgs84(options.crs);
  const locator = new GridLocator(state.collections.grids.values());
  const seen = new Map<string, number>();
  const cameras: Camera[] = [];
  const error = (row: TableRow, id: string | undefined, kind: ImportIssue['kind'], zh: string, en: string): void =>
    void issues.push({ severity: 'error', kind, line: row.line, ...(id ? { id } : {}), zh, en });
  let noStream = 0;

  for (const row of table.rows) {
    const cell = (k: keyof typeof cols): string => (cols[k] < 0 ? '' : (row.cells[cols[k]] ?? ''));
    const id = cell('id');
    let ok = true;
    if (!/^\d{20}$/.test(id)) {
      error(row, id || undefined, 'bad-id', `国标编码“${id}”不是 20 位数字（GB/T 28181）`, `id "${id}" is not the 20-digit GB/T 28181 code`);
      ok = false;
    } else if (seen.has(id)) {
      error(row, id, 'duplicate-id', `国标编码重复，与第${seen.get(id)}行相同`, `duplicate id, also on line ${seen.get(id)}`);
      ok = false;
    } else seen.set(id, row.line);
    const name = cell('name');
    if (name === '') {
      error(row, id, 'missing-value', '名称为空', 'empty name');
      ok = false;
    }
    const num = (k: 'lon' | 'lat' | 'heading' | 'fov'): number | null => (cell(k) === '' ? null : Number(cell(k)));
    const placed = placedAt(cell('lon'), cell('lat'), convert, locator);
    const [position, grid] = 'grid' in placed ? [placed.position, placed.grid] : [null, null];
    if (!('grid' in placed)) {
      error(row, id, placed.kind, placed.zh, placed.en);
      ok = false;
    }
    const heading = num('heading');
    if (heading !== null && !(Number.isFinite(heading) && heading >= 0 && heading <= 360)) {
      error(row, id, 'bad-number', `方向“${cell('heading')}”须为 0–360 度`, `direction "${cell('heading')}" must be 0–360 degrees`);
      ok = false;
    }
    const fov = num('fov');
    if (fov !== null && !(Number.isFinite(fov) && fov >= 1 && fov <= 360)) {
      error(row, id, 'bad-number', `视场角“${cell('fov')}”须为 1–360 度`, `field of view "${cell('fov')}" must be 1–360 degrees`);
      ok = false;
    }
    const onlineText = cell('online').toLowerCase();
    const online = onlineText === '' ? true : ONLINE[onlineText];
    if (online === undefined) {
      error(row, id, 'bad-number', `在线状态“${cell('online')}”须为 在线/离线`, `online state "${cell('online')}" must be 在线/离线 (online/offline)`);
      ok = false;
    }
    const codecText = cell('codec').toLowerCase().replace(/[.\s]/g, '');
    const codec: CameraStream['codec'] = codecText === 'h265' || codecText === 'hevc' ? 'h265' : 'h264';
    const url = cell('url') || (options.streamTemplate && /^\d{20}$/.test(id) ? options.streamTemplate.replaceAll('{id}', id) : '');
    const streams: CameraStream[] = [];
    if (url !== '') {
      const stream = streamOf(url, codec);
      if (!stream) {
        error(row, id, 'bad-url', `视频流地址“${url}”不可用：须为 http(s)/ws(s) 的 FLV、HLS (.m3u8)、MPEG-TS (.ts) 或 WebRTC (WHEP) 地址（浏览器不能播放 RTSP）`, `stream URL "${url}" is not usable: an http(s)/ws(s) FLV, HLS (.m3u8), MPEG-TS (.ts) or WebRTC (WHEP) address is needed (browsers cannot play RTSP)`);
        ok = false;
      } else streams.push(stream);
    } else noStream++;
    const kindText = cell('kind');
    if (!ok || !grid || !position || online === undefined) continue;
    cameras.push({
      id,
      name,
      kind: /雪亮|xueliang/i.test(kindText) ? 'xueliang' : 'tianwang',
      position,
      heading: heading === null ? 0 : heading % 360,
      fov: fov ?? (heading === null ? 360 : 60),
      gridId: grid.id,
      districtId: grid.districtId,
      online,
      streams,
      ...(playback ? { playback: { ...playback, codec } } : {}),
    });
  }
  if (noStream > 0) issues.push({ severity: 'warning', kind: 'bad-url', zh: `${noStream} 个摄像头没有视频流地址（可用 --stream-template 给出模板），视频墙上无法播放`, en: `${noStream} camera(s) have no stream URL (give --stream-template): the video wall cannot play them` });
  if (issues.some((i) => i.severity === 'error')) return { report, changes: null };

  const changes: Change[] = [];
  const openUses = new Map<string, string[]>();
  for (const e of state.collections.events.values()) if (e.cameraId && e.status !== 'closed' && e.status !== 'merged') (openUses.get(e.cameraId) ?? openUses.set(e.cameraId, []).get(e.cameraId)!).push(e.id);
  for (const existing of state.collections.cameras.values()) {
    if (seen.has(existing.id)) continue;
    changes.push({ op: 'remove', collection: 'cameras', id: existing.id });
    const uses = openUses.get(existing.id);
    if (uses) issues.push({ severity: 'warning', kind: 'has-open-events', id: existing.id, zh: `删除的摄像头 ${existing.name} 仍被未办结事件 ${uses.slice(0, 5).join('、')} 引用（事件保留，视频不可调阅）`, en: `removed camera ${existing.name} is still named by open events ${uses.slice(0, 5).join(', ')} (the events stay; their video is gone)` });
  }
  report.counts.removed = changes.length;
  for (const c of cameras) {
    if (state.collections.cameras.has(c.id)) report.counts.updated++;
    else report.counts.added++;
    changes.push(upsert('cameras', c));
  }
  return { report, changes };
}
