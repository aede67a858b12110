/**
 * The console's call log, with one owner: the finished calls of its softphone (Hub API `logCall`), kept in the
 * cache (the newest CALL_LOG_LIMIT: the `calls` topic, what the event timeline shows before the backend has a call)
 * and sent to the backend as the command `call.log` through the outbox — written to the cache first, kept while
 * offline, sent in order once linked. Its command id is made from the call's id, so a call logged twice is
 * queued once, and the backend applies it once however often it is sent.
 */
import { createHash } from 'node:crypto';
import { CALL_LOG_LIMIT, serverNowMs, type CallLogEntry, type CallLogPayload, type CallLogState, type CommandReceipt, type CommandRequest, type ConnectionState } from '../protocol';
import { mayRun } from '../domain';
import type { Logger } from '../node-util/logger';
import { ObservableValue } from './observable';
import type { HubCache } from './cache/cache';

/** The command id a call is sent under: `call-log-<call id>` (hashed when that would be over the 64 characters a command id has). */
export function callLogCommandId(callId: string): string {
  const id = `call-log-${callId}`;
  return id.length <= 64 ? id : `call-log-${createHash('sha256').update(callId).digest('hex').slice(0, 48)}`;
}

export interface CallLogOptions {
  cache: HubCache;
  submit(request: CommandRequest): CommandReceipt;
  /** The connection as windows see it: the user (whose role may log calls) and the backend's clock. */
  connection(): ConnectionState;
  log: Logger;
}

export class CallLog {
  readonly state: ObservableValue<CallLogState>;

  constructor(private readonly o: CallLogOptions) {
    this.state = new ObservableValue<CallLogState>({ entries: o.cache.recentCalls(CALL_LOG_LIMIT) });
  }

  add(entry: CallLogEntry): void {
    this.o.cache.addCall(entry, CALL_LOG_LIMIT);
    this.send(entry);
    if (this.state.value.entries.some((e) => e.id === entry.id)) return;
    this.state.set({ entries: [entry, ...this.state.value.entries].sort((a, b) => b.startedAt.localeCompare(a.startedAt)).slice(0, CALL_LOG_LIMIT) });
  }

  /**
   * To the backend, with when the call began on the backend's clock (the city may run faster than real time) as
   * this console reckons it from the last welcome. A call with nobody signed in (it would be sent as the next user)
   * or of a role that logs no calls (the viewer's) is kept here only.
   */
  private send(entry: CallLogEntry): void {
    const { user, serverClock } = this.o.connection();
    if (!user || !mayRun(user.role, 'call.log')) return;
    const payload: CallLogPayload = { ...entry, ...(serverClock ? { cityAt: new Date(serverNowMs(serverClock, Date.parse(entry.startedAt))).toISOString() } : {}) };
    try {
      this.o.submit({ commandId: callLogCommandId(entry.id), type: 'call.log', payload });
    } catch (e) {
      this.o.log.warn('a call could not be queued for the backend', { callId: entry.id, error: (e as Error).message });
    }
  }
}
