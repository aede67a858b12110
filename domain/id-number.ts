/**
 * 公民身份号码 (GB 11643-1999): 6 digits of the registering area, 8 of the birth date, 3 of sequence, and a check
 * character (ISO 7064 MOD 11-2; 'X' for 10). Checked on import so a typo does not enter the register.
 */
const WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const CHECK = '10X98765432';

/** The check character the first 17 digits call for. */
export function idCheckChar(first17: string): string {
  let sum = 0;
  for (let i = 0; i < 17; i++) sum += Number(first17[i]) * WEIGHTS[i]!;
  return CHECK[sum % 11]!;
}

/** Why an ID number is not one (zh / en), or null when it is: 18 characters, a real birth date, the right check. */
export function idNumberProblem(raw: string): { zh: string; en: string } | null {
  const id = raw.toUpperCase();
  if (!/^\d{17}[\dX]$/.test(id)) return { zh: '须为 18 位（17 位数字加校验位）', en: 'must be 18 characters (17 digits and a check character)' };
  const [y, m, d] = [Number(id.slice(6, 10)), Number(id.slice(10, 12)), Number(id.slice(12, 14))];
  const date = new Date(Date.UTC(y, m - 1, d));
  if (y < 1900 || date.getUTCFullYear() !== y || date.getUTCMonth() !== m - 1 || date.getUTCDate() !== d) return { zh: '出生日期不成立', en: 'the birth date is not a date' };
  if (idCheckChar(id) !== id[17]) return { zh: '校验位不符（GB 11643）', en: 'the check character is wrong (GB 11643)' };
  return null;
}

/** 510104199001011234 → 5101**********1234 (area prefix and the last four kept). */
export function maskIdNumber(id: string): string {
  if (id.length <= 8) return '*'.repeat(id.length);
  return id.slice(0, 4) + '*'.repeat(id.length - 8) + id.slice(-4);
}
