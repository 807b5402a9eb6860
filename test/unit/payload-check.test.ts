import { describe, expect, it } from '@jest/globals';
import { MessageTooLargeError, NotSerializableError } from '../../src/errors.js';
import { checkPayload } from '../../src/messaging/payload-check.js';

const limit = 1024 * 1024;

function reason(payload: unknown, serialization: 'json' | 'advanced' = 'json'): string | undefined {
  try {
    checkPayload(payload, serialization, limit, 't');
    return undefined;
  } catch (error) {
    expect(error).toBeInstanceOf(NotSerializableError);
    return (error as NotSerializableError).message;
  }
}

describe('checkPayload', () => {
  it('accepts what JSON carries faithfully', () => {
    for (const payload of [undefined, null, 1, 'x', true, [1, 'a', null], { a: { b: [1, { c: 'd' }] } }, new Date(0), Buffer.from('hi'), { shared: [1] }]) {
      expect(reason(payload)).toBeUndefined();
    }
    const shared = { x: 1 };
    expect(reason({ a: shared, b: shared })).toBeUndefined();
  });

  it('names the field and the reason for values JSON would break or mangle', () => {
    const circular: Record<string, unknown> = { inner: {} };
    (circular.inner as Record<string, unknown>).back = circular;
    expect(reason(circular)).toMatch(/payload\.inner\.back: .*circular/);
    expect(reason({ n: 1n })).toMatch(/payload\.n: BigInt/);
    expect(reason({ f() {} })).toMatch(/payload\.f: functions/);
    expect(reason([1, Symbol('s')])).toMatch(/payload\[1\]: symbols/);
    expect(reason(new Map())).toMatch(/Map becomes \{\}/);
    expect(reason(new Set())).toMatch(/Set becomes \{\}/);
    expect(reason(new Uint8Array(2))).toMatch(/typed arrays/);
    expect(reason(new Error('x'))).toMatch(/Error loses its message/);
    expect(reason({ p: Promise.resolve() })).toMatch(/Promise objects/);
  });

  it('accepts in advanced mode what structured clone carries', () => {
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    for (const payload of [circular, 10n, new Map([[1, { a: 2 }]]), new Set([1]), new Uint8Array(4), new Error('e'), /re/g]) {
      expect(reason(payload, 'advanced')).toBeUndefined();
    }
    expect(reason({ f: () => 1 }, 'advanced')).toMatch(/functions/);
    expect(reason(new Map([[1, () => 1]]), 'advanced')).toMatch(/functions/);
  });

  it('estimates sizes and enforces the limit', () => {
    expect(checkPayload('x'.repeat(100), 'json', limit, 't')).toBeGreaterThanOrEqual(100);
    expect(checkPayload({ data: 'x'.repeat(1_000) }, 'json', limit, 't')).toBeGreaterThanOrEqual(1_000);
    expect(() => checkPayload('x'.repeat(limit + 1), 'json', limit, 'big')).toThrow(MessageTooLargeError);
    expect(() => checkPayload({ list: Array.from({ length: 1_000 }, () => 'y'.repeat(2_000)) }, 'json', limit, 'big')).toThrow(/"big" is about/);
    // A Buffer costs about 4 bytes a byte in JSON.
    expect(checkPayload(Buffer.alloc(1_000), 'json', limit, 't')).toBeGreaterThanOrEqual(4_000);
  });
});
