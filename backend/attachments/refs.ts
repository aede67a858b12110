/**
 * An attachment's record as commands and clients see it (AttachmentRef), and what a command links: the
 * pipeline (wire/commands.ts) reads the refs a payload names before the handler runs, and commits the links
 * with the command's batch.
 */
import type { AttachmentRef } from '../../protocol';
import type { AttachmentLink, AttachmentRecord, BackendStore } from '../store/types';

export function refOf(r: AttachmentRecord): AttachmentRef {
  return {
    id: r.id,
    kind: r.kind,
    mime: r.mime,
    size: r.size,
    ...(r.width !== null ? { width: r.width } : {}),
    ...(r.height !== null ? { height: r.height } : {}),
    ...(r.durationMs !== null ? { durationMs: r.durationMs } : {}),
    name: r.name,
    thumb: r.thumbSha256 !== null,
  };
}

/** The ids a raw payload names (before it is checked: at most the first 9 strings; the schema refuses the rest). */
export function namedIds(payload: unknown): string[] {
  const ids = (payload as { attachments?: unknown } | null)?.attachments;
  return Array.isArray(ids) ? ids.slice(0, 9).filter((id): id is string => typeof id === 'string' && /^[0-9a-f]{64}$/.test(id)) : [];
}

/**
 * The refs of the ids a payload names that the store holds and the actor may attach, by id (empty without any:
 * no store read). May attach: an attachment no event names yet (just uploaded — knowing its id is having had its
 * bytes), or one an event the actor can see already names. Never one that only events outside the actor's area
 * name: an id seen elsewhere cannot bring another area's photo into one's own event (and so be read).
 */
export async function refsNamed(store: Pick<BackendStore, 'findAttachments' | 'attachmentEvents'>, payload: unknown, sees: (eventId: string) => boolean): Promise<Map<string, AttachmentRef>> {
  const ids = namedIds(payload);
  if (ids.length === 0) return new Map();
  const refs = new Map<string, AttachmentRef>();
  for (const record of await store.findAttachments(ids)) {
    const events = await store.attachmentEvents(record.id);
    if (events.length === 0 || events.some(sees)) refs.set(record.id, refOf(record));
  }
  return refs;
}

/** What an applied command links: each attachment its checked payload names, to the event it acted on. */
export function linksOf(payload: Record<string, unknown>, result: Record<string, unknown>): AttachmentLink[] {
  const ids = payload['attachments'];
  const eventId = result['eventId'];
  if (!Array.isArray(ids) || typeof eventId !== 'string') return [];
  return ids.filter((id): id is string => typeof id === 'string').map((attachmentId) => ({ attachmentId, eventId }));
}
