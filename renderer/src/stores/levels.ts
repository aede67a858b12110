/**
 * What the command level in force means, for the views (平急转换): its profile (the center's own from the
 * `levelProfiles` collection, else the built-in default) — step-limit factors, what each wall shows first, whether
 * the 下沉干部 are called. Three small rows, read once per window for as long as it runs.
 */
import { defineStore } from 'pinia';
import { computed, markRaw, ref, watch } from 'vue';
import { DEFAULT_LEVEL_PROFILES } from '../../../domain';
import type { CommandLevel, LevelProfile } from '../../../protocol';
import { toUserFacingError, useHubStore } from './hub';
import { useRowsStore } from '../data';

export const useLevelsStore = defineStore('levels', () => {
  const hub = useHubStore();
  const data = useRowsStore();
  const version = ref(0);
  let stored: ReadonlyMap<string, LevelProfile> = markRaw(new Map());
  let stop: (() => Promise<void>) | null = null;

  watch(
    () => hub.api,
    async (api) => {
      if (!api || stop) return;
      try {
        stop = await data.read({ topic: 'collection', collection: 'levelProfiles' }, (rows) => ((stored = rows), version.value++));
      } catch (e) {
        hub.error = toUserFacingError(e);
      }
    },
    { immediate: true },
  );

  function profileOf(level: CommandLevel): LevelProfile {
    void version.value;
    return stored.get(level) ?? DEFAULT_LEVEL_PROFILES[level];
  }
  /** The level in force's profile (日常's while the level is not known yet). */
  const current = computed(() => profileOf(hub.commandLevel ?? 'daily'));
  const cadresCalled = computed(() => current.value.callsCadres);
  /** Each level's profile, for the editor and the level switch. */
  const all = computed(() => (['daily', 'reinforced', 'emergency'] as const).map((l) => profileOf(l)));

  return { version, current, cadresCalled, all, profileOf };
});
