/**
 * A refused command's reason in the window's language: the catalog's `refusals.<key>` text with its parameters
 * (codes among them shown in `refusals.words`). Null when the key is not one this console knows, or its
 * parameters are not all there (an older or newer backend): the caller shows the backend's message instead.
 */
import { REFUSALS, isRefusalKey, refusalWordList } from '../../../domain';
import type { RefusalReason } from '../../../protocol';

export interface Translator {
  t(key: string, named: Record<string, string | number>): string;
  te(key: string): boolean;
}

export function refusalText(reason: RefusalReason | null | undefined, i18n: Translator): string | null {
  if (!reason || !isRefusalKey(reason.key) || !i18n.te(`refusals.${reason.key}`)) return null;
  const key = reason.key;
  const needed: readonly string[] = REFUSALS[key].params;
  if (!needed.every((name) => Object.prototype.hasOwnProperty.call(reason.params, name))) return null;
  const named: Record<string, string | number> = {};
  for (const name of needed) {
    const value = reason.params[name]!;
    const list = refusalWordList(key, name);
    named[name] = list
      ? String(value)
          .split(',')
          .map((code) => (i18n.te(`refusals.words.${list}.${code}`) ? i18n.t(`refusals.words.${list}.${code}`, {}) : code))
          .join('/')
      : value;
  }
  return i18n.t(`refusals.${key}`, named);
}
