/**
 * Origin comparison that also works for our app:// scheme: WHATWG URL gives origin "null" for schemes it does
 * not know as special (Node's URL included), so compare protocol and host instead.
 */
export function originOf(url: string): string | null {
  try {
    const parsed = new URL(url);
    if (!parsed.host) return null;
    return `${parsed.protocol}//${parsed.host}`;
  } catch {
    return null;
  }
}

export function isSameOrigin(url: string, origin: string): boolean {
  const actual = originOf(url);
  return actual !== null && actual === originOf(origin);
}
