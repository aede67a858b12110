/**
 * The department page's language, chosen as in the console (a button naming the other language; zh-CN by default),
 * kept in this browser (localStorage), and the messages of the shared page-app calls follow it (setApiLanguage).
 * The statuses, severities and history entries are the console's own words in each language.
 */
import { createI18n } from 'vue-i18n';
import type { Locale } from '../../../protocol';
import consoleZh from '../i18n/zh-CN';
import consoleEn from '../i18n/en';
import { applyPageLocale, savedPageLocale } from '../page-apps/locale';
import { MESSAGES } from './messages';

const KEY = 'zongzhi.department.locale';

export const i18n = createI18n<[(typeof MESSAGES)['zh-CN']], Locale, false>({
  legacy: false,
  locale: 'zh-CN',
  fallbackLocale: 'zh-CN',
  messages: MESSAGES,
});

/** The console's words (statuses, severities, history entries) in the page's language. */
export const consoleWords = (): typeof consoleZh.dispatch => (i18n.global.locale.value === 'en' ? consoleEn : consoleZh).dispatch;

export function setLocale(locale: Locale): void {
  applyPageLocale(KEY, locale, i18n.global.locale);
}

/** The language this browser chose last time (zh-CN when none). */
export const savedLocale = (): Locale => savedPageLocale(KEY);
