/**
 * The primary's store under its own listeners and its own comparisons (hostile t83 #3, #4, #12):
 * a 'storeChange' listener that writes (a clamp) is told after the change it reacts to, to
 * watchers and listeners alike; a worker's ephemeral tie is made before anyone hears of the
 * write, so such a write unties it; the primary's `compareAndSet()` compares `expected` as it
 * stores values; the same callback watched twice is two subscriptions.
 */
import { Blob } from 'node:buffer';
import { describe, expect, it } from '@jest/globals';
import { NotSerializableError, type StoreChange } from '../../src/index.js';
import { hostileValue } from '../fixtures/hostile-values.js';
import type { RootUncopyableKind } from '../fixtures/protocol.js';
import { testPrimary } from '../helpers/primary.js';
import { until } from '../helpers/wait.js';

describe('shared store: writes from its own listeners, and the primary\'s comparisons', () => {
  it('[H729] a storeChange listener\'s clamp is told after the write it clamps: watchers and listeners end on the stored value', async () => {
    const primary = testPrimary({ workerCount: 2 }, 'watch-worker.ts');
    const [watcher, writer] = await primary.start();
    await primary.send(watcher!, 'watch', { key: 'limit' });
    const told: unknown[] = [];
    // Values as the fixture's watcher reads them: `{ seq }`.
    primary.on('storeChange', ({ key, value }: StoreChange) => {
      if (key === 'limit' && (value as { seq: number }).seq > 100) primary.store.set('limit', { seq: 100 });
    });
    primary.on('storeChange', ({ key, value }: StoreChange) => {
      if (key === 'limit') told.push((value as { seq: number }).seq);
    });
    await primary.send(writer!, 'storeSet', { key: 'limit', value: { seq: 500 } });
    expect(primary.store.get('limit')).toEqual({ seq: 100 });
    // Before: this listener heard 100 (the clamp, told inside the write's telling), then 500.
    expect(told).toEqual([500, 100]);
    // The watcher's last change is the stored value (before: 100, then 500).
    let last: { seen: number; last: unknown } | undefined;
    await until(async () => {
      last = await primary.send(watcher!, 'seen', undefined);
      return last.last === 100 || last.seen >= 2;
    }, 30_000, 'the watcher told of both changes');
    expect(last!.last).toBe(100);
  });

  it('[H730] a worker\'s ephemeral key that a storeChange listener overwrites is the primary\'s: it outlives the worker', async () => {
    const primary = testPrimary({ workerCount: 1 }, 'watch-worker.ts');
    const [worker] = await primary.start();
    primary.on('storeChange', ({ key, value, deleted }: StoreChange) => {
      if (key === 'owner' && !deleted && value !== 'primary') primary.store.set('owner', 'primary');
    });
    await primary.send(worker!, 'storeSet', { key: 'owner', value: 'worker', ephemeral: true });
    expect(primary.store.get('owner')).toBe('primary');
    // Before: still tied to the worker (ephemeralKeys 1), and deleted at its exit.
    expect(primary.store.stats().ephemeralKeys).toBe(0);
    await primary.stopWorker(worker!);
    expect(primary.store.get('owner')).toBe('primary');
  });

  it('[H731] the primary\'s compareAndSet() matches a value it stored, compared as stored; one that cannot be stored is refused as expected', () => {
    const primary = testPrimary({ workerCount: 0 });
    class Point {
      constructor(readonly x: number) {}
    }
    const values: Array<[string, () => unknown]> = [
      ['date', () => ({ d: new Date(0) })],
      ['undefined member', () => ({ a: 1, b: undefined })],
      ['class instance', () => new Point(1)],
      ['null prototype', () => Object.assign(Object.create(null) as object, { a: 1 })],
      ['toJSON', () => ({ toJSON: () => 5 })],
      ['array', () => [1, { y: undefined }]],
    ];
    for (const [name, make] of values) {
      primary.store.set(name, make());
      // Before: false for each, where a worker's call matched.
      expect({ name, isSet: primary.store.compareAndSet(name, make(), 'replaced') }).toEqual({ name, isSet: true });
      expect(primary.store.get(name)).toBe('replaced');
    }
    expect(primary.store.compareAndSet('date', { d: new Date(1) }, 'again')).toBe(false);
    expect(() => primary.store.compareAndSet('date', { n: 1n }, 'again')).toThrow(NotSerializableError);
    expect(() => primary.store.compareAndSet('date', { n: 1n }, 'again')).toThrow(/expected\.n/);
  });

  // Hostile t84 #7: `expected` was copied without set()'s wrapping of the copy's errors.
  it('[H740] the primary\'s compareAndSet() refuses an expected it cannot copy as NotSerializableError naming expected and the key, the copy\'s error as cause', () => {
    const refusal = (primary: ReturnType<typeof testPrimary>, expected: unknown): NotSerializableError => {
      try {
        primary.store.compareAndSet('k', expected, 2);
      } catch (error) {
        return error as NotSerializableError;
      }
      throw new Error('compareAndSet() did not throw');
    };
    const advanced = testPrimary({ workerCount: 0, serialization: 'advanced' });
    advanced.store.set('k', { a: 1 });
    const uncopyable: Array<[string, unknown]> = [
      // A Blob: refused by the walk before the copy (H750).
      ['blob', { b: new Blob(['x']) }],
      ['sab', { s: new SharedArrayBuffer(4) }],
      ['env', { e: process.env }],
      ['proxy', { p: new Proxy([1], {}) }],
      ['arguments', (function (..._: unknown[]) { return { a: arguments }; })(1)],
    ];
    for (const [name, expected] of uncopyable) {
      const error = refusal(advanced, expected);
      // Before: V8's raw Error ("Unserializable host object: Blob ...", "#<SharedArrayBuffer> could not be cloned.").
      expect({ name, isNotSerializable: error instanceof NotSerializableError }).toEqual({ name, isNotSerializable: true });
      expect(error).toMatchObject({ code: 'ERR_NOT_SERIALIZABLE', path: name === 'blob' ? 'expected.b' : 'expected', storeKey: 'k' });
      if (name === 'blob') {
        expect(error.message).toMatch(/^Cannot store the value of "k", at expected\.b: a Blob holds its data outside its own fields/);
        continue;
      }
      expect(error.message).toMatch(/^Cannot store the value of "k", at expected: V8's serializer cannot copy it \((Unserializable host object|.* could not be cloned\.)/);
      expect((error.cause as Error).message).toMatch(/could not be cloned|Unserializable host object/);
    }
    expect(advanced.store.get('k')).toEqual({ a: 1 });
    const json = testPrimary({ workerCount: 0 });
    json.store.set('k', { a: 1 });
    // Before: JSON.parse's raw SyntaxError.
    const nothing = refusal(json, { toJSON: () => undefined });
    expect(nothing).toBeInstanceOf(NotSerializableError);
    expect(nothing.message).toMatch(/^Cannot store the value of "k", at expected: JSON cannot copy it \(JSON\.stringify\(\) writes nothing for it: its toJSON\(\) returned undefined/);
    // Before: JSON.stringify's raw TypeError, from a toJSON() that returns a BigInt the second time (the copy), not the first (the check).
    let calls = 0;
    const changing = refusal(json, { toJSON: () => (calls++ === 0 ? { a: 1 } : 5n) });
    expect(changing).toMatchObject({ code: 'ERR_NOT_SERIALIZABLE', path: 'expected', storeKey: 'k' });
    expect(changing.message).toMatch(/^Cannot store the value of "k", at expected: JSON cannot copy it \(Do not know how to serialize a BigInt\)/);
    expect(changing.cause).toBeInstanceOf(TypeError);
    expect(json.store.get('k')).toEqual({ a: 1 });
  });

  // Hostile t84 #5: with JSON, set('z', -0) stored -0 (a primitive is not copied), while every
  // worker read 0: a worker's compareAndSet('z', 0, ...) never matched (a retry loop spun), nor the primary's.
  it('[H741] with JSON, the primary stores -0 as workers read it, 0: compareAndSet(key, 0) matches it on both sides', async () => {
    const primary = testPrimary({ workerCount: 1 });
    const [worker] = await primary.start();
    primary.store.set('z', -0);
    expect(Object.is(primary.store.get('z'), 0)).toBe(true);
    // Before: false, every time.
    await expect(primary.send(worker!, 'storeOp', { op: 'compareAndSet', args: ['z', 0, 'x'] })).resolves.toBe(true);
    expect(primary.store.get('z')).toBe('x');
    primary.store.set('z', -0);
    // Before: false.
    expect(primary.store.compareAndSet('z', 0, 'y')).toBe(true);
    // An expected -0 is compared as a worker's would arrive: 0.
    primary.store.set('z', 0);
    expect(primary.store.compareAndSet('z', -0, 'w')).toBe(true);
    // NaN and Infinity, which JSON would change too, are refused (not stored as workers would not read them).
    for (const changed of [NaN, Infinity, -Infinity]) expect(() => primary.store.set('n', changed)).toThrow(NotSerializableError);
    // With advanced, V8 carries -0: kept.
    const advanced = testPrimary({ workerCount: 0, serialization: 'advanced' });
    advanced.store.set('z', -0);
    expect(Object.is(advanced.store.get('z'), -0)).toBe(true);
    expect(advanced.store.compareAndSet('z', 0, 'x')).toBe(false);
    expect(advanced.store.compareAndSet('z', -0, 'x')).toBe(true);
  });

  // Retest t86 N1: the primary's compareAndSet() with a root `expected` no serializer copies (a
  // Symbol, a function, a BigInt with JSON) returned false, where one nested in `expected` was
  // refused (H740). A worker's is refused at its call, as any value it sends.
  it('[H749] a root expected that cannot be stored (a Symbol, a function, a BigInt with JSON) is a NotSerializableError naming expected, on the primary and in a worker', async () => {
    for (const serialization of ['json', 'advanced'] as const) {
      const primary = testPrimary({ workerCount: 1, serialization });
      const [worker] = await primary.start();
      primary.store.set('hostile', 1);
      const roots: Array<[RootUncopyableKind, string]> = [
        ['root-symbol', 'symbols cannot be sent between processes'],
        ['root-function', 'functions cannot be sent between processes'],
      ];
      if (serialization === 'json') roots.push(['root-bigint', 'BigInt values cannot be sent with JSON serialization']);
      for (const [kind, reason] of roots) {
        const expected = hostileValue({ kind, padLength: 1 });
        let caught: unknown;
        try {
          primary.store.compareAndSet('hostile', expected, 2);
        } catch (error) {
          caught = error;
        }
        // Before: no error; compareAndSet() returned false.
        expect({ serialization, kind, isNotSerializable: caught instanceof NotSerializableError }).toEqual({ serialization, kind, isNotSerializable: true });
        expect(caught).toMatchObject({ code: 'ERR_NOT_SERIALIZABLE', path: 'expected', storeKey: 'hostile' });
        expect((caught as Error).message).toMatch(new RegExp(`^Cannot store the value of "hostile", at expected: ${reason}`));
        const asked = await primary.send(worker!, 'tryHostile', { how: 'compareAndSet', value: { kind, padLength: 1 } });
        expect({ serialization, kind, ...asked.error }).toMatchObject({ serialization, kind, name: 'NotSerializableError', isNotSerializableError: true });
        expect(asked.error!.message).toMatch(new RegExp(`^Cannot send expected: ${reason}`));
      }
      // What can be stored still compares: undefined (absent) and a BigInt with advanced.
      expect(primary.store.compareAndSet('absent', undefined, 1)).toBe(true);
      if (serialization === 'advanced') expect(primary.store.compareAndSet('hostile', 1n, 2)).toBe(false);
      expect(primary.store.get('hostile')).toBe(1);
    }
  });

  // Retest t86 N3: with advanced, -0 is kept (V8 carries it), and compareAndSet compares as
  // util.isDeepStrictEqual does: -0 and 0 differ, on the primary and for a worker alike.
  it('[H751] with advanced, compareAndSet tells -0 from 0 on both sides: a worker\'s and the primary\'s agree', async () => {
    const primary = testPrimary({ workerCount: 1, serialization: 'advanced' });
    const [worker] = await primary.start();
    primary.store.set('z', -0);
    await expect(primary.send(worker!, 'storeOp', { op: 'compareAndSet', args: ['z', 0, 'x'] })).resolves.toBe(false);
    expect(primary.store.compareAndSet('z', 0, 'x')).toBe(false);
    await expect(primary.send(worker!, 'storeOp', { op: 'compareAndSet', args: ['z', -0, 'x'] })).resolves.toBe(true);
    primary.store.set('z', 0);
    await expect(primary.send(worker!, 'storeOp', { op: 'compareAndSet', args: ['z', -0, 'y'] })).resolves.toBe(false);
    expect(primary.store.compareAndSet('z', -0, 'y')).toBe(false);
    // Nested too: a worker's write of -0, compared on either side.
    await primary.send(worker!, 'storeOp', { op: 'set', args: ['o', { a: [-0] }] });
    expect(Object.is((primary.store.get('o') as { a: number[] }).a[0], -0)).toBe(true);
    expect(primary.store.compareAndSet('o', { a: [0] }, 1)).toBe(false);
    await expect(primary.send(worker!, 'storeOp', { op: 'compareAndSet', args: ['o', { a: [0] }, 1] })).resolves.toBe(false);
    await expect(primary.send(worker!, 'storeOp', { op: 'compareAndSet', args: ['o', { a: [-0] }, 1] })).resolves.toBe(true);
  });

  it('[H732] one callback watched twice is two subscriptions: called twice a change, and one unwatch ends only its own', async () => {
    const primary = testPrimary({ workerCount: 1 }, 'watch-worker.ts');
    const [worker] = await primary.start();
    await primary.send(worker!, 'watchTwice', { key: 't' });
    primary.store.set('t', 1);
    await until(async () => (await primary.send(worker!, 'twiceSeen', undefined)).length >= 2, 10_000, 'the callback called twice');
    await primary.send(worker!, 'unwatchFirst', undefined);
    primary.store.set('t', 2);
    // Before: called once, then never again (the first unwatch ended both).
    await until(async () => (await primary.send(worker!, 'twiceSeen', undefined)).length >= 3, 10_000, 'the second watch still told');
    expect(await primary.send(worker!, 'twiceSeen', undefined)).toEqual([1, 1, 2]);
  });

  // Hostile t84 #2: with the changes told in order (H729), a listener writing on every change looped forever (1.5 GB in 12 s).
  it('[H744] a storeChange listener that writes on every change is stopped after 10 000 chained changes, with a named error at the write', async () => {
    const primary = testPrimary({ workerCount: 1 }, 'watch-worker.ts');
    const [worker] = await primary.start();
    let told = 0;
    primary.on('storeChange', () => {
      told++;
      primary.store.set('lastChangeAt', told);
    });
    expect(() => primary.store.set('a', 1)).toThrow(expect.objectContaining({ name: 'InvalidStateError', message: expect.stringContaining("'storeChange' listeners wrote the store 10000 times in a row") }));
    expect(told).toBe(10_000);
    expect(primary.store.get('a')).toBe(1);
    // A worker's write that sets it off is refused the same way; the primary and the worker go on.
    await expect(primary.send(worker!, 'storeSet', { key: 'b', value: 2 })).rejects.toMatchObject({ remoteMessage: expect.stringContaining("'storeChange' listeners wrote the store 10000 times in a row") });
    expect(primary.store.get('b')).toBe(2);
    primary.removeAllListeners('storeChange');
    await primary.send(worker!, 'storeSet', { key: 'c', value: 3 });
    expect(primary.state).toBe('running');
  });

  // Hostile t84 #4: the lease's own removal loop deleted a key a listener had written meanwhile.
  it('[H745] a key the primary writes as a worker\'s other ephemeral key is removed at its exit is the primary\'s, and stays', async () => {
    const primary = testPrimary({ workerCount: 1 }, 'watch-worker.ts');
    const [worker] = await primary.start();
    primary.on('storeChange', ({ key, deleted }: StoreChange) => {
      if (key === 'leader' && deleted) primary.store.set('leaderInfo', 'vacant');
    });
    await primary.send(worker!, 'storeSet', { key: 'leader', value: worker!.id, ephemeral: true });
    await primary.send(worker!, 'storeSet', { key: 'leaderInfo', value: { since: 1 }, ephemeral: true });
    await primary.stopWorker(worker!);
    await until(() => !primary.store.has('leader'), 10_000, 'the lease released');
    // Before: deleted as the worker's, after the listener's write.
    expect(primary.store.get('leaderInfo')).toBe('vacant');
    expect(primary.store.stats().ephemeralKeys).toBe(0);
  });
});
