/**
 * What an uploaded file is and what is stored of it: its type sniffed from the bytes (file-type; never the name
 * nor the part's Content-Type), images decoded and re-encoded (sharp: EXIF and its GPS location dropped, turned
 * upright by the EXIF orientation, the long side capped) with a thumbnail; videos probed (ffprobe: duration, size)
 * with a thumbnail from a frame (ffmpeg); voice notes probed for their duration. Anything else is refused with
 * what was found. No path ever comes from the client: a probed file is a temporary file of our own naming.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileTypeFromBuffer } from 'file-type';
import sharp from 'sharp';
import { ATTACHMENT_IMAGE_MAX_SIDE, ATTACHMENT_MAX_BYTES, ATTACHMENT_THUMB_SIDE, ATTACHMENT_TYPES, type AttachmentKind } from '../../protocol/attachments';
import { spawnOwned } from '../../node-util/child-process';

/** A refusal of the file itself: the HTTP status and the JSON error the upload answers. */
export class MediaError extends Error {
  constructor(
    readonly status: 400 | 413 | 415 | 422,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** What is stored of one upload: the bytes (re-encoded for an image), a thumbnail, and what was measured. */
export interface ProcessedMedia {
  kind: AttachmentKind;
  mime: string;
  bytes: Buffer;
  thumb: Buffer | null;
  width: number | null;
  height: number | null;
  durationMs: number | null;
}

export interface MediaTools {
  ffmpegPath: string;
  ffprobePath: string;
  /** How long ffprobe or ffmpeg may take on one file (default 10 s). */
  timeoutMs: number;
}

const KIND_NAMES: Record<AttachmentKind, string> = { image: '图片', video: '视频', audio: '音频' };
const MB = (n: number): string => `${Math.round(n / 1024 / 1024)} MB`;

/** The sniffed type, canonical (parameters dropped, the m4a alias folded into audio/mp4). */
function canonicalMime(mime: string): string {
  const bare = mime.split(';')[0]!.trim().toLowerCase();
  return bare === 'audio/x-m4a' ? 'audio/mp4' : bare;
}

/** What the bytes are, or a refusal naming what was found (415) — the name and the declared type play no part. */
export async function sniff(bytes: Buffer): Promise<{ kind: AttachmentKind; mime: string }> {
  if (bytes.length === 0) throw new MediaError(400, 'empty-file', '文件为空 / the file is empty');
  const found = await fileTypeFromBuffer(bytes);
  // Markup is named for what it is (an SVG may carry script), whether or not the sniffer recognised it.
  const head = bytes.subarray(0, 4096).toString('utf8').toLowerCase();
  const markup = /<svg[\s>]/.test(head) ? 'SVG 图像（image/svg+xml，可含脚本）' : /^\s*(<!doctype html|<html)/.test(head) ? 'HTML 文本' : null;
  const what = markup ?? (found ? `${found.mime}（.${found.ext}）` : '无法识别的内容');
  const mime = found ? canonicalMime(found.mime) : null;
  const kind = mime ? ATTACHMENT_TYPES[mime] : undefined;
  if (!mime || !kind) {
    throw new MediaError(415, 'unsupported-type', `不支持的文件类型：${what}；只接受 JPEG/PNG/WebP 图片、MP4/WebM/MOV 视频、MP3/M4A/AAC/OGG/WebM/WAV 音频 / unsupported type: ${markup ? (markup.startsWith('SVG') ? 'image/svg+xml' : 'text/html') : found ? found.mime : 'unrecognised content'}`);
  }
  if (bytes.length > ATTACHMENT_MAX_BYTES[kind]) {
    throw new MediaError(413, 'too-large', `${KIND_NAMES[kind]}过大（${MB(bytes.length)}，至多 ${MB(ATTACHMENT_MAX_BYTES[kind])}） / the ${kind} is over ${MB(ATTACHMENT_MAX_BYTES[kind])}`);
  }
  return { kind, mime };
}

/** An image decoded and re-encoded: upright, no metadata, the long side at most 4096 px; a 320 px WebP thumbnail. */
async function processImage(bytes: Buffer, mime: string): Promise<ProcessedMedia> {
  try {
    // limitInputPixels: a decompression bomb (a small file of huge dimensions) is refused, not decoded.
    const upright = sharp(bytes, { limitInputPixels: 100_000_000, failOn: 'error' }).rotate();
    const fit = { width: ATTACHMENT_IMAGE_MAX_SIDE, height: ATTACHMENT_IMAGE_MAX_SIDE, fit: 'inside' as const, withoutEnlargement: true };
    // PNG and WebP (which may be transparent) become WebP, photos JPEG; sharp writes no metadata unless asked.
    const webp = mime !== 'image/jpeg';
    const stored = await (webp ? upright.resize(fit).webp({ quality: 85 }) : upright.resize(fit).jpeg({ quality: 85, mozjpeg: true })).toBuffer({ resolveWithObject: true });
    const thumb = await sharp(stored.data).resize({ width: ATTACHMENT_THUMB_SIDE, height: ATTACHMENT_THUMB_SIDE, fit: 'inside', withoutEnlargement: true }).webp({ quality: 75 }).toBuffer();
    return { kind: 'image', mime: webp ? 'image/webp' : 'image/jpeg', bytes: stored.data, thumb, width: stored.info.width, height: stored.info.height, durationMs: null };
  } catch (e) {
    throw new MediaError(422, 'undecodable', `图片无法解码（${(e as Error).message.slice(0, 120)}） / the image cannot be decoded`);
  }
}

const WHAT_EN: Readonly<Record<string, string>> = { 读取媒体信息: 'probing', 生成视频缩略图: 'making a thumbnail', 去除媒体元数据: 'removing the metadata' };

/** Runs a tool on a file with a time limit; its standard output, or a 422 naming what failed. */
function runTool(path: string, args: string[], timeoutMs: number, what: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = spawnOwned(path, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let err = '';
    let outBytes = 0;
    // The tool's last words name our temporary file, never the client's: its path is left out of what is answered.
    const fail = (why: string): void => reject(new MediaError(422, 'undecodable', `${what}失败（${why.replace(/\/\S*zongzhi-attachment-[^/\s]*\/\w+:?\s*/g, '').slice(0, 160)}） / ${WHAT_EN[what] ?? what} failed`));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      fail(`超过 ${Math.round(timeoutMs / 1000)} 秒`);
    }, timeoutMs);
    child.stdout!.on('data', (c: Buffer) => {
      outBytes += c.length;
      if (outBytes <= 8 * 1024 * 1024) out.push(c);
    });
    child.stderr!.on('data', (c: Buffer) => void (err = (err + c.toString('utf8')).slice(-400)));
    child.on('error', (e) => {
      clearTimeout(timer);
      fail(e.message);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(Buffer.concat(out));
      else fail(err.trim().split('\n').at(-1) ?? `exit ${code}`);
    });
  });
}

