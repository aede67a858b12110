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

/** The refs of the ids a payload names that the store holds, by id (empty without any: no store read). */
export async function refsNamed(store: Pick<BackendStore, 'findAttachments'>, payload: unknown): Promise<Map<string, AttachmentRef>> {
  const ids = namedIds(payload);
  if (ids.length === 0) return new Map();
  return new Map((await store.findAttachments(ids)).map((r) => [r.id, refOf(r)]));
}

/** What an applied command links: each attachment its checked payload names, to the event it acted on. */
export function linksOf(payload: Record<string, unknown>, result: Record<string, unknown>): AttachmentLink[] {
  const ids = payload['attachments'];
  const eventId = result['eventId'];
  if (!Array.isArray(ids) || typeof eventId !== 'string') return [];
  return ids.filter((id): id is string => typeof id === 'string').map((attachmentId) => ({ attachmentId, eventId }));
}
