/** Request targets and app:// URLs are parsed without ever throwing, whatever a client sends. */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { MAX_REQUEST_TARGET_LENGTH, decodeSegment, inputShape, parseAbsoluteUrl, parseRequestTarget } from '../../web-serving/request-target';
import { resolveStaticPath } from '../../web-serving/static-files';
import { describeError } from '../../web-serving/http-guard';

describe('parseRequestTarget', () => {
  it('reads origin-form targets', () => {
    const target = parseRequestTarget('/hub?token=a%2Bb&role=map');
    expect(target?.pathname).toBe('/hub');
    expect(target?.searchParams.get('token')).toBe('a+b');
    expect(parseRequestTarget('/a/../b/./c')?.pathname).toBe('/b/c');
  });

  it('keeps `//` a path (new URL(t, origin) threw on it and ended the host)', () => {
    expect(() => new URL('//', 'http://127.0.0.1:1')).toThrow();
    expect(parseRequestTarget('//')?.pathname).toBe('//');
    expect(parseRequestTarget('//evil.example/hub')?.pathname).toBe('//evil.example/hub');
  });

  it.each([undefined, '', '*', 'http://127.0.0.1/hub', 'hub', '\\\\x', '/'.padEnd(MAX_REQUEST_TARGET_LENGTH + 1, 'a')])('refuses %j', (target) => {
    expect(parseRequestTarget(target)).toBeNull();
  });

  it('never throws, and never yields a path outside the origin, for any string', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: 'binary', maxLength: 300 }), fc.string({ maxLength: 50 }).map((s) => `/${s}`), fc.stringMatching(/^[/%.?#@\\:a-z0-9]{0,40}$/)), (target) => {
        const parsed = parseRequestTarget(target);
        if (parsed) expect(parsed.pathname.startsWith('/')).toBe(true);
        expect(() => resolveStaticPath('/srv/r', parsed?.pathname ?? target)).not.toThrow();
      }),
      { numRuns: 2000 },
    );
  });
});

describe('parseAbsoluteUrl and log shapes', () => {
  it('answers null instead of throwing', () => {
    expect(parseAbsoluteUrl('app://console/index.html')?.pathname).toBe('/index.html');
    expect(parseAbsoluteUrl('//')).toBeNull();
    expect(parseAbsoluteUrl('')).toBeNull();
  });
  it('decodes a path segment, or answers null for a bad percent-encoding (decodeURIComponent threw and ended the backend)', () => {
    expect(decodeSegment('cam%2D01')).toBe('cam-01');
    expect(decodeSegment('%E0%A4%A')).toBeNull();
    expect(decodeSegment('%zz')).toBeNull();
  });
  it('describes inputs by size and errors without the input', () => {
    expect(inputShape('x'.repeat(10))).toEqual({ length: 10, type: 'string' });
    expect(inputShape(Buffer.alloc(3))).toEqual({ length: 3, type: 'bytes' });
    const text = describeError(new TypeError(`Invalid URL ${'s'.repeat(500)}`));
    expect(text.length).toBeLessThan(400);
    expect(text).toMatch(/^TypeError: Invalid URL/);
  });
});
