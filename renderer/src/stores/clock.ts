/** One ticking clock for the whole window (aligned to whole seconds), instead of a timer per component. */
import { defineStore } from 'pinia';
import { ref } from 'vue';

export const useClockStore = defineStore('clock', () => {
  const now = ref(new Date());
  let timer: ReturnType<typeof setTimeout> | null = null;

  function tick(): void {
    now.value = new Date();
    timer = setTimeout(tick, 1000 - (Date.now() % 1000) + 5);
  }
  function start(): void {
    if (timer === null) tick();
  }
  function stop(): void {
    if (timer !== null) clearTimeout(timer);
    timer = null;
  }
  return { now, start, stop };
});
