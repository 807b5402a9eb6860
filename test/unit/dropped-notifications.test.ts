/**
 * H638: notifications dropped for want of a handler near their type (a likely misspelling) are
 * told once a window per type, the later ones counted (hostile t64: 300,000 `notify('tik')`
 * vanished without a word, and a flood of them cost the primary an error and a throw each).
 */
import { describe, expect, it } from '@jest/globals';
import { DroppedNotifications } from '../../src/messaging/dropped-notifications.js';
import { isHandlerNotFound, routeUserMessage } from '../../src/messaging/route.js';
import { NoHandlerError } from '../../src/errors.js';

type Told = { type: string; nearMiss: string; count: number };

/** A reporter with a short window whose reports a test awaits, one by one. */
function reporter(windowMs = 40) {
  const told: Told[] = [];
  let wake: (() => void) | undefined;
  const dropped = new DroppedNotifications((type, nearMiss, count) => {
    told.push({ type, nearMiss, count });
    wake?.();
  }, windowMs);
  const next = (length: number) =>
    new Promise<void>((resolve) => {
      if (told.length >= length) return resolve();
      wake = () => told.length >= length && resolve();
    });
  return { dropped, told, next };
}

describe('[H638] DroppedNotifications', () => {
  it('[H638] tells the first drop of a type at once, and the rest of its window once, at its end', async () => {
    const { dropped, told, next } = reporter();
    dropped.drop('tik', 'tick');
    expect(told).toEqual([{ type: 'tik', nearMiss: 'tick', count: 1 }]);
    for (let i = 0; i < 999; i++) dropped.drop('tik', 'tick');
    dropped.drop('gret', 'greet');
    expect(told).toHaveLength(2);
    await next(3);
    expect(told[2]).toEqual({ type: 'tik', nearMiss: 'tick', count: 999 });
    // Still flooding: counted in the next window, told at its end, not one by one.
    dropped.drop('tik', 'tick');
    dropped.drop('tik', 'tick');
    expect(told).toHaveLength(3);
    await next(4);
    expect(told[3]).toEqual({ type: 'tik', nearMiss: 'tick', count: 2 });
  });

  it('[H638] tells what it counted at once when flushed (the peer gone), not at a window\'s end that may never come', () => {
    const { dropped, told } = reporter(60_000);
    dropped.drop('tik', 'tick');
    dropped.drop('tik', 'tick');
    dropped.drop('tik', 'tick');
    dropped.flush();
    expect(told).toEqual([
      { type: 'tik', nearMiss: 'tick', count: 1 },
      { type: 'tik', nearMiss: 'tick', count: 2 },
    ]);
    dropped.flush();
    expect(told).toHaveLength(2);
  });

  it('[H638] follows at most 32 types a window: a sender inventing types cannot grow it', () => {
    const { dropped, told } = reporter(60_000);
    for (let i = 0; i < 100; i++) dropped.drop(`tick${i}`, 'tick');
    expect(told).toHaveLength(32);
  });

  it('[H651] the types past the 32nd are told together at the window\'s end, with their count and their drops', async () => {
    const types: Array<number | undefined> = [];
    let wake: (() => void) | undefined;
    const told: Told[] = [];
    const dropped = new DroppedNotifications((type, nearMiss, count, _windowMs, distinct) => {
      told.push({ type, nearMiss, count });
      types.push(distinct);
      wake?.();
    }, 40);
    // Retest t64: 100 misspelt types, 3 each: 68 of them were never named nor counted.
    for (let round = 0; round < 3; round++) for (let i = 0; i < 100; i++) dropped.drop(`tick${i}`, 'tick');
    expect(told).toHaveLength(32);
    await new Promise<void>((resolve) => (wake = () => told.length >= 65 && resolve()));
    const others = told.findIndex((_, index) => types[index] !== undefined);
    expect(told[others]).toEqual({ type: 'tick32', nearMiss: 'tick', count: 68 * 3 });
    expect(types[others]).toBe(68);
    expect(types.filter((count) => count !== undefined)).toHaveLength(1);
    // The 32 still flooding keep their places in the next window: new types are counted together,
    // and told at once when flushed (the peer gone).
    dropped.drop('zz', 'tick');
    for (let i = 0; i < 40; i++) dropped.drop(`tack${i}`, 'tick');
    const before = told.length;
    dropped.flush();
    expect(told.slice(before)).toEqual([{ type: 'zz', nearMiss: 'tick', count: 41 }]);
    expect(types.at(-1)).toBe(41);
  });

  it('[H651] the report of the types past the 32nd says how many types and drops, and where to look', () => {
    const error = new NoHandlerError('tick32', 'the primary', 'tick', { count: 204, sender: 'worker 1 (pid 42)', windowMs: 10_000, types: 68 });
    expect(error.message).toBe(
      'The primary has no handler for notification "tick32" nor for 67 other types from worker 1 (pid 42), each within 2 edits of one of its handlers (such as "_onMessage_tick"), ' +
        'so 204 of them were dropped in the last 10 s (past the 32 types named one by one in a window, the others are counted together). ' +
        'If names are misspelt, check the types worker 1 (pid 42) notifies against the "_onMessage_" methods of the primary.',
    );
    expect(error.dropped).toEqual({ count: 204, sender: 'worker 1 (pid 42)', windowMs: 10_000, types: 68 });
    // One type past the bound reads as any type's drops.
    expect(new NoHandlerError('tik', 'the primary', 'tick', { count: 3, sender: 'worker 1 (pid 42)', windowMs: 10_000, types: 1 }).message).toContain('so 3 of them were dropped in the last 10 s (said once a window)');
  });
});

describe('[H638] routeUserMessage without a handler', () => {
  it('[H638] returns one miss per receiver and type, walking its prototypes once, not a new error thrown per message', () => {
    let walks = 0;
    const receiver = new (class {
      _onMessage_tick() {}
    })();
    const counted = new Proxy(receiver, {
      ownKeys(target) {
        walks++;
        return Reflect.ownKeys(target);
      },
    });
    const first = routeUserMessage(counted, undefined, 'tik', 1, false, undefined);
    expect(isHandlerNotFound(first)).toBe(true);
    expect(first).toMatchObject({ nearMiss: 'tick' });
    for (let i = 0; i < 1_000; i++) expect(routeUserMessage(counted, undefined, 'tik', i, i % 2 === 0, undefined)).toBe(first);
    expect(walks).toBe(1);
    // No stack: it would show clusterkit's routing only, and cost its capture per miss.
    expect((first as Error).stack).toBe(`NoHandlerError: ${(first as Error).message}`);
  });

  it('[H638] looks for near misses of at most 256 new types a window: a peer cycling through ever new types walks the prototypes no more', () => {
    let walks = 0;
    const receiver = new Proxy(
      new (class {
        _onMessage_tick() {}
      })(),
      {
        ownKeys(target) {
          walks++;
          return Reflect.ownKeys(target);
        },
      },
    );
    // Retest t64: 300 or more types cycling, past what is remembered, cost a walk each: 5 s for 400,000.
    for (let round = 0; round < 3; round++) for (let i = 0; i < 1_000; i++) expect(isHandlerNotFound(routeUserMessage(receiver, undefined, `t${i}`, i, true, undefined))).toBe(true);
    expect(walks).toBe(256);
    // Past the window's lookups, a miss still answers, without a near miss.
    const plain = routeUserMessage(receiver, undefined, 'tik', 1, false, undefined) as { nearMiss?: string };
    expect(isHandlerNotFound(plain)).toBe(true);
    expect(plain.nearMiss).toBeUndefined();
  });
});
