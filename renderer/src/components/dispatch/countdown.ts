/** A step's time limit as the desk shows it: time left, or time overdue, on the backend's clock. */
import { useI18n } from 'vue-i18n';
import { useDispatchStore, type EventRow } from '../../stores/dispatch';

function clock(ms: number): string {
  const s = Math.floor(Math.abs(ms) / 1000);
  const days = Math.floor(s / 86400);
  const hms = [Math.floor((s % 86400) / 3600), Math.floor((s % 3600) / 60), s % 60].map((v) => String(v).padStart(2, '0')).join(':');
  return days > 0 ? `${days}天 ${hms}` : hms;
}

export function useCountdown(): (row: EventRow) => { text: string; overdue: boolean } | null {
  const { t } = useI18n();
  const desk = useDispatchStore();
  return (row) => {
    if (!row.stepDeadline) return null;
    const left = Date.parse(row.stepDeadline) - desk.serverNow;
    return left >= 0 ? { text: t('dispatch.remaining', { time: clock(left) }), overdue: false } : { text: t('dispatch.overdue', { time: clock(left) }), overdue: true };
  };
}
