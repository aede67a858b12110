/**
 * The audit as a CSV file people open in Excel: UTF-8 with a byte-order mark (else Excel reads Chinese as
 * mojibake), CRLF lines, every cell quoted, and every cell that a spreadsheet would take as a formula (starting
 * with = + - @, a tab or a carriage return) prefixed with ' so that it stays text (CSV/formula injection: an
 * event title such as =HYPERLINK(…) typed by a reporter must not run on the inspector's machine).
 */
import type { AuditRow } from '../../protocol';

export const CSV_BOM = '\uFEFF';

/** Kinds in Chinese for the CSV's 操作 column (the console has its own, in its i18n). */
const KIND_ZH: Record<string, string> = {
  login: '登录',
  'login-refused': '登录被拒',
  command: '操作',
  'command-rejected': '操作被驳回',
  'command-refused': '操作被拒',
  disconnect: '断开',
  'sensitive-read': '敏感数据查询',
  import: '导入',
  view: '查看',
  'audit-read': '查阅审计',
  'sign-in': '密码登录',
  'sign-in-refused': '密码登录被拒',
  lockout: '账号锁定',
  'sign-out': '退出登录',
  'session-expired': '登录过期',
  'password-set': '设置密码',
  'stream-refused': '视频流被拒',
  'attachment-refused': '附件访问被拒',
  'user-admin': '用户管理',
  'history-read': '复盘回放查询',
};

/** One cell, neutralised and quoted. */
export function csvCell(value: string): string {
  const text = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return `"${text.replace(/"/g, '""')}"`;
}

export const CSV_HEADER = ['编号 id', '时间 time (UTC)', '用户 user', '姓名 name', '控制台 console', '操作 action', '类型 kind', '事件 event', '个人信息 personal', '详情 detail'];

export function csvLine(row: AuditRow): string {
  const personal = row.kind === 'view' ? (row.detail.personal === true ? '已显示 shown' : '未显示 masked') : '';
  const cells = [String(row.id), row.at, row.userId ?? '', row.userName ?? '', row.client ?? '', KIND_ZH[row.kind] ?? row.kind, row.kind, row.eventId ?? '', personal, JSON.stringify(row.detail)];
  return cells.map(csvCell).join(',');
}

export function csvHead(): string {
  return CSV_BOM + CSV_HEADER.map(csvCell).join(',') + '\r\n';
}
