/**
 * A page app's language (网格通, the department page): chosen with a button naming the other language, zh-CN by
 * default, kept in this browser under the app's own key; the shared page-app calls' messages follow it.
 */
import type { Locale } from '../../../protocol';
import { setApiLanguage } from './app-api';

/** Sets the page's language (its i18n locale, the API's messages, <html lang>) and keeps the choice under `key`. */
export function applyPageLocale(key: string, locale: Locale, i18nLocale: { value: Locale }): void {
  i18nLocale.value = locale;
  setApiLanguage(locale);
  document.documentElement.lang = locale;
  try {
    localStorage.setItem(key, locale);
  } catch {
    // A browser that keeps nothing: the choice lasts this page.
  }
}

/** The language this browser chose last time under `key` (zh-CN when none). */
export function savedPageLocale(key: string): Locale {
  try {
    return localStorage.getItem(key) === 'en' ? 'en' : 'zh-CN';
  } catch {
    return 'zh-CN';
  }
}
