/**
 * Privacy masking for demo and inspection screens (迎检演示): personal names keep only the surname, phone
 * numbers disappear entirely, and any long digit run in free text (a phone typed into a note) is blanked.
 * Organisations (departments, simulated units) keep their names. Pure: applied by the hub per window.
 */
import type { CallRecord, CollectionName, GovEvent, KeyPerson, Place, Staff, TimelineEntry, TimelineRecord } from '../protocol';
import { maskIdNumber } from './id-number';

export const HIDDEN = '（已隐藏）';

/** 张三丰 → 张**; a role prefix is kept: "调度员 张敏" → "调度员 张*". */
export function maskName(name: string): string {
  const trimmed = name.trim();
  const space = trimmed.lastIndexOf(' ');
  const prefix = space >= 0 ? trimmed.slice(0, space + 1) : '';
  const person = space >= 0 ? trimmed.slice(space + 1) : trimmed;
  if (person.length === 0) return trimmed;
  return prefix + person[0] + '*'.repeat(Math.max(1, person.length - 1));
}

/** Runs of 7+ digits (with spaces or dashes inside) are phone-like: blanked in free text. */
export function maskDigits(text: string): string {
  return text.replace(/\d[\d\s-]{5,}\d/g, (run) => (run.replace(/\D/g, '').length >= 7 ? '***' : run));
}

/** Timeline actors that are people (users, grid staff), not units: their names are masked. */
function personActor(entry: TimelineEntry): boolean {
  return !entry.actor.startsWith('sim:dept') && entry.actor !== 'sim:seat' && entry.actor !== 'sim:duty' && entry.actor !== 'sim:leader';
}

function maskEvent(event: GovEvent): GovEvent {
  return {
    ...event,
    title: maskDigits(event.title),
    description: maskDigits(event.description),
    reporter: event.reporter ? { name: maskName(event.reporter.name), phone: HIDDEN } : null,
    evaluation: event.evaluation ? { ...event.evaluation, comment: maskDigits(event.evaluation.comment) } : null,
  };
}

function maskTimeline(t: TimelineRecord): TimelineRecord {
  // A call's entry (action 'call') names the person called, in its note too.
  const peer = t.call?.peerName;
  const note = t.note === undefined ? undefined : maskDigits(peer ? t.note.split(peer).join(maskName(peer)) : t.note);
  return {
    ...t,
    actorName: personActor(t) ? maskName(t.actorName) : t.actorName,
    ...(note !== undefined ? { note } : {}),
    ...(t.call ? { call: { ...t.call, peerName: maskName(t.call.peerName) } } : {}),
  };
}

function maskStaff(staff: Staff): Staff {
  return { ...staff, name: maskName(staff.name), phone: HIDDEN };
}

/** The row as a demo screen may see it. Collections without personal data pass through unchanged. */
export function maskRow<T>(collection: CollectionName, row: T): T {
  if (collection === 'events') return maskEvent(row as GovEvent) as T;
  if (collection === 'timeline') return maskTimeline(row as TimelineRecord) as T;
  if (collection === 'staff') return maskStaff(row as Staff) as T;
  if (collection === 'places') {
    const p = row as Place;
    return { ...p, contact: p.contact ? { name: maskName(p.contact.name), phone: HIDDEN } : null, note: maskDigits(p.note) } as T;
  }
  if (collection === 'alarms') {
    const a = row as { title: string; ackedBy: string | null; ackNote?: string | null };
    return { ...row, title: maskDigits(a.title), ackedBy: a.ackedBy ? maskName(a.ackedBy) : null, ...(a.ackNote ? { ackNote: maskDigits(a.ackNote) } : {}) } as T;
  }
  if (collection === 'handovers') {
    const h = row as { fromName: string; notes: string; acknowledgedBy: string | null; openItems?: Array<{ text: string }>; alarms?: Array<{ title: string }> };
    return {
      ...row,
      fromName: maskName(h.fromName),
      notes: maskDigits(h.notes),
      acknowledgedBy: h.acknowledgedBy ? maskName(h.acknowledgedBy) : null,
      ...(h.openItems ? { openItems: h.openItems.map((item) => ({ ...item, text: maskDigits(item.text) })) } : {}),
      ...(h.alarms ? { alarms: h.alarms.map((a) => ({ ...a, title: maskDigits(a.title) })) } : {}),
    } as T;
  }
  return row;
}

/**
 * A 重点人员 row for a reader who may not see it: the surname only, the ID number's area prefix and last four,
 * no phone, no note, and the address reduced to `place` (the grid's or community's name).
 */
export function maskKeyPerson(row: KeyPerson, place: string): KeyPerson {
  return { ...row, name: maskName(row.name), idNumber: maskIdNumber(row.idNumber), phone: HIDDEN, address: place, note: HIDDEN };
}

/** A queued command's payload (reports carry the reporter). */
export function maskPayload(payload: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(payload)) {
    if (k === 'reporter' && v && typeof v === 'object') out[k] = { name: maskName(String((v as { name?: unknown }).name ?? '')), phone: HIDDEN };
    else out[k] = typeof v === 'string' ? maskDigits(v) : v;
  }
  return out;
}

/**
 * A call as a demo screen or an inspector sees it (GET /calls, the 复盘 report): people's names masked, a phone
 * number as the peer or in the cause hidden (the peer keeps a SIP account's shape: `xxx`).
 */
export function maskCall(call: CallRecord): CallRecord {
  return { ...call, peer: maskDigits(call.peer).replaceAll('*', 'x'), peerName: maskName(call.peerName), userName: maskName(call.userName), cause: maskDigits(call.cause) };
}
