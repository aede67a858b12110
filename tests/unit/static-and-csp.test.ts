import { describe, expect, it } from 'vitest';
import { resolveStaticPath, mimeTypeFor } from '../../web-serving/static-files';
import { buildContentSecurityPolicy } from '../../web-serving/csp';
import { isSameOrigin, originOf } from '../../web-serving/origin';

describe('static path resolution', () => {
  const root = '/srv/renderer';
  it('maps paths inside the root', () => {
    expect(resolveStaticPath(root, '/')).toBe('/srv/renderer/index.html');
    expect(resolveStaticPath(root, '/assets/a.js')).toBe('/srv/renderer/assets/a.js');
    expect(resolveStaticPath(root, '/%E7%BD%91.png')).toBe('/srv/renderer/网.png');
  });
  it.each(['/../etc/passwd', '/assets/../../etc/passwd', '/%2e%2e/x', '/a%00b', '/a\\..\\b', '/%E0%A4%A'])('refuses %s', (path) => {
    expect(resolveStaticPath(root, path)).toBeNull();
  });
  it('knows the types the renderer needs', () => {
    expect(mimeTypeFor('x.wasm')).toBe('application/wasm');
    expect(mimeTypeFor('x.JS')).toContain('javascript');
    expect(mimeTypeFor('x.unknown')).toBe('application/octet-stream');
  });
});

describe('content security policy', () => {
  it('is strict by default', () => {
    const csp = buildContentSecurityPolicy();
    expect(csp).toMatch(/default-src 'self'/);
    // No eval of strings; WebAssembly only (Cesium's Draco/KTX2 decoders for 3D Tiles).
    expect(csp).toMatch(/script-src 'self' 'wasm-unsafe-eval';/);
    expect(csp).not.toMatch(/'unsafe-eval'/);
  });
  it('adds configured connect sources and rejects anything that could smuggle a directive', () => {
    expect(buildContentSecurityPolicy({ extraConnectSources: ['wss://sip.city.gov.cn:7443'] })).toContain("connect-src 'self' wss://sip.city.gov.cn:7443");
    expect(() => buildContentSecurityPolicy({ extraConnectSources: ["wss://a; script-src 'unsafe-eval'"] })).toThrow(/not a valid/);
    expect(() => buildContentSecurityPolicy({ extraConnectSources: ['*'] })).toThrow();
  });
});

describe('origins, including the app:// scheme', () => {
  it('compares protocol and host', () => {
    expect(originOf('app://console/index.html?role=map')).toBe('app://console');
    expect(isSameOrigin('app://console/x', 'app://console')).toBe(true);
    expect(isSameOrigin('app://consolex/x', 'app://console')).toBe(false);
    expect(isSameOrigin('https://console/x', 'app://console')).toBe(false);
    expect(isSameOrigin('not a url', 'app://console')).toBe(false);
    expect(isSameOrigin('file:///etc/passwd', 'app://console')).toBe(false);
  });
});
