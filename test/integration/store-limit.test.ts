import { describe, expect, it } from '@jest/globals';
import { ClusterPrimary, InvalidOptionError, StoreFullError, type StoreChange } from '../../src/index.js';
import { capturedLogger } from '../helpers/captured-logger.js';
import { testOptions, testPrimary } from '../helpers/primary.js';
import { kPatienceMs, onceEvent } from '../helpers/wait.js';

/** What an entry and a watch cost the primary's heap besides their key and value (src/primary/features/store-overhead.ts). */
const kEntry = 112;
const kWatch = 240;
/** What an ephemeral key's tie to its worker costs besides its entry. */
const kTie = 96;

/** What an entry counts for: its key's length plus its value's size as `maxMessageBytes` counts it (a string: its length + 2), plus its overhead. */
const stringEntryBytes = (key: string, value: string) => kEntry + key.length + value.length + 2;

describe('shared store budget (maxStoreBytes, maxStoreKeys)', () => {
  // Before: no overall limit; a worker setting distinct keys in a loop grew the primary's heap
  // until it crashed, taking every worker with it.
  it('[H26] refuses a worker filling the store with a typed StoreFullError; the primary keeps serving, and deletes free budget', async () => {
    const { logger, text } = capturedLogger();
    const primary = testPrimary({ maxStoreBytes: 64 * 1024, logger });
    const refusals: Array<{ workerId: number; code: string }> = [];
    primary.on('storeFull', ({ worker, error }) => refusals.push({ workerId: worker.id, code: error.code }));
    const [worker] = await primary.start();
    const errors: Error[] = [];
    primary.on('error', (error) => errors.push(error));
    const changes: StoreChange[] = [];
    primary.on('storeChange', (change) => changes.push(change));
    const report = await primary.send(worker!, 'fillStore', { prefix: 'fill', valueLength: 1_000, burst: 8, max: 1_000 }, { timeoutMs: 60_000 });
    expect(report.refused).toBeGreaterThan(0);
    expect(report.stored).toBeGreaterThan(55); // 1 120 B each, with the entry's overhead
    expect(report.error).toMatchObject({ isStoreFullError: true, name: 'StoreFullError', code: 'ERR_STORE_FULL', option: 'maxStoreBytes', limit: 65_536 });
    expect(report.error!.message).toMatch(/^The shared store is full: storing "fill\d+" \(about 1\.1 KiB with its key\) would take it past its limit of 64\.0+ KiB \(option "maxStoreBytes"\); it holds .+ in \d+ keys\. Nothing was stored\. Delete keys that are no longer needed \(store\.delete\(\)\), or raise the primary's "maxStoreBytes" option\.$/);
    // The operator hears of it: an event per refusal, and one log line for the burst.
    expect(refusals).toHaveLength(report.refused);
    expect(refusals.every(({ workerId, code }) => workerId === worker!.id && code === 'ERR_STORE_FULL')).toBe(true);
    const storeLines = text().split('\n').filter((line) => line.includes('The shared store is full'));
    expect(storeLines).toHaveLength(1);
    expect(storeLines[0]).toMatch(new RegExp(`^.*WARN.*worker ${worker!.id}: The shared store is full: storing "fill\\d+"`));
    // Nothing of the refused writes was stored; the count is exact and within the budget.
    const value = 'v'.repeat(1_000);
    expect(primary.store.has(report.error!.key)).toBe(false);
    expect(primary.store.size).toBe(report.stored);
    expect(changes).toHaveLength(report.stored);
    const expected = primary.store.keys().reduce((sum, key) => sum + stringEntryBytes(key, value), 0);
    expect(primary.store.bytes).toBe(expected);
    expect(primary.store.bytes).toBeLessThanOrEqual(65_536);
    expect(primary.store.bytes + report.error!.writeBytes).toBeGreaterThan(65_536);
    // The primary still serves, its store included.
    await expect(primary.send(worker!, 'echo', 'still here')).resolves.toBe('still here');
    await expect(primary.send(worker!, 'storeOp', { op: 'get', args: ['fill0'] })).resolves.toBe(value);
    // A delete frees what the key took, and the next write fits.
    const before = primary.store.bytes;
    await expect(primary.send(worker!, 'storeOp', { op: 'delete', args: ['fill0'] })).resolves.toBe(true);
    expect(primary.store.bytes).toBe(before - stringEntryBytes('fill0', value));
    await expect(primary.send(worker!, 'storeOp', { op: 'set', args: ['again', value] })).resolves.toBeUndefined();
    expect(primary.store.bytes).toBe(before - stringEntryBytes('fill0', value) + stringEntryBytes('again', value));
    expect(errors).toEqual([]);
  }, 90_000);

  it('[H26] refuses the key past maxStoreKeys, from concurrent writes; existing keys can still change', async () => {
    const primary = testPrimary({ maxStoreKeys: 50, serialization: 'advanced' });
    const [worker] = await primary.start();
    const report = await primary.send(worker!, 'fillStore', { prefix: 'k', valueLength: 1, burst: 100, max: 200 }, { timeoutMs: 60_000 });
    expect(report).toMatchObject({ stored: 50, refused: 50 });
    expect(report.error).toMatchObject({ isStoreFullError: true, code: 'ERR_STORE_FULL', option: 'maxStoreKeys', limit: 50, keyCount: 50 });
    expect(report.error!.message).toContain('past its limit of 50 keys (option "maxStoreKeys"); it holds');
    expect(primary.store.size).toBe(50);
    const op = (name: string, ...args: unknown[]) => primary.send(worker!, 'storeOp', { op: name, args });
    await expect(op('set', 'k0', 'changed')).resolves.toBeUndefined();
    await expect(op('increment', 'new-counter')).rejects.toMatchObject({ remoteName: 'StoreFullError', remoteCode: 'ERR_STORE_FULL' });
    await expect(op('compareAndSet', 'new-lock', undefined, 'me')).rejects.toMatchObject({ remoteCode: 'ERR_STORE_FULL' });
    await expect(op('compareAndSet', 'k1', 'v', 'w')).resolves.toBe(true);
    expect(primary.store.size).toBe(50);
    await expect(op('delete', 'k2')).resolves.toBe(true);
    await expect(op('increment', 'new-counter')).resolves.toBe(1);
  }, 90_000);

  it('[H636] a refused store call\'s causes name the call, never the store\'s request type', async () => {
    const primary = testPrimary({ maxStoreKeys: 1 });
    const [worker] = await primary.start();
    primary.store.set('taken', 1);
    // Before (retest t61 L1): the cause RemoteError had messageType "$store".
    const chain = await primary.send(worker!, 'failureChain', { store: { op: 'set', args: ['second', 2] } });
    expect(chain.map((level) => level.name)).toEqual(['StoreFullError', 'RemoteError']);
    expect(chain[1]).toMatchObject({ code: 'ERR_REMOTE', messageType: "store.set('second')" });
    expect(chain[1]!.message).toMatch(/^The primary answered a store call with StoreFullError: /);
    expect(JSON.stringify(chain)).not.toContain('$store');
  }, 60_000);

  it('[H26] frees the budget an exited worker\'s ephemeral keys took', async () => {
    const primary = testPrimary({ maxStoreKeys: 1, restart: false });
    const [worker] = await primary.start();
    await primary.send(worker!, 'storeOp', { op: 'set', args: ['presence', 'here', { ephemeral: true }] });
    expect(() => primary.store.set('other', 1)).toThrow(StoreFullError);
    const removed = onceEvent<StoreChange>(primary, 'storeChange', kPatienceMs, (change) => change.key === 'presence' && change.deleted);
    process.kill(worker!.pid!, 'SIGKILL');
    await removed;
    expect(primary.store.bytes).toBe(0);
    primary.store.set('other', 1);
    expect(primary.store.bytes).toBe(kEntry + 'other'.length + 8);
  }, 60_000);

  it('[H26] refuses the primary\'s own writes atomically, and counts every operation incrementally', async () => {
    const primary = testPrimary({ workerCount: 0, maxStoreBytes: 2 * kEntry + 100 });
    await primary.start();
    const { store } = primary;
    const changes: StoreChange[] = [];
    primary.on('storeChange', (change) => changes.push(change));
    store.set('a', 'x'.repeat(40));
    store.set('b', 'x'.repeat(40));
    expect(store.bytes).toBe(2 * kEntry + 86);
    let refused: unknown;
    try {
      store.set('c', 'x'.repeat(40));
    } catch (error) {
      refused = error;
    }
    expect(refused).toBeInstanceOf(StoreFullError);
    expect(refused).toMatchObject({ code: 'ERR_STORE_FULL', key: 'c', option: 'maxStoreBytes', limit: 324, usedBytes: 2 * kEntry + 86, keyCount: 2, writeBytes: kEntry + 43 });
    expect((refused as Error).message).toBe(
      'The shared store is full: storing "c" (about 155 B with its key) would take it past its limit of 324 B (option "maxStoreBytes"); ' +
        'it holds 310 B in 2 keys. Nothing was stored. Delete keys that are no longer needed (store.delete()), or raise the primary\'s "maxStoreBytes" option.',
    );
    expect(store.has('c')).toBe(false);
    // Growing a value counts only the difference; past the budget, the old value stays.
    store.set('b', 'x'.repeat(53));
    expect(store.bytes).toBe(2 * kEntry + 99);
    expect(() => store.set('b', 'x'.repeat(55))).toThrow(StoreFullError);
    expect(store.get('b')).toBe('x'.repeat(53));
    expect(() => store.compareAndSet('a', 'x'.repeat(40), { big: 'x'.repeat(100) })).toThrow(StoreFullError);
    expect(store.get('a')).toBe('x'.repeat(40));
    expect(() => store.increment('n')).toThrow(StoreFullError);
    expect(store.has('n')).toBe(false);
    expect(store.bytes).toBe(2 * kEntry + 99);
    expect(changes).toHaveLength(3);
    // Deletes and smaller values free budget; an increment of an existing counter needs none.
    store.delete('b');
    expect(store.bytes).toBe(kEntry + 43);
    expect(store.increment('n')).toBe(1);
    expect(store.increment('n', 41)).toBe(42);
    expect(store.bytes).toBe(kEntry + 43 + kEntry + 1 + 8);
    expect(store.compareAndSet('a', 'x'.repeat(40), 'y')).toBe(true);
    expect(store.bytes).toBe(kEntry + 1 + 3 + kEntry + 1 + 8);
    expect(store.compareAndSet('a', 'y', undefined)).toBe(true);
    expect(store.bytes).toBe(kEntry + 1 + 8);
    const metrics = await primary.metrics();
    expect(metrics).toContain(`\nclusterkit_store_bytes ${kEntry + 9}\n`);
    expect(metrics).toContain('\nclusterkit_store_max_bytes 324\n');
    expect(metrics).toContain('\nclusterkit_store_keys 1\n');
    expect(metrics).toContain('\nclusterkit_store_max_keys 1000000\n');
  });

  it('[H26] validates maxStoreBytes and maxStoreKeys: positive integers or Infinity, 64 MiB and a million keys by default', async () => {
    const defaults = new ClusterPrimary(testOptions());
    expect(defaults.options).toMatchObject({ maxStoreBytes: 64 * 1024 * 1024, maxStoreKeys: 1_000_000 });
    const unbounded = new ClusterPrimary(testOptions(undefined, { maxStoreBytes: Number.POSITIVE_INFINITY, maxStoreKeys: Number.POSITIVE_INFINITY }));
    expect(unbounded.options).toMatchObject({ maxStoreBytes: Number.POSITIVE_INFINITY, maxStoreKeys: Number.POSITIVE_INFINITY });
    expect(await unbounded.metrics()).toContain('\nclusterkit_store_max_bytes +Inf\n');
    for (const option of ['maxStoreBytes', 'maxStoreKeys'] as const) {
      for (const value of [0, -1, 1.5, Number.NaN, Number.NEGATIVE_INFINITY, '64MB', null]) {
        expect(() => new ClusterPrimary(testOptions(undefined, { [option]: value as number }))).toThrow(InvalidOptionError);
      }
      expect(() => new ClusterPrimary(testOptions(undefined, { [option]: -1 }))).toThrow(`The "${option}" option must be a positive integer at most Number.MAX_SAFE_INTEGER (9007199254740991), or Infinity. Received -1`);
    }
  });

  // Before: watches had no limit; a worker watching distinct keys in a loop grew the primary's
  // watcher tables (up to 1 024 characters a key) until it ran out of memory.
  it('[H27] refuses a worker watching more keys than maxStoreWatchesPerWorker, or more than maxStoreBytes, with StoreWatchLimitError', async () => {
    const primary = testPrimary({ maxStoreWatchesPerWorker: 20, maxStoreBytes: 8 * 1024, workerCount: 2 });
    const [first, second] = await primary.start();
    const errors: Error[] = [];
    primary.on('error', (error) => errors.push(error));
    const refused: string[] = [];
    primary.on('storeFull', ({ error }) => refused.push(error.code));
    const byCount = await primary.send(first!, 'watchMany', { prefix: 'w', max: 100 });
    expect(byCount.watched).toBe(20);
    expect(byCount.error).toMatchObject({ isWatchLimitError: true, name: 'StoreWatchLimitError', code: 'ERR_STORE_WATCH_LIMIT', option: 'maxStoreWatchesPerWorker', limit: 20, watchedKeys: 20 });
    expect(byCount.error!.message).toBe(
      'Watching "w20" was refused: this worker already watches 20 keys (counted as 4.7 KiB of the primary\'s memory), and one worker may watch at most 20 keys (option "maxStoreWatchesPerWorker" of the primary). ' +
        'Its other watches are unchanged. Stop watches it no longer needs (call the function watch() returned), or raise the option.',
    );
    // Stopping one watch makes room for another.
    expect(byCount.retriedAfterStop).toBe(true);
    // The limit is per worker: another worker watches as many; long keys meet the byte limit,
    // each counting its 1 001 characters and the watch's overhead (6 x 1 241 B fit 8 KiB).
    const byBytes = await primary.send(second!, 'watchMany', { prefix: 'k'.repeat(1_000), max: 100 });
    expect(byBytes.watched).toBe(Math.floor((8 * 1024) / (kWatch + 1_001)));
    expect(byBytes.error).toMatchObject({ isWatchLimitError: true, option: 'maxStoreBytes', limit: 8_192, watchedKeys: 6 });
    expect(byBytes.retriedAfterStop).toBe(true);
    expect(refused).toEqual(['ERR_STORE_WATCH_LIMIT', 'ERR_STORE_WATCH_LIMIT']);
    // The primary serves on.
    await expect(primary.send(first!, 'echo', 'still here')).resolves.toBe('still here');
    expect(errors).toEqual([]);
  }, 60_000);

  // Before: the budget counted a sparse array's 23 bytes on the wire while the primary's heap held
  // 16 MB for it (V8 rebuilds it densely): 60 such keys from a worker killed the primary.
  it('[H26] counts a sparse array as what the primary holds for it, not its few bytes on the wire (advanced)', async () => {
    const primary = testPrimary({ serialization: 'advanced', maxStoreBytes: 40 * 1024 * 1024 });
    const [worker] = await primary.start();
    const sparse = () => {
      const array: unknown[] = [];
      array[2_000_000] = 'x';
      return array;
    };
    primary.store.set('s1', sparse());
    expect(primary.store.bytes).toBeGreaterThanOrEqual(16_000_000);
    // From a worker, the same value counts the same.
    await primary.send(worker!, 'storeOp', { op: 'set', args: ['s2', sparse()] });
    expect(primary.store.bytes).toBeGreaterThanOrEqual(32_000_000);
    await expect(primary.send(worker!, 'storeOp', { op: 'set', args: ['s3', sparse()] })).rejects.toMatchObject({ remoteName: 'StoreFullError' });
    expect(primary.store.has('s3')).toBe(false);
  }, 60_000);

  // Before: the budget counted a key's text and its value's size only, while each entry cost the
  // primary about 90 bytes of heap besides: a million tiny counters counted 12 MB and took 94 MB.
  it('[H149] counts what an entry costs the primary besides its key and value, so tiny entries fill the byte budget', async () => {
    const primary = testPrimary({ workerCount: 0, maxStoreBytes: 1024 * 1024 });
    await primary.start();
    primary.store.set('k', 0);
    expect(primary.store.bytes).toBe(kEntry + 1 + 8);
    primary.store.delete('k');
    expect(primary.store.bytes).toBe(0);
    let refused: StoreFullError | undefined;
    let stored = 0;
    try {
      for (; stored < 200_000; stored++) primary.store.set(stored.toString(36), 0);
    } catch (error) {
      refused = error as StoreFullError;
    }
    // 1 MiB holds about 8 500 such entries (it held 87 000 before: 12 bytes each).
    expect(refused).toBeInstanceOf(StoreFullError);
    expect(refused).toMatchObject({ code: 'ERR_STORE_FULL', option: 'maxStoreBytes', keyCount: stored });
    expect(stored).toBeLessThan((1024 * 1024) / kEntry);
    expect(stored).toBeGreaterThan((1024 * 1024) / (kEntry + 4 + 8));
    expect(primary.store.bytes).toBeLessThanOrEqual(1024 * 1024);
  });

  // Before: a value counted its JSON text only, 2-3 bytes an empty object, while each took about
  // 65 bytes of the primary's heap: a 32 MiB budget let one worker grow that heap to 1 GiB.
  it('[H178] counts a value\'s objects and arrays as what they cost the primary\'s heap, so a worker storing [{}, {}, ...] is refused near the budget', async () => {
    const budget = 4 * 1024 * 1024;
    const primary = testPrimary({ maxStoreBytes: budget });
    const [worker] = await primary.start();
    const empties = 10_000;
    // Measured: 64-67 bytes of heap per `{}` in an array (store-overhead.ts).
    const heapPerEmpty = 64;
    let stored = 0;
    let refusal: unknown;
    for (; stored < 400; stored++) {
      try {
        await primary.send(worker!, 'storeOp', { op: 'set', args: [`e${stored}`, new Array(empties).fill({})] });
      } catch (error) {
        refusal = error;
        break;
      }
    }
    expect(refusal).toMatchObject({ remoteName: 'StoreFullError', remoteCode: 'ERR_STORE_FULL' });
    expect(primary.store.size).toBe(stored);
    // What the stored values hold in the heap stays under the budget (before: 208 values stored, 133 MB for 4 MiB).
    expect(stored * empties * heapPerEmpty).toBeLessThanOrEqual(budget);
    expect(primary.store.bytes).toBeGreaterThanOrEqual(stored * empties * heapPerEmpty);
    // Empty arrays too, and the primary's own writes count the same.
    for (const key of primary.store.keys()) primary.store.delete(key);
    primary.store.set('arrays', new Array(empties).fill([]));
    expect(primary.store.bytes).toBeGreaterThanOrEqual(empties * 40);
    await expect(primary.send(worker!, 'echo', 'still here')).resolves.toBe('still here');
  }, 90_000);

  // Before: each worker could watch up to maxStoreKeys (a million) keys, about 230 bytes of the
  // primary's heap each: one hostile worker held 232 MB of it in watches, N workers N times that.
  it('[H150] refuses a worker\'s watch past 10 000 keys by default (maxStoreWatchesPerWorker), per worker; the primary serves on', async () => {
    const primary = testPrimary({ workerCount: 1 });
    const [worker] = await primary.start();
    const refused = onceEvent<{ error: Error }>(primary, 'storeFull', kPatienceMs);
    const report = await primary.send(worker!, 'watchMany', { prefix: 'w', max: 10_100 }, { timeoutMs: 120_000 });
    expect(report.watched).toBe(10_000);
    expect(report.error).toMatchObject({ isWatchLimitError: true, code: 'ERR_STORE_WATCH_LIMIT', option: 'maxStoreWatchesPerWorker', limit: 10_000, watchedKeys: 10_000 });
    expect(report.retriedAfterStop).toBe(true);
    expect((await refused).error).toMatchObject({ code: 'ERR_STORE_WATCH_LIMIT' });
    expect(primary.store.stats()).toMatchObject({ watches: 10_000, refusals: 1, watchLimitRefusals: 1 });
    await expect(primary.send(worker!, 'echo', 'still here')).resolves.toBe('still here');
    expect(primary.options.maxStoreWatchesPerWorker).toBe(10_000);
  }, 150_000);

  // Before: a key counted its length, while V8 keeps a key with any character past Latin-1 at
  // two bytes a character: 1 024-character keys of 'ж' took twice the budget (tester t21).
  it('[H166] counts a key with a character past Latin-1 at two bytes a character, in entries and in watches', async () => {
    const budget = 64 * 1024;
    const primary = testPrimary({ workerCount: 1, maxStoreBytes: budget });
    const [worker] = await primary.start();
    const { store } = primary;
    store.set('é'.repeat(10), 0);
    expect(store.bytes).toBe(kEntry + 10 + 8);
    store.delete('é'.repeat(10));
    store.set('ж'.repeat(10), 0);
    expect(store.bytes).toBe(kEntry + 20 + 8);
    store.delete('ж'.repeat(10));
    const key = (index: number) => `${'ж'.repeat(1_000)}${String(index).padStart(3, '0')}`;
    let stored = 0;
    let refused: unknown;
    try {
      for (; stored < 1_000; stored++) store.set(key(stored), 0);
    } catch (error) {
      refused = error;
    }
    // Each counts 112 + 2 x 1 003 + 8 bytes: 30 fit 64 KiB (58 did, counted at a byte a character).
    const entryBytes = kEntry + 2 * 1_003 + 8;
    expect(refused).toMatchObject({ code: 'ERR_STORE_FULL', option: 'maxStoreBytes', keyCount: 30, writeBytes: entryBytes });
    expect(stored).toBe(Math.floor(budget / entryBytes));
    expect(store.bytes).toBe(stored * entryBytes);
    // A watch counts its key the same way: 8 KiB of a worker's watches hold 3 such keys (6 before).
    const watchPrimary = testPrimary({ workerCount: 1, maxStoreBytes: 8 * 1024 });
    const [watcher] = await watchPrimary.start();
    const byBytes = await watchPrimary.send(watcher!, 'watchMany', { prefix: 'ж'.repeat(1_000), max: 100 });
    expect(byBytes.watched).toBe(Math.floor((8 * 1024) / (kWatch + 2 * 1_001)));
    expect(byBytes.error).toMatchObject({ isWatchLimitError: true, option: 'maxStoreBytes', limit: 8_192, watchedKeys: 3 });
    await expect(primary.send(worker!, 'echo', 'still here')).resolves.toBe('still here');
  }, 60_000);

  // Before: an ephemeral key counted as a plain one, while its tie to its worker cost the
  // primary up to 88 bytes more: a worker's ephemeral keys took 1.8 times the budget (tester t21).
  it('[H166] counts an ephemeral key\'s tie to its worker, and frees it when the key is untied or its worker exits', async () => {
    const budget = 16 * 1024;
    const primary = testPrimary({ maxStoreBytes: budget, restart: false });
    const [worker] = await primary.start();
    const value = 'v'.repeat(10);
    const report = await primary.send(worker!, 'fillStore', { prefix: 'e', valueLength: 10, burst: 1, max: 1_000, ephemeral: true }, { timeoutMs: 60_000 });
    let expected = 0;
    let fits = 0;
    while (expected + stringEntryBytes(`e${fits}`, value) + kTie <= budget) expected += stringEntryBytes(`e${fits++}`, value) + kTie;
    expect(report).toMatchObject({ stored: fits, refused: 1 });
    expect(report.error).toMatchObject({ code: 'ERR_STORE_FULL', option: 'maxStoreBytes', keyCount: fits, writeBytes: stringEntryBytes(`e${fits}`, value) + kTie });
    expect(primary.store.bytes).toBe(expected);
    expect(primary.store.stats().ephemeralKeys).toBe(fits);
    // A plain write unties the key and no longer counts the tie; an increment keeps both.
    primary.store.set('e0', value);
    expect(primary.store.bytes).toBe(expected - kTie);
    primary.store.delete('e1');
    expected -= stringEntryBytes('e1', value) + kTie;
    await primary.send(worker!, 'storeOp', { op: 'set', args: ['n', 1, { ephemeral: true }] });
    const withCounter = primary.store.bytes;
    expect(withCounter).toBe(expected - kTie + kEntry + 1 + 8 + kTie);
    await primary.send(worker!, 'storeOp', { op: 'increment', args: ['n'] });
    expect(primary.store.bytes).toBe(withCounter);
    // Its exit removes its keys, and every byte they counted.
    const removed = onceEvent<StoreChange>(primary, 'storeChange', kPatienceMs, (change) => change.key === 'n' && change.deleted);
    process.kill(worker!.pid!, 'SIGKILL');
    await removed;
    expect(primary.store.keys()).toEqual(['e0']); // e1 was deleted, the others were its
    expect(primary.store.bytes).toBe(stringEntryBytes('e0', value));
  }, 90_000);

  it('[H150] validates maxStoreWatchesPerWorker: a positive integer or Infinity', () => {
    expect(new ClusterPrimary(testOptions(undefined, { maxStoreWatchesPerWorker: Number.POSITIVE_INFINITY })).options.maxStoreWatchesPerWorker).toBe(Number.POSITIVE_INFINITY);
    for (const value of [0, -1, 1.5, Number.NaN, '10000', null]) {
      expect(() => new ClusterPrimary(testOptions(undefined, { maxStoreWatchesPerWorker: value as number }))).toThrow(InvalidOptionError);
    }
    expect(() => new ClusterPrimary(testOptions(undefined, { maxStoreWatchesPerWorker: -1 }))).toThrow(
      'The "maxStoreWatchesPerWorker" option must be a positive integer at most Number.MAX_SAFE_INTEGER (9007199254740991), or Infinity. Received -1',
    );
  });
});
