import { describe, expect, it } from 'vitest';
import { MAX_FRAME_BYTES, MAX_FRAME_DEPTH, WireProtocolError, decodeFrame, encodeFrame, errorFrame, nestingDepth, utf8ByteLength } from '../../protocol';

describe('wire protocol v1 envelope', () => {
  it('round-trips a frame', () => {
    const text = encodeFrame('command.ack', { ok: true }, 'c-1');
    expect(decodeFrame(text)).toEqual({ ok: true, frame: { v: 1, type: 'command.ack', id: 'c-1', payload: { ok: true } } });
  });

  it.each([
    ['not JSON', '{"v":1,', 'malformed'],
    ['a JSON array', '[1,2]', 'malformed'],
    ['no type', '{"v":1,"payload":{}}', 'malformed'],
    ['a bad type name', '{"v":1,"type":"Drop Table","payload":{}}', 'malformed'],
    ['a newer version', '{"v":2,"type":"hello","payload":{}}', 'unsupported-version'],
    ['a version as text', '{"v":"1","type":"hello","payload":{}}', 'unsupported-version'],
  ])('refuses %s with a typed error', (_name, raw, code) => {
    const decoded = decodeFrame(raw);
    expect(decoded.ok).toBe(false);
    if (!decoded.ok) {
      expect(decoded.error).toBeInstanceOf(WireProtocolError);
      expect(decoded.error.code).toBe(code);
      expect(decoded.error.message.length).toBeGreaterThan(5);
    }
  });

  it('refuses frames over the size limit, counting UTF-8 bytes, not characters', () => {
    const limit = 100;
    const ascii = JSON.stringify({ v: 1, type: 'x', payload: 'a'.repeat(60) });
    expect(decodeFrame(ascii, limit).ok).toBe(true);
    // 40 CJK characters are 120 UTF-8 bytes: over the limit although under 100 characters.
    const cjk = JSON.stringify({ v: 1, type: 'x', payload: '网'.repeat(40) });
    expect(cjk.length).toBeLessThan(limit);
    const decoded = decodeFrame(cjk, limit);
    expect(decoded.ok || decoded.error.code).toBe('frame-too-large');
    expect(decodeFrame('x'.repeat(MAX_FRAME_BYTES + 1)).ok).toBe(false);
  });

  it('counts UTF-8 bytes like Buffer does, surrogate pairs included', () => {
    for (const s of ['', 'abc', '网格员', '😀 ok', 'é'.repeat(10)]) expect(utf8ByteLength(s)).toBe(Buffer.byteLength(s, 'utf8'));
  });

  it('will not encode an oversized frame (a bug on the sending side)', () => {
    expect(() => encodeFrame('snapshot.chunk', 'x'.repeat(200), undefined, 100)).toThrow(/refusing/);
  });

  it('builds error frames that validate', () => {
    const text = errorFrame({ code: 'forbidden', message: 'viewer may not dispatch', retryable: false }, 'c-9');
    const decoded = decodeFrame(text);
    expect(decoded.ok && decoded.frame).toMatchObject({ type: 'error', id: 'c-9', payload: { code: 'forbidden' } });
    // Building a refusal cannot fail, whatever it echoes: an unknown code becomes internal, texts are cut to the
    // schema's limits, an id that is not one is left out.
    const hostile = decodeFrame(errorFrame({ code: 'nonsense' as never, message: '中'.repeat(100_000), inReplyTo: 'x'.repeat(10_000), issues: Array.from({ length: 500 }, () => ({ path: 'p'.repeat(5000), message: 'm'.repeat(5000) })), retryable: false }, 'i'.repeat(1000)));
    expect(hostile.ok).toBe(true);
    if (!hostile.ok) return;
    expect(hostile.frame.id).toBeUndefined();
    expect(hostile.frame.payload).toMatchObject({ code: 'internal' });
    const payload = hostile.frame.payload as { message: string; inReplyTo: string; issues: unknown[] };
    expect(payload.message.length).toBeLessThanOrEqual(2000);
    expect(payload.inReplyTo.length).toBeLessThanOrEqual(64);
    expect(payload.issues).toHaveLength(50);
  });

  it('refuses frames nested deeper than the limit before parsing, counting brackets outside strings only', () => {
    expect(nestingDepth('{"a":[[1]],"b":"[[[[[[[["}')).toBe(3);
    // An escaped backslash ends before the closing quote: what follows the string counts again.
    expect(nestingDepth('{"a":"x\\\\"}[[[')).toBe(3);
    // An escaped quote does not end the string: the brackets after it are inside it.
    expect(nestingDepth('{"a":"x\\"[[["}')).toBe(1);
    const deep = decodeFrame(`{"v":1,"type":"hello","payload":${'['.repeat(100_000)}${']'.repeat(100_000)}}`);
    expect(deep.ok).toBe(false);
    if (!deep.ok) expect(deep.error.message).toContain(`deeper than ${MAX_FRAME_DEPTH}`);
    expect(decodeFrame(`{"v":1,"type":"ping","payload":${'['.repeat(20)}${']'.repeat(20)}}`).ok).toBe(true);
  });
});

describe('server clock', () => {
  it('runs the backend clock forward at its rate from the last welcome', async () => {
    const { serverNowMs } = await import('../../protocol');
    const clock = { serverTime: '2026-11-22T00:00:00.000Z', localTime: '2026-11-22T10:00:00.000Z', clockRate: 60 };
    expect(serverNowMs(clock, Date.parse('2026-11-22T10:00:10.000Z'))).toBe(Date.parse('2026-11-22T00:10:00.000Z'));
    expect(serverNowMs(null, 1234)).toBe(1234);
  });
});
