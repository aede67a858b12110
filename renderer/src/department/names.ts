/** The words the department page shows: the console's own (zh-CN) for statuses, severities and history entries. */
import zhCN from '../i18n/zh-CN';

const words = zhCN.dispatch;

export const statusName = (status: string): string => (words.statuses as Record<string, string>)[status] ?? status;
export const severityName = (severity: number): string => (words.severity as Record<number, string>)[severity] ?? String(severity);
export const actionName = (action: string): string => (words.timelineActions as Record<string, string>)[action] ?? action;

export const dateTime = (iso: string): string => new Date(iso).toLocaleString('zh-CN', { hour12: false });

/** A deadline as the page shows it: the time left ("剩余 1小时05分") or past ("超时 12分"), and whether it is past. */
export function countdown(deadline: string | null, now: number): { text: string; overdue: boolean } | null {
  if (deadline === null) return null;
  const ms = Date.parse(deadline) - now;
  const minutes = Math.floor(Math.abs(ms) / 60_000);
  const seconds = Math.floor(Math.abs(ms) / 1000) % 60;
  const days = Math.floor(minutes / 1440);
  const span =
    days > 0
      ? `${days}天${Math.floor((minutes % 1440) / 60)}小时`
      : minutes >= 60
        ? `${Math.floor(minutes / 60)}小时${String(minutes % 60).padStart(2, '0')}分`
        : `${minutes}分${String(seconds).padStart(2, '0')}秒`;
  return ms >= 0 ? { text: `剩余 ${span}`, overdue: false } : { text: `超时 ${span}`, overdue: true };
}