/**
 * The demuxer (read) and muxer (write) of each sniffed type. ffprobe and ffmpeg are told the format instead of
 * guessing it from the content — a file sniffed as MP3 whose ID3 tag hides an HLS playlist is read as MP3, never
 * as a playlist — and may open local files only (-protocol_whitelist file): no URL inside a file is ever fetched.
 */
const FORMATS: Readonly<Record<string, { demuxer: string; muxer: string }>> = {
  'video/mp4': { demuxer: 'mov', muxer: 'mp4' },
  'video/quicktime': { demuxer: 'mov', muxer: 'mov' },
  'video/webm': { demuxer: 'matroska', muxer: 'webm' },
  'audio/mp4': { demuxer: 'mov', muxer: 'ipod' },
  'audio/aac': { demuxer: 'aac', muxer: 'adts' },
  'audio/mpeg': { demuxer: 'mp3', muxer: 'mp3' },
  'audio/ogg': { demuxer: 'ogg', muxer: 'ogg' },
  'audio/webm': { demuxer: 'matroska', muxer: 'webm' },
  'audio/wav': { demuxer: 'wav', muxer: 'wav' },
};
const input = (mime: string, file: string): string[] => ['-protocol_whitelist', 'file', '-f', FORMATS[mime]!.demuxer, '-i', file];

interface Probe {
  durationMs: number | null;
  video: { width: number; height: number } | null;
  audio: boolean;
}

