/** A step's time limit as the desk shows it: time left, or time overdue, on the backend's clock. */
import { useI18n } from 'vue-i18n';
import { useDispatchStore, type EventRow } from '../../stores/dispatch';
import { formatCountdown } from '../../i18n/units';

export function useCountdown(): (row: EventRow) => { text: string; overdue: boolean } | null {
  const { t } = useI18n();
  const desk = useDispatchStore();
  return (row) => {
    if (!row.stepDeadline) return null;
    const left = Date.parse(row.stepDeadline) - desk.serverNow;
    const time = formatCountdown(t, left);
    return left >= 0 ? { text: t('dispatch.remaining', { time }), overdue: false } : { text: t('dispatch.overdue', { time }), overdue: true };
  };
}
