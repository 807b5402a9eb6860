/**
 * H705: a value user code returned that nobody awaits (a notification handler's, a listener's, a
 * store watcher's, a service callback's) is settled as `await` would settle it. Hostile t75 F7,
 * F8: a thenable that rejected twice was two failures; a `then` getter that threw was none.
 */
import { describe, expect, it } from '@jest/globals';
import { settleLikeAwait } from '../../src/is-thenable.js';

/** What `await value` gives: its value, or what it rejects with, as the same shape. */
async function outcome(settled: Promise<unknown> | undefined): Promise<{ value: unknown } | { reason: unknown }> {
  try {
    return { value: await settled };
  } catch (reason) {
    return { reason: reason instanceof Error ? reason.message : reason };
  }
}

describe('[H705] settleLikeAwait', () => {
  it('[H705] leaves alone what await takes without looking: no promise for a primitive', () => {
    for (const value of [undefined, null, 0, 'text', true, 1n, Symbol('s')]) expect(settleLikeAwait(value)).toBeUndefined();
  });

  it('[H705] gives a native promise back as is, and makes no promise for an object or function with no then()', () => {
    const promise = Promise.resolve(1);
    expect(settleLikeAwait(promise)).toBe(promise);
    expect(settleLikeAwait({ a: 1 })).toBeUndefined();
    expect(settleLikeAwait((): number => 1)).toBeUndefined();
  });

  it('[H705] settles a thenable once: its first call wins, a later reject or resolve is dropped', async () => {
    let rejects = 0;
    const twice = {
      then(_resolve: unknown, reject: (reason: unknown) => void): void {
        rejects += 2;
        reject(new Error('first'));
        reject(new Error('second'));
      },
    };
    const failures: unknown[] = [];
    await settleLikeAwait(twice)!.then(undefined, (reason: unknown) => failures.push(reason));
    expect({ rejects, failures: failures.map((reason) => (reason as Error).message) }).toEqual({ rejects: 2, failures: ['first'] });
  });

  it('[H705] makes a throwing then getter, a throwing then() and a Proxy whose trap throws rejections, never a synchronous throw', async () => {
    const getter = {
      get then(): never {
        throw new Error('getter');
      },
    };
    const calls = {
      then(): never {
        throw new Error('called');
      },
    };
    const proxy = new Proxy(
      {},
      {
        get(): never {
          throw new Error('trap');
        },
      },
    );
    // A native promise whose constructor getter throws: Promise.resolve reads it first.
    const odd = Promise.resolve(1);
    Object.defineProperty(odd, 'constructor', {
      get(): never {
        throw new Error('constructor');
      },
    });
    expect(await outcome(settleLikeAwait(getter))).toEqual({ reason: 'getter' });
    expect(await outcome(settleLikeAwait(calls))).toEqual({ reason: 'called' });
    expect(await outcome(settleLikeAwait(proxy))).toEqual({ reason: 'trap' });
    expect(await outcome(settleLikeAwait(odd))).toEqual({ reason: 'constructor' });
  });
});
