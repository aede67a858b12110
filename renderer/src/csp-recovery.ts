/**
 * The page's CSP names the backend's origins as they were when the page loaded (the embedded backend's loopback
 * on any port, from the first load: hub/media-origins.ts). A window whose configured backend moved to an address
 * its CSP does not name gets its video connections refused: such a window reloads itself once per origin, and the
 * fresh page carries a CSP that allows them. Never a reload loop: each origin gets one try per window session.
 */
import { backendMediaOrigins } from '../../protocol';

/** The origin to reload for, or null: only connections to origins the console trusts now, only once each. */
export function cspReloadOrigin(blockedUri: string, trustedUrls: ReadonlyArray<string | null>, alreadyTried: (origin: string) => boolean): string | null {
  let origin: string;
  try {
    const u = new URL(blockedUri);
    origin = `${u.protocol}//${u.host}`;
  } catch {
    return null;
  }
  const trusted = trustedUrls.flatMap((url) => backendMediaOrigins(url));
  if (!trusted.includes(origin) || alreadyTried(origin)) return null;
  return origin;
}

const reloadKey = (origin: string): string => `zongzhi.cspReload.${origin}`;

export function installCspRecovery(trustedUrls: () => ReadonlyArray<string | null>): void {
  document.addEventListener('securitypolicyviolation', (e) => {
    if (e.effectiveDirective !== 'connect-src') return;
    const key = reloadKey;
    const origin = cspReloadOrigin(e.blockedURI, trustedUrls(), (o) => sessionStorage.getItem(key(o)) !== null);
    if (!origin) return;
    sessionStorage.setItem(key(origin), new Date().toISOString());
    window.location.reload();
  });
}
