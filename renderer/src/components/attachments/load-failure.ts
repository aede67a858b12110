/** Why an attachment would not load, as the user sees it: asked of the hub's route (the media element says nothing). */
import { ref, type Ref } from 'vue';
import { probeAttachment } from '../../data';
import { toUserFacingError, type UserFacingError } from '../../stores/hub';

export function formatBytes(size: number): string {
  if (size < 1024) return `${size} B`;
  if (size < 1024 * 1024) return `${(size / 1024).toFixed(0)} KB`;
  return `${(size / 1024 / 1024).toFixed(1)} MB`;
}

/** The reasons the inline message names (others are said generically, their detail one click away). */
export const NAMED_REASONS = new Set(['unavailable', 'unauthorized', 'not-found']);

/** Failures per attachment id: `failed(id, variant)` asks the route why, and stores the answer. */
export function useLoadFailures(): { failures: Ref<Record<string, UserFacingError>>; failed: (id: string, variant: 'full' | 'thumb') => Promise<void> } {
  const failures = ref<Record<string, UserFacingError>>({});
  async function failed(id: string, variant: 'full' | 'thumb'): Promise<void> {
    try {
      await probeAttachment(id, variant);
      failures.value = { ...failures.value, [id]: { code: 'internal', detail: 'the media element could not decode the bytes' } };
    } catch (e) {
      failures.value = { ...failures.value, [id]: toUserFacingError(e) };
    }
  }
  return { failures, failed };
}
