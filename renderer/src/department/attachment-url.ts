/**
 * An attachment (or its thumbnail) for <img>/<video>/<audio>, read with the session as bearer into a blob URL
 * that belongs to the component: revoked when it unmounts, and a read still under way then is aborted — its URL,
 * if one is made after all, revoked at once. A page closed or a detail switched mid-read leaks nothing.
 */
import { onBeforeUnmount, onMounted, ref, type Ref } from 'vue';
import type { AttachmentRef } from '../../../protocol/attachments';
import { attachmentUrl, type DepartmentSession } from './department-api';

export function useAttachmentUrl(session: DepartmentSession, attachment: AttachmentRef, thumb: boolean): { url: Ref<string>; failed: Ref<string> } {
  const url = ref('');
  const failed = ref('');
  const reading = new AbortController();
  let gone = false;
  onMounted(async () => {
    if (thumb && !attachment.thumb) return;
    try {
      const made = await attachmentUrl(session, attachment.id, thumb, reading.signal);
      if (gone) URL.revokeObjectURL(made);
      else url.value = made;
    } catch (e) {
      if (!gone) failed.value = (e as Error).message;
    }
  });
  onBeforeUnmount(() => {
    gone = true;
    reading.abort();
    if (url.value) URL.revokeObjectURL(url.value);
    url.value = '';
  });
  return { url, failed };
}
