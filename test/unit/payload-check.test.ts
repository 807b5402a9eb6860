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
    class Point {
      constructor(readonly x: number) {}
    }
    const accepted = [undefined, null, 1, -0, 'x', true, [1, 'a', null], { a: { b: [1, { c: 'd' }] } }, new Date(0), { shared: [1] }, { absent: undefined }, new Point(1), { toJSON: () => 'as string' }];
    for (const payload of accepted) {
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

  it('refuses every value JSON changes silently, with its path', () => {
    const sparse = [1, 2];
    delete sparse[0];
    expect(reason({ file: Buffer.from('hi') })).toMatch(/^Cannot send payload\.file: a Buffer arrives as/);
    expect(reason({ re: /x/ })).toMatch(/^Cannot send payload\.re: a RegExp becomes \{\}/);
    expect(reason(Number.NaN)).toMatch(/^Cannot send payload: NaN becomes null/);
    expect(reason({ a: [1, { b: Number.POSITIVE_INFINITY }] })).toMatch(/^Cannot send payload\.a\[1\]\.b: Infinity becomes null/);
    expect(reason([undefined])).toMatch(/^Cannot send payload\[0\]: undefined in an array/);
    expect(reason(sparse)).toMatch(/^Cannot send payload\[0\]: undefined in an array \(or an empty slot/);
    expect(reason({ when: new Date(Number.NaN) })).toMatch(/^Cannot send payload\.when: an invalid Date/);
    expect(reason({ money: { toJSON: () => Number.NaN } })).toMatch(/^Cannot send payload\.money\.toJSON\(\): NaN/);
  });

  it('turns a throwing getter, toJSON or Proxy trap into NotSerializableError with the path and the cause', () => {
    const cause = new Error('locked');
    const getter = {
      list: [
        {
          get secret(): string {
            throw cause;
          },
        },
      ],
    };
    const toJSON = {
      when: {
        toJSON(): never {
          throw cause;
        },
      },
    };
    const proxy = { inner: new Proxy({}, { getPrototypeOf: () => { throw cause; } }) };
    const revoked = Proxy.revocable({}, {});
    revoked.revoke();
    for (const serialization of ['json', 'advanced'] as const) {
      for (const [payload, message] of [
        [getter, /^Cannot send payload\.list\[0\]\.secret: .*threw Error: locked/],
        [proxy, /^Cannot send payload\.inner: .*threw Error: locked/],
        [{ gone: revoked.proxy }, /^Cannot send payload\.gone: .*threw TypeError/],
      ] as const) {
        expect(reason(payload, serialization)).toMatch(message);
      }
    }
    expect(reason(toJSON)).toMatch(/^Cannot send payload\.when: its toJSON\(\) threw Error: locked/);
    try {
      checkPayload(getter, 'json', limit, 't');
    } catch (error) {
      expect((error as Error).cause).toBe(cause);
    }
    // The walk is reusable after a failure.
    expect(reason({ fine: [1, { ok: true }] })).toBeUndefined();
  });

  it('accepts in advanced mode what structured clone carries', () => {
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    const sparse = [1, 2];
    delete sparse[0];
    for (const payload of [circular, 10n, new Map([[1, { a: 2 }]]), new Set([1]), new Uint8Array(4), new Error('e'), /re/g, Buffer.from('b'), Number.NaN, [undefined, Infinity], sparse, new Date(Number.NaN)]) {
      expect(reason(payload, 'advanced')).toBeUndefined();
    }
    expect(reason({ f: () => 1 }, 'advanced')).toMatch(/functions/);
    expect(reason(new Map([[1, () => 1]]), 'advanced')).toMatch(/functions/);
    expect(reason(new Map([[Object.create(null), () => 1]]), 'advanced')).toMatch(/payload\.get\(an object\): functions/);
  });

  it('estimates sizes and enforces the limit', () => {
    expect(checkPayload('x'.repeat(100), 'json', limit, 't')).toBeGreaterThanOrEqual(100);
    expect(checkPayload({ data: 'x'.repeat(1_000) }, 'json', limit, 't')).toBeGreaterThanOrEqual(1_000);
    expect(() => checkPayload('x'.repeat(limit + 1), 'json', limit, 'big')).toThrow(MessageTooLargeError);
    expect(() => checkPayload({ list: Array.from({ length: 1_000 }, () => 'y'.repeat(2_000)) }, 'json', limit, 'big')).toThrow(/"big" is about/);
    expect(checkPayload(Buffer.alloc(1_000), 'advanced', limit, 't')).toBeGreaterThanOrEqual(1_000);
  });
});
