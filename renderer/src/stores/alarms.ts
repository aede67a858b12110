/**
 * Alarms (告警): a new serious event (severity 3–4) or an event that just ran past its step deadline raises
 * an alarm that sounds until someone acknowledges it. One left unacknowledged for ESCALATE_AFTER_MS is
 * escalated: the console asks for supervision (督办) of the event through the hub, which is audited and shows
 * on every console, so the duty officer sees it. Events in a whole result (start, a fresh snapshot) do not
 * ring: only changes after it do (no alarm storm on boot).
 */
import { defineStore } from 'pinia';
import { computed, markRaw, ref } from 'vue';
import { serverNowMs, type ViewRow } from '../../../protocol';
import { useHubStore } from './hub';
import { send, useRowsStore } from '../data';

export const ESCALATE_AFTER_MS = 3 * 60_000;
const SEVERE = 3;

export interface Alarm {
  key: string;
  eventId: string;
  title: string;
  kind: 'severe' | 'overdue';
  severity: number;
  raisedAt: number;
  escalated: boolean;
}

export const useAlarmStore = defineStore('alarms', () => {
  const hub = useHubStore();
  const data = useRowsStore();
  const alarms = ref<Alarm[]>([]);
  let seen: Set<string> | null = null;
  let overdue: Set<string> | null = null;
  let events: ReadonlyMap<string, ViewRow<'events'>> = markRaw(new Map());
  let stop: (() => Promise<void>) | null = null;
  let timer: ReturnType<typeof setInterval> | null = null;


  function raise(event: ViewRow<'events'>, kind: Alarm['kind']): void {
    const key = `${kind}:${event.id}`;
    if (alarms.value.some((a) => a.key === key)) return;
    alarms.value = [...alarms.value, { key, eventId: event.id, title: event.title, kind, severity: event.severity, raisedAt: Date.now(), escalated: false }];
  }

  function check(): void {
    const now = serverNowMs(hub.connection?.serverClock ?? null);
    const overdueNow = new Set<string>();
    for (const event of events.values()) {
      if (event.stepDeadline && Date.parse(event.stepDeadline) < now) overdueNow.add(event.id);
    }
    if (seen === null) {
      // The first result is the picture at start: remember it, ring for nothing in it.
      seen = new Set(events.keys());
      overdue = overdueNow;
      return;
    }
    for (const event of events.values()) {
      if (!seen.has(event.id)) {
        // A report this console made shows first as pending: it is news once the backend has taken it.
        if (event.pending) continue;
        seen.add(event.id);
        if (event.severity >= SEVERE) raise(event, 'severe');
      }
    }
    for (const id of overdueNow) if (!overdue!.has(id)) raise(events.get(id)!, 'overdue');
    overdue = overdueNow;
    // An alarm about an event that is no longer open (closed, merged) has nothing left to act on; and the ids
    // seen only need to cover the open events. Both stay bounded on a wall that runs unattended for days.
    if (alarms.value.some((a) => !events.has(a.eventId))) alarms.value = alarms.value.filter((a) => events.has(a.eventId));
    if (seen.size > events.size * 2 + 1000) seen = new Set([...seen].filter((id) => events.has(id)));
    // Escalate what nobody acknowledged in time.
    for (const alarm of alarms.value) {
      if (alarm.escalated || Date.now() - alarm.raisedAt < ESCALATE_AFTER_MS) continue;
      alarm.escalated = true;
      alarms.value = [...alarms.value];
      void send('event.supervise', { eventId: alarm.eventId, note: `告警 ${Math.round(ESCALATE_AFTER_MS / 60_000)} 分钟未确认，升级值班员督办` });
    }
  }

  async function start(): Promise<void> {
    if (stop || !hub.api) return;
    stop = await data.read({ topic: 'collection', collection: 'events', filter: { openOnly: true } }, (rows, change) => {
      events = rows;
      // A whole new result (start, or the hub swapped in a fresh snapshot) is a new baseline, not news.
      if (change.reset) seen = null;
      check();
    });
    timer = setInterval(check, 1000);
  }

  async function dispose(): Promise<void> {
    if (timer) clearInterval(timer);
    timer = null;
    await stop?.();
    stop = null;
  }

  function acknowledge(key?: string): void {
    const target = key ?? alarms.value[0]?.key;
    alarms.value = alarms.value.filter((a) => a.key !== target);
  }

  const active = computed(() => alarms.value);
  return { active, start, dispose, acknowledge };
});
