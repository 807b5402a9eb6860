import { describe, expect, it } from '@jest/globals';
import { RemoteError } from '../../src/errors.js';
import { cutText, serializeError } from '../../src/messaging/serialize-error.js';
import { kUnreadableKinds, makeUnreadable } from '../fixtures/unreadable-values.js';

const kUnreadableThrown = 'Unreadable value thrown: whether it is an Error, and what it holds, could not be read (a Proxy whose traps throw, say)';

describe('serializeError', () => {
  it('[H330] bounds every field, saying the cut: message, thrown string, stack, name, code', () => {
    const error = Object.assign(new Error('E'.repeat(100_000)), { code: 'C'.repeat(1_000) });
    error.name = 'N'.repeat(1_000);
    error.stack = `top\n${'T'.repeat(200_000)}\n    at last frame`;
    const serialized = serializeError(error);
    expect(serialized.message).toHaveLength(65_536);
    expect(serialized.message).toMatch(/^E+… \(100000 characters, cut to 65536\)$/);
    expect(serialized.code).toMatch(/^C+… \(1000 characters, cut to 256\)$/);
    expect(serialized.code).toHaveLength(256);
    expect(serialized.name).toHaveLength(256);
    expect(serialized.stack!.length).toBeLessThanOrEqual(65_536);
    expect(serialized.stack).toMatch(/^top\n/);
    expect(serialized.stack).toContain(`\n… (${error.stack.length} characters, cut to 65536) …\n`);
    expect(serialized.stack).toMatch(/at last frame$/);
    expect(serializeError('S'.repeat(70_000)).message).toMatch(/^Non-error value thrown: S+… \(70024 characters, cut to 65536\)$/);
  });

  it('[H330] a text cut again keeps its first length, and no half surrogate pair', () => {
    const once = cutText('E'.repeat(1_000_000), 65_536);
    expect(cutText(once, 1_000)).toMatch(/^E+… \(1000000 characters, cut to 1000\)$/);
    expect(cutText(once, 1_000)).toHaveLength(1_000);
    const emoji = cutText('😀'.repeat(100), 52);
    expect(emoji).not.toMatch(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/);
  });

  it('[H330] a RemoteError passed on keeps its remote fields, bounded, not left out', () => {
    const remote = new RemoteError('t', 'worker 2', { name: 'Error', message: 'M'.repeat(100_000), code: 'E_X', stack: 'S'.repeat(100_000), data: { status: 400 } });
    const { data } = serializeError(remote);
    expect(data).toMatchObject({ messageType: 't', peer: 'worker 2', remoteName: 'Error', remoteCode: 'E_X', data: { status: 400 } });
    expect(data!.remoteMessage).toMatch(/^M+… \(100000 characters, cut to 65536\)$/);
    expect((data!.remoteStack as string).length).toBeLessThanOrEqual(65_536);
  });

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
    expect(serializeError('plain')).toEqual({ name: 'Error', message: 'Non-error value thrown: plain' });
    expect(serializeError({ a: 1 })).toEqual({ name: 'Error', message: 'Non-error value thrown: {"a":1}' });
    expect(serializeError(undefined).message).toContain('undefined');
  });

  it('never throws, whatever was thrown, and keeps what can be read', () => {
    for (const kind of kUnreadableKinds) {
      const serialized = serializeError(makeUnreadable(kind));
      expect(typeof serialized.name).toBe('string');
      expect(typeof serialized.message).toBe('string');
      // JSON-safe, and structured-clone-safe (no functions left in data).
      expect(JSON.parse(JSON.stringify(serialized))).toEqual(serialized);
      expect(() => structuredClone(serialized)).not.toThrow();
    }
    expect(serializeError(makeUnreadable('messageGetter'))).toMatchObject({ name: 'Error', message: '(its message could not be read)' });
    expect(serializeError(makeUnreadable('enumerableGetter'))).toMatchObject({ name: 'Error', message: 'has a bad field' });
    expect(serializeError(makeUnreadable('enumerableGetter')).data).toBeUndefined();
    // Its name cannot be read: its class's name says what it is.
    expect(serializeError(makeUnreadable('nameGetter'))).toMatchObject({ name: 'TypeError', message: 'bad name' });
    // [H111] A class whose message getter throws: its class, and that its message could not be read (not the getter's error).
    expect(serializeError(makeUnreadable('messageGetterClass'))).toEqual({ name: 'DbError', message: '(its message could not be read)' });
    expect(serializeError(makeUnreadable('codeGetter')).code).toBeUndefined();
    expect(serializeError(makeUnreadable('transparentProxy'))).toMatchObject({ name: 'RangeError', message: 'proxied' });
    // [H708] Not known to be no Error: `instanceof` itself threw.
    expect(serializeError(makeUnreadable('revokedProxy')).message).toBe(kUnreadableThrown);
    expect(serializeError(makeUnreadable('toStringThrows')).message).toBe('Non-error value thrown: {"reason":"toString throws"}');
    expect(serializeError(makeUnreadable('toStringAndToJsonThrow')).message).toBe('Non-error value thrown: [object Object]');
    expect(serializeError(makeUnreadable('nullPrototype')).message).toBe('Non-error value thrown: {"reason":"no prototype"}');
    expect(serializeError(makeUnreadable('symbol')).message).toBe('Non-error value thrown: Symbol(thrown)');
    expect(serializeError(makeUnreadable('dataUnclonable')).data).toEqual({ detail: { count: 2 } });
  });

  it('[H708] a value whose every reading throws (a Proxy around an Error whose traps all throw) is said unreadable, not a non-Error', () => {
    const trap = (): never => {
      throw new Error('trap');
    };
    const proxy = new Proxy(new Error('inside'), { get: trap, getPrototypeOf: trap, ownKeys: trap, has: trap, getOwnPropertyDescriptor: trap });
    // Before (hostile t77): `Error: Non-error value thrown: an unreadable value`.
    expect(serializeError(proxy)).toEqual({ name: 'Error', message: kUnreadableThrown });
    // A string that reads the same is a string, said as one.
    expect(serializeError('an unreadable value').message).toBe('Non-error value thrown: an unreadable value');
  });

  it('copies data fields as JSON carries them, and leaves out oversized ones', () => {
    const error = Object.assign(new Error('x'), { when: new Date(0), ratio: Number.NaN, huge: 'y'.repeat(100_000) });
    expect(serializeError(error).data).toEqual({ when: '1970-01-01T00:00:00.000Z', ratio: null });
  });
});
