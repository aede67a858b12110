import { createI18n } from 'vue-i18n';
import type { Locale } from '../../../protocol';
import zhCN from './zh-CN';
import en from './en';

export type MessageSchema = typeof zhCN;

export function createConsoleI18n(locale: Locale = 'zh-CN') {
  return createI18n<[MessageSchema], Locale, false>({
    legacy: false,
    locale,
    fallbackLocale: 'zh-CN',
    messages: { 'zh-CN': zhCN, en },
    datetimeFormats: {
      'zh-CN': {
        clock: { hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false },
        /** Hours and minutes (17:05; 00:05 after midnight: h23, never 24:05). */
        hm: { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' },
        date: { year: 'numeric', month: 'long', day: 'numeric', weekday: 'long' },
        full: { year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false },
      },
      en: {
        clock: { hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false },
        /** Hours and minutes (17:05; 00:05 after midnight: h23, never 24:05). */
        hm: { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' },
        date: { year: 'numeric', month: 'short', day: 'numeric', weekday: 'short' },
        full: { year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false },
      },
    },
  });
}
