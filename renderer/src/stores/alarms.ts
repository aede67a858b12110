/**
 * Alarms (告警) as this console shows them: the `alarms` records the backend raises, escalates and clears for the
 * whole center (backend/duty/alarm-service.ts), in the user's area. Every unacknowledged one rings — also those
 * raised before this console started — until someone acknowledges it at any console: the acknowledgement is a
 * command (who, when, which console; audited), so every console of the area falls silent together. Escalation is
 * the backend's, once per rung; a window never escalates on its own.
 *
 * How it sounds follows the command level's profile (domain/level-profiles.ts): the highest rung ringing that
 * calls this user's role sets the volume and how often the tone repeats. Roles not (yet) called see the alarm,
 * silently.
 */
import { defineStore } from 'pinia';
import { computed, shallowRef } from 'vue';
import { DEFAULT_LEVEL_PROFILES, mayRun, rungOf } from '../../../domain';
import type { AlarmRung, LevelProfile, UserRole, ViewRow } from '../../../protocol';
import { toUserFacingError, useHubStore } from './hub';
import { send, useRowsStore } from '../data';
import { useReplayStore } from './replay';

export type AlarmRow = ViewRow<'alarms'>;

export const useAlarmStore = defineStore('alarms', () => {
  const hub = useHubStore();
  const data = useRowsStore();
  const replay = useReplayStore();
  const rows = shallowRef<AlarmRow[]>([]);
  const profiles = shallowRef<ReadonlyMap<string, LevelProfile>>(new Map());
  const stops: Array<() => Promise<void>> = [];
  /** Whether this window sounds the console's alarms: the hub elects one window of those whose alarm bar is up. */
  const voice = shallowRef(false);

  const profile = computed((): LevelProfile => {
    const level = hub.commandLevel ?? 'daily';
    return profiles.value.get(level) ?? DEFAULT_LEVEL_PROFILES[level];
  });
  const role = computed((): UserRole | null => hub.connection?.user?.role ?? null);

  /** Every alarm of the area, acknowledged ones too (removed when their events close). */
  const all = computed((): readonly AlarmRow[] => rows.value);
  /** Ringing, by rung (highest first), then severity (most serious first), then oldest first. */
  const active = computed(() => rows.value.filter((a) => a.ackedAt === null).sort((a, b) => b.rung - a.rung || b.severity - a.severity || a.raisedAt.localeCompare(b.raisedAt)));
  /** Whether this user is called by an alarm at its rung: their role is on that rung or one below it. */
  function calls(alarm: AlarmRow): boolean {
    const me = role.value;
    if (me === null) return true;
    return profile.value.alarms.chain.slice(0, alarm.rung).some((r) => r.roles.includes(me));
  }
  /** How the tone sounds now (null: silent): the highest rung ringing that calls this user. */
  const sound = computed((): AlarmRung | null => {
    // 复盘回放: the alarms stay live (the hub serves them from the live city), so they ring as ever; they are
    // acknowledged after 返回实时 (a command, refused during a replay).
    const calling = active.value.filter(calls);
    return calling.length === 0 ? null : rungOf(profile.value, Math.max(...calling.map((a) => a.rung)));
  });
  const mayAcknowledge = computed(() => !replay.active && role.value !== null && mayRun(role.value, 'alarm.acknowledge'));
  const rungName = (alarm: AlarmRow): string => rungOf(profile.value, alarm.rung).name;

  async function start(): Promise<void> {
    if (stops.length > 0 || !hub.api) return;
    try {
      stops.push(await data.read({ topic: 'collection', collection: 'alarms' }, (all) => (rows.value = [...all.values()])));
      stops.push(await data.read({ topic: 'collection', collection: 'levelProfiles' }, (all) => (profiles.value = new Map([...all.values()].map((p) => [p.id, p])))));
      stops.push(await hub.api.subscribe({ topic: 'voice' }, (value) => (voice.value = value.voice)));
    } catch (e) {
      // The hub went away meanwhile: the shell says so (link lost) and starts the bar again with the hub.
      if (hub.phase === 'ready') hub.error = toUserFacingError(e);
    }
  }

  async function dispose(): Promise<void> {
    const all = stops.splice(0);
    voice.value = false;
    await Promise.allSettled(all.map((s) => s()));
  }

  /** Acknowledges one alarm (default: the first ringing); the hub predicts it at once, the backend decides. */
  async function acknowledge(alarmId?: string): Promise<boolean> {
    const target = alarmId ?? active.value.find((a) => !a.pending)?.id;
    if (!target) return false;
    return send('alarm.acknowledge', { alarmId: target });
  }

  return { all, active, voice, sound, mayAcknowledge, calls, rungName, start, dispose, acknowledge };
});
