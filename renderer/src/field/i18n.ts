/**
 * 网格通's language, chosen as in the console and the department page (a button naming the other language; zh-CN by
 * default), kept on the phone (localStorage), and the messages of the shared page-app calls follow it (setApiLanguage).
 * A task status the field catalog does not name is the console's word in that language.
 */
import { createI18n } from 'vue-i18n';
import type { Locale } from '../../../protocol';
import consoleZh from '../i18n/zh-CN';
import consoleEn from '../i18n/en';
import { applyPageLocale, savedPageLocale } from '../page-apps/locale';
import { MESSAGES } from './messages';

const KEY = 'zongzhi.field.locale';

export const i18n = createI18n<[(typeof MESSAGES)['zh-CN']], Locale, false>({
  legacy: false,
  locale: 'zh-CN',
  fallbackLocale: 'zh-CN',
  messages: MESSAGES,
});

/** A task's status: the staff member's word (已派遣，待签收), else the console's, else the raw one. */
export function statusName(status: string): string {
  const own = `status.${status}`;
  if (i18n.global.te(own)) return i18n.global.t(own);
  const words = (i18n.global.locale.value === 'en' ? consoleEn : consoleZh).dispatch.statuses as Record<string, string>;
  return words[status] ?? status;
}

/** A clock time in the page's language (24 h). */
export const clock = (at: string | number): string => new Date(at).toLocaleTimeString(i18n.global.locale.value, { hour12: false });
/** A date and time in the page's language (24 h). */
export const dateTime = (at: string | number): string => new Date(at).toLocaleString(i18n.global.locale.value, { hour12: false });

export function setLocale(locale: Locale): void {
  applyPageLocale(KEY, locale, i18n.global.locale);
  document.title = i18n.global.t('app.pageTitle');
}

/** The language this phone chose last time (zh-CN when none). */
export const savedLocale = (): Locale => savedPageLocale(KEY);
