import { describe, expect, it } from '@jest/globals';
import { serializeError } from '../../src/messaging/serialize-error.js';

describe('serializeError', () => {
  it('keeps name, message, code, stack and JSON-safe fields', () => {
    const error = Object.assign(new TypeError('bad'), { code: 'E_BAD', status: 400, detail: { a: 1 }, fn: () => 1, __proto__x: 1 });
    const serialized = serializeError(error);
    expect(serialized).toMatchObject({ name: 'TypeError', message: 'bad', code: 'E_BAD', data: { status: 400, detail: { a: 1 }, __proto__x: 1 } });
    expect(serialized.stack).toContain('TypeError: bad');
    expect(serialized.data).not.toHaveProperty('fn');
    expect(JSON.parse(JSON.stringify(serialized))).toEqual(serialized);
  });

  it('drops keys that could pollute prototypes and values that are not JSON-safe', () => {
    const error = new Error('x');
    Object.defineProperty(error, '__proto__', { value: { polluted: true }, enumerable: true });
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    Object.assign(error, { constructor: 'c', circular });
    expect(serializeError(error).data).toBeUndefined();
  });

  it('describes non-Error throws', () => {
    expect(serializeError('plain')).toEqual({ name: 'Error', message: 'plain' });
    expect(serializeError({ a: 1 })).toEqual({ name: 'Error', message: 'Non-error value thrown: {"a":1}' });
    expect(serializeError(undefined).message).toContain('undefined');
  });
});
