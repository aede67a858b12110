/**
 * The renderer's one way to send a command: send(type, payload), checked against each other by the payload
 * table (CommandArgs). The hub queues it offline and shows it pending until the backend answers; a refusal
 * or a broken link becomes the window's error notice, and the caller learns whether it was accepted.
 */
import { REPLAY_REFUSAL, type CommandArgs, type TypedCommandRequest } from '../../../protocol';
import { REPLAY_ERROR_CODE, toUserFacingError, useHubStore } from '../stores/hub';
import { useReplayStore } from '../stores/replay';

export async function send(...[type, payload]: CommandArgs): Promise<boolean> {
  const hub = useHubStore();
  if (!hub.api) return false;
  // 复盘回放: the rows are the past; nothing is sent from them (the hub refuses it too, with the same words).
  if (useReplayStore().active) {
    hub.error = { code: REPLAY_ERROR_CODE, detail: REPLAY_REFUSAL };
    return false;
  }
  try {
    // The arguments were checked against each other at the call; a destructured pair is not correlated again.
    await hub.api.submitCommand({ commandId: crypto.randomUUID(), type, payload } as TypedCommandRequest);
    return true;
  } catch (e) {
    hub.error = toUserFacingError(e);
    return false;
  }
}
