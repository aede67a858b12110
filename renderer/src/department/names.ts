/** The words the department page shows for statuses, severities, history entries (the console's), times and deadlines. */
import { consoleWords, i18n } from './i18n';

export const statusName = (status: string): string => (consoleWords().statuses as Record<string, string>)[status] ?? status;
export const severityName = (severity: number): string => (consoleWords().severity as Record<number, string>)[severity] ?? String(severity);
export const actionName = (action: string): string => (consoleWords().timelineActions as Record<string, string>)[action] ?? action;

export const dateTime = (iso: string): string => new Date(iso).toLocaleString(i18n.global.locale.value, { hour12: false });

/** A deadline as the page shows it: the time left ("剩余 1小时05分") or past ("超时 12分"), and whether it is past. */
export function countdown(deadline: string | null, now: number): { text: string; overdue: boolean } | null {
  if (deadline === null) return null;
  const t = i18n.global.t;
  const ms = Date.parse(deadline) - now;
  const minutes = Math.floor(Math.abs(ms) / 60_000);
  const seconds = Math.floor(Math.abs(ms) / 1000) % 60;
  const days = Math.floor(minutes / 1440);
  const span =
    days > 0
      ? t('time.days', { d: days, h: Math.floor((minutes % 1440) / 60) })
      : minutes >= 60
        ? t('time.hours', { h: Math.floor(minutes / 60), m: String(minutes % 60).padStart(2, '0') })
        : t('time.minutes', { m: minutes, s: String(seconds).padStart(2, '0') });
  return ms >= 0 ? { text: t('time.left', { span }), overdue: false } : { text: t('time.overdue', { span }), overdue: true };
}
