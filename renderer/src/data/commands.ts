/**
 * The renderer's one way to send a command: send(type, payload), checked against each other by the payload
 * table (CommandArgs). The hub queues it offline and shows it pending until the backend answers; a refusal
 * or a broken link becomes the window's error notice, and the caller learns whether it was accepted.
 */
import type { CommandArgs, TypedCommandRequest } from '../../../protocol';
import { toUserFacingError, useHubStore } from '../stores/hub';

export async function send(...[type, payload]: CommandArgs): Promise<boolean> {
  const hub = useHubStore();
  if (!hub.api) return false;
  try {
    // The arguments were checked against each other at the call; a destructured pair is not correlated again.
    await hub.api.submitCommand({ commandId: crypto.randomUUID(), type, payload } as TypedCommandRequest);
    return true;
  } catch (e) {
    hub.error = toUserFacingError(e);
    return false;
  }
}
