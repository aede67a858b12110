/**
 * Attachments over the hub's HTTP contract (HUB_ATTACHMENTS_PATH): the URL a media element loads an attachment
 * or its thumbnail from (the hub serves it from its cache, Range requests included), and an upload through the
 * hub. The same relative path works on the browser host (with the page's token) and on Electron's app://.
 */
import { AttachmentRef, HUB_ATTACHMENTS_PATH, HubError, HubErrorShape, validate } from '../../../protocol';
import { hubHttpToken } from '../transports/connect';

function withToken(path: string): string {
  const token = hubHttpToken();
  return token ? `${path}?token=${encodeURIComponent(token)}` : path;
}

export function attachmentUrl(id: string, variant: 'full' | 'thumb' = 'full'): string {
  return withToken(`${HUB_ATTACHMENTS_PATH}/${encodeURIComponent(id)}${variant === 'thumb' ? '/thumb' : ''}`);
}

/** Why an answer of the hub's attachment route failed, as a HubError (its JSON `{code, message}`, else the status). */
async function failure(response: Response): Promise<HubError> {
  const shape = validate(HubErrorShape, await response.json().catch(() => null));
  return shape.ok ? HubError.from(shape.value) : new HubError(response.status === 404 ? 'not-found' : 'unavailable', `HTTP ${response.status}`);
}

/** Asks the hub for an attachment's first byte: why a media element could not load it, as a HubError (none: it can). */
export async function probeAttachment(id: string, variant: 'full' | 'thumb'): Promise<void> {
  const response = await fetch(attachmentUrl(id, variant), { headers: { Range: 'bytes=0-0' } }).catch((e: unknown) => {
    throw new HubError('unavailable', (e as Error).message);
  });
  if (!response.ok) throw await failure(response);
}

/** Uploads a file through the hub to the backend; its AttachmentRef, or a HubError (offline: 'unavailable'). */
export async function uploadAttachment(file: File): Promise<AttachmentRef> {
  const form = new FormData();
  form.append('file', file, file.name);
  const response = await fetch(withToken(HUB_ATTACHMENTS_PATH), { method: 'POST', body: form }).catch((e: unknown) => {
    throw new HubError('unavailable', (e as Error).message);
  });
  if (!response.ok) throw await failure(response);
  const ref = validate(AttachmentRef, await response.json().catch(() => null));
  if (!ref.ok) throw new HubError('internal', 'the hub answered an upload with something that is not an attachment');
  return ref.value;
}
