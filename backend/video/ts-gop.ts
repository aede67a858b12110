/**
 * MPEG-TS re-framing with a GOP cache (what ZLMediaKit and SRS do for fast starts): the encoder's byte stream
 * is cut into whole 188-byte packets, and the packets since the last video keyframe are kept, led by the
 * latest PAT and PMT. A viewer who joins gets that cache first, so its player decodes a picture at once
 * instead of waiting for the next keyframe, and always starts on a packet boundary.
 */
export const TS_PACKET = 188;
const SYNC = 0x47;
/** H.264 and HEVC stream types in a PMT. */
const VIDEO_STREAM_TYPES = new Set([0x1b, 0x24]);

export interface TsPacketInfo {
  pid: number;
  payloadStart: boolean;
  randomAccess: boolean;
}

export function packetInfo(p: Buffer, at = 0): TsPacketInfo {
  const pid = ((p[at + 1]! & 0x1f) << 8) | p[at + 2]!;
  const payloadStart = (p[at + 1]! & 0x40) !== 0;
  const adaptation = (p[at + 3]! >> 4) & 0x3;
  const randomAccess = (adaptation & 0x2) !== 0 && p[at + 4]! > 0 && (p[at + 5]! & 0x40) !== 0;
  return { pid, payloadStart, randomAccess };
}

/** Offset of a packet's payload (after the header and any adaptation field), or -1 without one. */
function payloadOffset(p: Buffer): number {
  const adaptation = (p[3]! >> 4) & 0x3;
  if ((adaptation & 0x1) === 0) return -1;
  const offset = adaptation & 0x2 ? 5 + p[4]! : 4;
  return offset < TS_PACKET ? offset : -1;
}

/** Start of the PSI section in a packet that starts one (after the pointer field). */
function sectionStart(p: Buffer): number {
  const payload = payloadOffset(p);
  if (payload < 0) return -1;
  const start = payload + 1 + p[payload]!;
  return start < TS_PACKET - 3 ? start : -1;
}

export function pmtPidFromPat(p: Buffer): number | null {
  const s = sectionStart(p);
  if (s < 0 || p[s] !== 0x00) return null;
  const sectionLength = ((p[s + 1]! & 0x0f) << 8) | p[s + 2]!;
  const end = Math.min(s + 3 + sectionLength - 4, TS_PACKET);
  for (let i = s + 8; i + 4 <= end; i += 4) {
    const program = (p[i]! << 8) | p[i + 1]!;
    if (program !== 0) return ((p[i + 2]! & 0x1f) << 8) | p[i + 3]!;
  }
  return null;
}

export function videoFromPmt(p: Buffer): { pid: number; streamType: number } | null {
  const s = sectionStart(p);
  if (s < 0 || p[s] !== 0x02) return null;
  const sectionLength = ((p[s + 1]! & 0x0f) << 8) | p[s + 2]!;
  const end = Math.min(s + 3 + sectionLength - 4, TS_PACKET);
  const programInfo = ((p[s + 10]! & 0x0f) << 8) | p[s + 11]!;
  for (let i = s + 12 + programInfo; i + 5 <= end; ) {
    const streamType = p[i]!;
    const pid = ((p[i + 1]! & 0x1f) << 8) | p[i + 2]!;
    if (VIDEO_STREAM_TYPES.has(streamType)) return { pid, streamType };
    i += 5 + (((p[i + 3]! & 0x0f) << 8) | p[i + 4]!);
  }
  return null;
}

/**
 * A stream's latest PAT and PMT (what a file or a viewer must start with) and its video PID, followed packet by
 * packet: the cache below and the recorder's segmenter both need them.
 */
export class TsTables {
  pat: Buffer | null = null;
  pmt: Buffer | null = null;
  pmtPid: number | null = null;
  videoPid: number | null = null;

  /** Notes the packet's tables; answers whether it starts a video keyframe (a point to start from). */
  see(packet: Buffer, info: TsPacketInfo = packetInfo(packet)): boolean {
    if (info.pid === 0 && info.payloadStart) {
      this.pat = Buffer.from(packet);
      this.pmtPid = pmtPidFromPat(packet) ?? this.pmtPid;
    } else if (info.pid === this.pmtPid && info.payloadStart) {
      this.pmt = Buffer.from(packet);
      this.videoPid = videoFromPmt(packet)?.pid ?? this.videoPid;
    }
    return info.pid === this.videoPid && info.payloadStart && info.randomAccess;
  }

  /** Both tables, once seen. */
  get ready(): boolean {
    return this.pat !== null && this.pmt !== null;
  }

  /** A new encoder starts its own tables: forget these. */
  reset(): void {
    this.pat = this.pmt = null;
    this.pmtPid = this.videoPid = null;
  }
}

export class TsGopCache {
  private rest: Buffer = Buffer.alloc(0);
  private readonly tables = new TsTables();
  private gop: Buffer[] = [];
  private gopBytes = 0;
  /** Bytes skipped to find packet sync (a corrupt or truncated stream), for the logs. */
  skippedBytes = 0;

  constructor(private readonly maxGopBytes = 4 * 1024 * 1024) {}

  /** Takes encoder output; returns the whole packets in it (one buffer), to send to the current viewers. */
  push(chunk: Buffer): Buffer {
    const data = this.rest.length ? Buffer.concat([this.rest, chunk]) : chunk;
    let start = 0;
    const out: Buffer[] = [];
    while (data.length - start >= TS_PACKET) {
      if (data[start] !== SYNC || (data.length - start >= 2 * TS_PACKET && data[start + TS_PACKET] !== SYNC)) {
        // Lost sync: skip to the next byte that starts two packets in a row.
        start++;
        this.skippedBytes++;
        continue;
      }
      const packet = data.subarray(start, start + TS_PACKET);
      this.remember(packet);
      out.push(packet);
      start += TS_PACKET;
    }
    this.rest = Buffer.from(data.subarray(start));
    return out.length === 1 ? Buffer.from(out[0]!) : Buffer.concat(out);
  }

  private remember(packet: Buffer): void {
    const info = packetInfo(packet);
    const { tables } = this;
    if (tables.see(packet, info)) {
      this.gop = [];
      this.gopBytes = 0;
      if (tables.pat && tables.pmt) {
        this.gop.push(tables.pat, tables.pmt);
        this.gopBytes += 2 * TS_PACKET;
      }
    } else if (this.gop.length === 0) {
      return; // no keyframe seen yet: nothing a new viewer could start from
    }
    if (info.pid === 0 || info.pid === tables.pmtPid) {
      if (this.gop.length > 2) return; // the repeated tables are already at the head
    }
    this.gop.push(Buffer.from(packet));
    this.gopBytes += TS_PACKET;
    if (this.gopBytes > this.maxGopBytes) {
      // A GOP this long means the keyframes stopped: start over at the next one rather than grow.
      this.gop = [];
      this.gopBytes = 0;
    }
  }

  /** What a joining viewer gets first: PAT, PMT and the current GOP from its keyframe (empty before one). */
  joinBuffer(): Buffer {
    return this.gop.length > 0 ? Buffer.concat(this.gop) : Buffer.alloc(0);
  }
}