async function probe(tools: MediaTools, file: string, mime: string): Promise<Probe> {
  const out = await runTool(tools.ffprobePath, ['-v', 'error', '-show_entries', 'format=duration:stream=codec_type,width,height', '-of', 'json', ...input(mime, file)], tools.timeoutMs, '读取媒体信息');
  let parsed: { format?: { duration?: string }; streams?: Array<{ codec_type?: string; width?: number; height?: number }> };
  try {
    parsed = JSON.parse(out.toString('utf8')) as typeof parsed;
  } catch {
    throw new MediaError(422, 'undecodable', '读取媒体信息失败（输出无法解析） / probing failed');
  }
  const seconds = Number(parsed.format?.duration);
  const video = parsed.streams?.find((s) => s.codec_type === 'video' && Number(s.width) > 0 && Number(s.height) > 0);
  return {
    durationMs: Number.isFinite(seconds) && seconds >= 0 ? Math.round(seconds * 1000) : null,
    video: video ? { width: Number(video.width), height: Number(video.height) } : null,
    audio: parsed.streams?.some((s) => s.codec_type === 'audio') ?? false,
  };
}

/**
 * A video or a voice note: its streams copied as they are into a fresh container without the file's metadata (a
 * phone writes the place it was taken there, as EXIF does for photos); probed, and a video gets a thumbnail from a
 * frame.
 */
async function processAv(uploaded: Buffer, kind: 'video' | 'audio', mime: string, tools: MediaTools): Promise<ProcessedMedia> {
  const dir = await mkdtemp(join(tmpdir(), 'zongzhi-attachment-'));
  try {
    const original = join(dir, 'upload');
    await writeFile(original, uploaded);
    const file = join(dir, 'stripped');
    await runTool(tools.ffmpegPath, ['-v', 'error', ...input(mime, original), '-map', '0', '-map_metadata', '-1', '-map_chapters', '-1', '-c', 'copy', '-f', FORMATS[mime]!.muxer, file], tools.timeoutMs, '去除媒体元数据');
    const bytes = await readFile(file);
    const info = await probe(tools, file, mime);
    // An MP4 or WebM container without a picture is a voice note (a phone's recorder writes those).
    const actual: AttachmentKind = kind === 'video' && !info.video ? 'audio' : kind;
    if (actual === 'video') {
      if (info.durationMs === null) throw new MediaError(422, 'undecodable', '视频没有可读的时长 / the video has no readable duration');
      const at = info.durationMs > 2000 ? '1' : '0';
      const frame = await runTool(tools.ffmpegPath, ['-v', 'error', '-ss', at, ...input(mime, file), '-frames:v', '1', '-vf', `scale=${ATTACHMENT_THUMB_SIDE}:${ATTACHMENT_THUMB_SIDE}:force_original_aspect_ratio=decrease`, '-f', 'image2pipe', '-c:v', 'png', 'pipe:1'], tools.timeoutMs, '生成视频缩略图');
      if (frame.length === 0) throw new MediaError(422, 'undecodable', '生成视频缩略图失败（没有画面） / the video has no frame');
      const thumb = await sharp(frame).webp({ quality: 75 }).toBuffer();
      return { kind: 'video', mime, bytes, thumb, width: info.video!.width, height: info.video!.height, durationMs: info.durationMs };
    }
    if (bytes.length > ATTACHMENT_MAX_BYTES.audio) throw new MediaError(413, 'too-large', `音频过大（${MB(bytes.length)}，至多 ${MB(ATTACHMENT_MAX_BYTES.audio)}） / the audio is over ${MB(ATTACHMENT_MAX_BYTES.audio)}`);
    if (!info.audio || info.durationMs === null) throw new MediaError(422, 'undecodable', '音频没有可读的声音或时长 / the audio has no readable sound or duration');
    return { kind: 'audio', mime: mime === 'video/quicktime' ? 'audio/mp4' : mime.replace(/^video\//, 'audio/'), bytes, thumb: null, width: null, height: null, durationMs: info.durationMs };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** What is stored of an uploaded file, or a MediaError (nothing stored). */
export async function processMedia(bytes: Buffer, tools: MediaTools): Promise<ProcessedMedia> {
  const { kind, mime } = await sniff(bytes);
  return kind === 'image' ? processImage(bytes, mime) : processAv(bytes, kind, mime, tools);
}

/**
 * A display name from what the client sent: its base name (after the last / or \), control characters and
 * path separators removed, at most 100 characters; a name left empty (or only dots) becomes `fallback`.
 */
export function displayName(sent: string | undefined, fallback: string): string {
  const base = (sent ?? '').split(/[\\/]/).at(-1) ?? '';
  // eslint-disable-next-line no-control-regex
  const clean = base.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g, '').trim().slice(0, 100);
  return clean === '' || /^\.+$/.test(clean) ? fallback : clean;
}
