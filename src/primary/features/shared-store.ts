/**
 * The shared store owned by the primary: `primary.store`. Workers reach it with
 * `worker.store.get/set/increment/...`, one request each; the primary runs one operation at a
 * time, so `increment` and `compareAndSet` are atomic across workers.
 *
 * Backed by a `Map`: keys such as `__proto__` or `constructor` are ordinary keys and can never
 * reach a prototype.
 *
 * Bounded: workers are untrusted, and one that stores without end would take the whole cluster
 * down with the primary. Each entry keeps its size (its key's bytes in the heap plus its value's
 * size as `checkPayload` estimates it for `maxMessageBytes`, plus what an entry costs the heap
 * besides, and an ephemeral one its tie to its worker too: store-overhead.ts), and the total is kept as entries come and
 * go, never by walking the store: a write that would pass `maxStoreBytes` or `maxStoreKeys` is
 * refused with `StoreFullError` before anything changes.
 *
 * Never hands user code the object it holds (H297): `get`, `entries` and the `storeChange` event
 * give copies, since a stored object changed in place would change what every worker reads,
 * behind the budget (never re-sized) and the watchers (never told). Workers' reads skip the copy
 * (`readStored`, `storedEntries`): their reply is serialized anyway.
 */
import { loadUtil, loadV8 } from '../../builtins.js';
import { describeThrown, readProperty } from '../../readable-error.js';
import { missingNextError } from '../../store-missing-next.js';
import { describeValue, InvalidArgumentError, NotSerializableError, receivedClause, ShutdownInProgressError, StoreFullError } from '../../errors.js';
import { checkHeldPayload } from '../../messaging/payload-check.js';
import { storedValuePath } from '../../messaging/payload-walk.js';
import { checkStoreKey, checkStorePrefix } from '../../store-key.js';
import { checkNoExtraArguments, firstExtraArgument, kNoArgument } from '../../extra-arguments.js';
import { WorkerHandle } from '../pool/worker-handle.js';
import type { NormalizedPrimaryOptions } from '../primary-options.js';
import { kEphemeralTieOverheadBytes, keyBytes, kStoreEntryOverheadBytes, kStoreValueHeapCost } from './store-overhead.js';
import { kNoActivity, type StoreActivity, type StoreStats } from './store-stats.js';

export { kMaxStoreKeyLength } from '../../store-key.js';

/** What `storeChange` listeners (primary) and `store.watch()` callbacks (workers) receive. */
export interface StoreChange<Source = WorkerHandle | 'primary'> {
  readonly key: string;
  /** The new value; `undefined` when the key was deleted. */
  readonly value: unknown;
  readonly previous: unknown;
  readonly deleted: boolean;
  /** Who made the change. */
  readonly source: Source;
}

/** The options the store reads: how values are sized, and its budget. */
/** The most entries a V8 `Map` holds. */
const kMaxMapEntries = 2 ** 24;
/** What to do about a step that rounding loses (H125) or changes (H126). */
const kRoundingAdvice = 'Count in steps the value can hold (scale them: count cents or milliseconds in whole numbers), or keep the value smaller.';
/** How much of an increment's step its sum may round away (H126): a millionth. */
const kMaxStepRounding = 1e-6;

/**
 * What `a + b` loses to rounding, exactly: (a + b) - fl(a + b), by Knuth's TwoSum (exact in
 * round-to-nearest when the sum is finite). 0 when the sum is exact.
 */
function sumRoundingError(a: number, b: number): number {
  const sum = a + b;
  const bApplied = sum - a;
  return a - (sum - bApplied) + (b - bApplied);
}

/**
 * `value` as a worker would receive it, through the cluster's `serialization`: a new object, so
 * neither side of the copy can change the other. A primitive is returned as it is, but -0 with
 * JSON, which writes it as 0 (NaN and Infinity, which it would change too, are refused before).
 */
export function copyStoreValue(value: unknown, serialization: StoreLimits['serialization']): unknown {
  // Hostile t84 #5: -0 was stored as -0 where every worker read 0, so a worker's
  // compareAndSet(key, 0, ...) never matched it (a retry loop spun), nor the primary's own.
  if (typeof value !== 'object' || value === null) return value === 0 && serialization === 'json' ? 0 : value;
  if (serialization === 'json') {
    const text = JSON.stringify(value) as string | undefined;
    // What a root toJSON() returning undefined writes: nothing, not a value a worker could read
    // (JSON.parse would throw `"undefined" is not valid JSON`, which says less).
    if (text === undefined) throw new TypeError('JSON.stringify() writes nothing for it: its toJSON() returned undefined, a function or a symbol');
    return JSON.parse(text) as unknown;
  }
  const v8 = loadV8();
  return v8.deserialize(v8.serialize(value)) as unknown;
}

/** The longest part of the serializer's message a refusal quotes: "Unserializable host object: " goes on with the object's whole inspection (process.env's every variable). */
const kMaxQuotedChars = 120;

/** Why the primary's store could not copy a value in: the serializer's message, its first line cut short (the whole is the refusal's `cause`). */
function uncopyableReason(error: unknown, serialization: StoreLimits['serialization']): string {
  // Its message alone: the error is V8's, from Node's realm (not `instanceof Error` in a vm context, as under Jest).
  const own = typeof error === 'object' && error !== null ? readProperty(error, 'message') : undefined;
  const message = (typeof own === 'string' ? own : describeThrown(error)).split('\n', 1)[0]!;
  const quoted = message.length > kMaxQuotedChars ? `${message.slice(0, kMaxQuotedChars)}...` : message;
  // JSON fails on what user code returns (a toJSON() returning a BigInt the second time it is called: hostile t84 #7).
  if (serialization === 'json') return `JSON cannot copy it (${quoted}); store plain data (objects, arrays, strings, numbers...), and a toJSON() that returns the same each time`;
  return `V8's serializer cannot copy it (${quoted}); store plain data (objects, arrays, strings, numbers, Buffers, Maps, Sets...) instead`;
}

/**
 * The stored value at `key` itself, not a copy: only for a reply to a worker, which is serialized
 * on its way (copying first would serialize it twice). Never for user code on the primary.
 */
// Assigned once, in SharedStore's static block.
export let readStored: (store: SharedStore, key: string) => unknown;
/** `entries(prefix)` with the stored values themselves: as `readStored`, only for a worker's reply. */
export let storedEntries: (store: SharedStore, prefix: string) => Array<[string, unknown]>;
/**
 * A worker's write, as the primary's routing (serve-store.ts) runs it: `source` is the worker it
 * came from, told to `storeChange` listeners. Not on the class: user code on the primary cannot
 * make a write look like a worker's (hostile t84 #8: `primary.store.set(k, v, handle)` did, and
 * stored the caller's object uncopied).
 */
export let writeAsWorker: {
  set(store: SharedStore, key: string, value: unknown, source: WorkerHandle, ephemeral: boolean): void;
  delete(store: SharedStore, key: string, source: WorkerHandle): boolean;
  increment(store: SharedStore, key: string, by: number | undefined, source: WorkerHandle): number;
  compareAndSet(store: SharedStore, key: string, expected: unknown, next: unknown, source: WorkerHandle, ephemeral: boolean): boolean;
};

export type StoreLimits = Pick<NormalizedPrimaryOptions, 'serialization' | 'maxMessageBytes' | 'maxStoreBytes' | 'maxStoreKeys'>;

/** A stored value and the bytes it counts for (key, value and the entry's own overhead). */
interface Entry {
  readonly value: unknown;
  readonly bytes: number;
}


/** The parameters of the primary's store writes, as a refusal names them. */
const kParameters = { set: 'key, value', delete: 'key', increment: 'key, by', compareAndSet: 'key, expected, next' } as const;
export class SharedStore {
  static {
    // Reached by serve-store.ts, not through the class: user code cannot get the stored objects.
    readStored = (store, key) => store.#entries.get(checkStoreKey(key))?.value;
    storedEntries = (store, prefix) => store.#matching(prefix);
    writeAsWorker = {
      set: (store, key, value, source, ephemeral) => store.#set(key, value, source, ephemeral),
      delete: (store, key, source) => store.#delete(key, source),
      increment: (store, key, by, source) => store.#increment(key, by, source),
      compareAndSet: (store, key, expected, next, source, ephemeral) => store.#compareAndSet(key, expected, next, source, ephemeral),
    };
  }

  readonly #entries = new Map<string, Entry>();
  /** The sum of every entry's `bytes`: changed by each write and delete. */
  #bytes = 0;
  readonly #limits: StoreLimits;
  /** Told of every change; `isIncrement` for `increment()`, the one write that keeps a key tied to its worker. */
  readonly #onChange: (change: StoreChange, isIncrement: boolean) => void;
  /** The figures of its watchers and leases (serve-store.ts), for `stats()`. */
  readonly #activity: () => StoreActivity;
  /** Writes refused by the budget (`StoreFullError`), from the primary or a worker, since the start. */
  #refusals = 0;
  /** True once the primary has shut down: no one could read a write any more (no worker, no `storeChange`). */
  readonly #isClosed: () => boolean;

  /** @internal Created by the primary. */
  constructor(
    limits: StoreLimits,
    onChange: (change: StoreChange, isIncrement: boolean) => void,
    activity: () => StoreActivity = () => kNoActivity,
    isClosed: () => boolean = () => false,
  ) {
    this.#limits = limits;
    this.#onChange = onChange;
    this.#activity = activity;
    this.#isClosed = isClosed;
  }

  /**
   * A write by the primary after `shutdown()` completed is refused, as `send()`, `fork()` and
   * `reload()` are then. Reads stay open: the final figures can still be read.
   */
  #checkOpen(method: keyof typeof kParameters, extra: unknown): void {
    // A caller's write options (`{ ephemeral: true }`, a worker's) were taken without a word and
    // did nothing (retest t59); any other argument past the caller's was ignored (retest t81); a
    // WorkerHandle there made the write the worker's (hostile t84 #8): all refused.
    if (extra !== kNoArgument) {
      throw new InvalidArgumentError(
        `The primary's store.${method}() takes (${kParameters[method]}); it was given more. Write options such as { ephemeral: true } are a worker's: a key the primary writes is tied to no worker, and its storeChange source is 'primary'. Received ${describeValue(extra)} after them.`,
      );
    }
    if (this.#isClosed()) throw new ShutdownInProgressError(`The primary has shut down; store.${method}() is refused (nothing was stored). Reads still work.`);
  }

  /**
   * What the store holds against its budget and what its watchers cost, now: what
   * `clusterkit status` and the dashboard show. Cheap: counters, no walk over the keys.
   */
  stats(): StoreStats {
    if (arguments.length > 0) checkNoExtraArguments('store.stats()', arguments, []);
    const { watchRefusals, ...activity } = this.#activity();
    const { maxStoreKeys, maxStoreBytes } = this.#limits;
    return {
      keys: this.#entries.size,
      maxKeys: Math.min(maxStoreKeys, kMaxMapEntries),
      bytes: this.#bytes,
      maxBytes: Number.isFinite(maxStoreBytes) ? maxStoreBytes : null,
      ...activity,
      refusals: this.#refusals + watchRefusals,
    };
  }

  /** How many keys the store holds (at most `maxStoreKeys`). */
  get size(): number {
    return this.#entries.size;
  }

  /**
   * The bytes the store holds, as counted against `maxStoreBytes`: for each key, its length
   * (twice that for a key with a character past Latin-1, which V8 keeps at two bytes a
   * character) plus its value's size on the wire (as `maxMessageBytes` counts it), plus 112
   * bytes for what the entry itself costs the primary's heap, and 96 more for an ephemeral key's
   * tie to its worker (store-overhead.ts).
   */
  get bytes(): number {
    return this.#bytes;
  }

  /**
   * A copy of the value at `key` (as a worker would read it), or `undefined`: changing it changes
   * nothing stored until it is `set()` again. `T` is the type you stored there, as a worker's
   * `store.get<T>()` takes it (not checked at run time: newcomer t64 found the two unlike).
   */
  get<T = unknown>(key: string): T | undefined {
    if (arguments.length > 1) checkNoExtraArguments('store.get()', arguments, ['key']);
    return this.#copy(this.#entries.get(checkStoreKey(key))?.value) as T | undefined;
  }

  has(key: string): boolean {
    if (arguments.length > 1) checkNoExtraArguments('store.has()', arguments, ['key']);
    return this.#entries.has(checkStoreKey(key));
  }

  /**
   * Stores a copy of `value` as workers read it (through the cluster's serialization: with
   * JSON a Date becomes its ISO string); changing `value` afterwards changes nothing stored.
   * `value` must be able to cross IPC, and with `advanced` be one V8's serializer can copy (not a
   * SharedArrayBuffer, a Blob, process.env...).
   * @throws NotSerializableError, MessageTooLargeError (a value over `maxMessageBytes`),
   *   InvalidArgumentError (a bad key or an undefined value), StoreFullError (the write would take
   *   the store past `maxStoreBytes` or `maxStoreKeys`), ShutdownInProgressError (the primary has
   *   shut down; `delete`, `increment` and `compareAndSet` too). Nothing is stored then.
   */
  set(key: string, value: unknown): void {
    this.#checkOpen('set', arguments.length > 2 ? firstExtraArgument(arguments, 2) : kNoArgument);
    this.#set(key, value, 'primary', false);
  }

  /** `ephemeral`: a worker's ephemeral write, counted with the tie its caller makes next. */
  #set(key: string, value: unknown, source: WorkerHandle | 'primary', ephemeral: boolean): void {
    checkStoreKey(key);
    if (value === undefined) throw new InvalidArgumentError(`Cannot store undefined at "${key}"; use delete() to remove a key.`);
    const bytes = this.#entryBytes(key, value, ephemeral);
    const previous = this.#entries.get(key);
    this.#checkRoom(key, bytes, previous);
    // The primary's own object is copied, as a worker's arrives copied: changed after set(), it
    // would change the stored value behind the store's back (and could no longer be sent).
    if (source === 'primary') value = this.#copyIn(key, value);
    this.#write(key, { value, bytes }, previous);
    this.#onChange({ key, value, previous: previous?.value, deleted: false, source }, false);
  }

  /** What an entry of `value` at `key` counts against `maxStoreBytes`; throws for a value that cannot be stored. */
  #entryBytes(key: string, value: unknown, ephemeral: boolean): number {
    return kStoreEntryOverheadBytes + (ephemeral ? kEphemeralTieOverheadBytes : 0) + keyBytes(key) + this.#storableBytes(key, value, 'value');
  }

  /**
   * `value`'s size as a stored value counts it; throws as a value that cannot be stored is
   * refused. A store write, not a send: `Cannot store the value of "k"`, its path the caller's
   * argument (`value`, H356; `expected` of the primary's compareAndSet()).
   */
  #storableBytes(key: string, value: unknown, argument: 'value' | 'expected'): number {
    try {
      return checkHeldPayload(value, this.#limits.serialization, this.#limits.maxMessageBytes, `store value '${key}'`, kStoreValueHeapCost);
    } catch (error) {
      throw storedValuePath(error, 'payload', argument, key);
    }
  }

  /** `expected` of the primary's `compareAndSet()` as a stored value is kept; refused (named `expected`) as a value that cannot be stored is. */
  #comparable(key: string, expected: unknown): unknown {
    // Refused as a stored value is, a primitive too (retest t86 N1: a root Symbol, function, or
    // BigInt with JSON compared false, where one nested in `expected` was refused); `undefined`
    // is "absent", not a value.
    if (expected !== undefined) this.#storableBytes(key, expected, 'expected');
    // A primitive as stored too: -0 as 0 with JSON.
    if (typeof expected !== 'object' || expected === null) return this.#copy(expected);
    // Copied as set() copies (hostile t84 #7: before, V8's or JSON's raw error for a Blob, a
    // SharedArrayBuffer, process.env, a toJSON() returning undefined...).
    return this.#copyIn(key, expected, 'expected');
  }

  /** `value` as a worker would receive it: through the cluster's serialization. */
  #copy(value: unknown): unknown {
    return copyStoreValue(value, this.#limits.serialization);
  }

  /**
   * The copy `set()` stores of the primary's own `value`. What V8's serializer cannot copy (a
   * SharedArrayBuffer, a Blob, process.env, a detached ArrayBuffer, a Proxy, an `arguments`
   * object: the walk lets them by) is a NotSerializableError naming the key, the serializer's
   * error its cause (hostile t83 #10: before, the raw Error, such as "#<SharedArrayBuffer> could
   * not be cloned.", where send() said NotSerializableError).
   */
  #copyIn(key: string, value: unknown, argument: 'value' | 'expected' = 'value'): unknown {
    try {
      return this.#copy(value);
    } catch (error) {
      throw new NotSerializableError(argument, uncopyableReason(error, this.#limits.serialization), { cause: error, storeKey: key });
    }
  }

  /** Refuses a write of `bytes` at `key` (replacing `previous`) that would pass a budget. */
  #checkRoom(key: string, bytes: number, previous: Entry | undefined): void {
    const { maxStoreBytes, maxStoreKeys } = this.#limits;
    const keyCount = this.#entries.size;
    // A JavaScript Map holds at most 2^24 entries (V8): past it, set() throws a RangeError, so
    // even `maxStoreKeys: Infinity` stops there, with the same error.
    const keyLimit = Math.min(maxStoreKeys, kMaxMapEntries);
    const limit = previous === undefined && keyCount >= keyLimit ? 'maxStoreKeys' : this.#bytes - (previous?.bytes ?? 0) + bytes > maxStoreBytes ? 'maxStoreBytes' : undefined;
    if (limit === undefined) return;
    this.#refusals++;
    throw new StoreFullError(key, limit, limit === 'maxStoreKeys' ? keyLimit : maxStoreBytes, this.#bytes, keyCount, bytes);
  }

  #write(key: string, entry: Entry, previous: Entry | undefined): void {
    this.#entries.set(key, entry);
    this.#bytes += entry.bytes - (previous?.bytes ?? 0);
  }

  /** Removes `key`; returns whether it existed. */
  delete(key: string): boolean {
    this.#checkOpen('delete', arguments.length > 1 ? firstExtraArgument(arguments, 1) : kNoArgument);
    return this.#delete(key, 'primary');
  }

  #delete(key: string, source: WorkerHandle | 'primary'): boolean {
    checkStoreKey(key);
    const previous = this.#entries.get(key);
    if (previous === undefined) return false;
    this.#entries.delete(key);
    this.#bytes -= previous.bytes;
    this.#onChange({ key, value: undefined, previous: previous.value, deleted: true, source }, false);
    return true;
  }

  /**
   * Adds `by` to the number at `key` (a missing key counts as 0) and returns the new value.
   * @throws InvalidArgumentError when the stored value is not a number, or when the sum is not
   *   a finite number (past ±`Number.MAX_VALUE`): nothing is stored then, as JSON could carry
   *   neither the value nor the change to workers; and when the stored value or the sum is past
   *   `Number.MAX_SAFE_INTEGER`, where adding would round (a step itself past 2^53 excepted);
   *   and when a step other than 0 leaves the value as it was (lost to rounding: 2^52 + 0.5);
   *   and when the sum is rounded by more than a millionth of the step, exactly
   *   |(value + by) - stored sum| > |by| * 1e-6 with the left side computed without rounding
   *   (2^51 + 0.75 stores 2^51 + 1: a step of 1 applied, not 0.75). An everyday fractional sum
   *   passes (0.1 + 0.2 on 0.1 rounds by 3e-17); a step is refused once the value is about
   *   2^53 / 1e6 (9e9) times it or more (0.01 from 2^31, 0.001 from 2^24), never an integer step
   *   on an integer within `Number.MAX_SAFE_INTEGER`.
   * @throws StoreFullError when `key` is new and the store has no room for it.
   */
  increment(key: string, by = 1): number {
    this.#checkOpen('increment', arguments.length > 2 ? firstExtraArgument(arguments, 2) : kNoArgument);
    return this.#increment(key, by, 'primary');
  }

  #increment(key: string, by: number | undefined = 1, source: WorkerHandle | 'primary'): number {
    checkStoreKey(key);
    if (typeof by !== 'number' || !Number.isFinite(by)) throw new InvalidArgumentError(`increment() needs a finite number to add. ${receivedClause(by)}.`);
    const entry = this.#entries.get(key);
    const previous = entry?.value;
    if (previous !== undefined && typeof previous !== 'number') {
      throw new InvalidArgumentError(`The value at "${key}" is not a number, so it cannot be incremented; set() a number first.`);
    }
    const value = (previous ?? 0) + by;
    // Checked before writing: an Infinity stored would fail every later read of the key.
    if (!Number.isFinite(value)) {
      throw new InvalidArgumentError(
        `increment(${describeValue(key)}, ${by}) would store ${value} (past the largest number, ±${Number.MAX_VALUE}); nothing was stored. ` +
          'Keep counters well under 2^53 (Number.MAX_SAFE_INTEGER) to keep them exact, or store a string for larger values.',
      );
    }
    // An integer counter past 2^53 loses increments silently (2^53 + 1 reads as 2^53): refused,
    // as Infinity is, rather than counted wrong. That holds for a value set() past the range
    // too (H120): 2^54 + 1 === 2^54, so every increment of it would be lost.
    // (A step of its own past that range, as increment(k, Number.MAX_VALUE), is the caller's
    // choice of an inexact number, and stays allowed.)
    if (Math.abs(by) <= 2 ** 53 && previous !== undefined && Math.abs(previous) > Number.MAX_SAFE_INTEGER) {
      throw new InvalidArgumentError(
        `increment(${describeValue(key)}, ${by}) cannot count exactly from ${previous}: the value at "${key}" is past Number.MAX_SAFE_INTEGER (±${Number.MAX_SAFE_INTEGER}), where integers are no longer exact (${previous} + ${by} may be ${previous} again); nothing was stored. ` +
          'set() a value within that range to count from, or store a string (or a BigInt turned into one) for larger values.',
      );
    }
    if (Math.abs(by) <= 2 ** 53 && Math.abs(value) > Number.MAX_SAFE_INTEGER) {
      throw new InvalidArgumentError(
        `increment(${describeValue(key)}, ${by}) would store ${value}, past Number.MAX_SAFE_INTEGER (±${Number.MAX_SAFE_INTEGER}), where integers are no longer exact (adding 1 may change nothing); nothing was stored. ` +
          'Reset the counter, or store a string (or a BigInt turned into one) for larger values.',
      );
    }
    // A step lost to rounding (2^52 + 0.5 === 2^52, 1 + 1e-17 === 1): stored, it would resolve
    // with the same value each time, a storeChange each, and nobody told (H125).
    if (by !== 0 && previous !== undefined && value === previous) {
      throw new InvalidArgumentError(
        `increment(${describeValue(key)}, ${by}) would store ${previous} again: ${previous} + ${by} rounds back to ${previous} (a double has 53 bits, so a step that small is lost on a value that large); nothing was stored. ` +
          kRoundingAdvice,
      );
    }
    // A step rounded, not lost (2^51 + 0.75 stores 2^51 + 1): each increment would count a
    // third too much, silently (H126). Every fractional sum rounds a little (0.1 + 0.2), so the
    // bar is the step's own size: a rounding over a millionth of it is refused.
    const rounding = sumRoundingError(previous ?? 0, by);
    if (Math.abs(rounding) > Math.abs(by) * kMaxStepRounding) {
      throw new InvalidArgumentError(
        `increment(${describeValue(key)}, ${by}) would add ${value - (previous ?? 0)}, not ${by}: ${previous} + ${by} rounds to ${value} (a double has 53 bits, so at that size the step is rounded by more than a millionth of it); nothing was stored. ` +
          kRoundingAdvice,
      );
    }
    // A number replacing a number takes as many bytes (an ephemeral key stays tied): only a new
    // key needs room.
    const bytes = entry?.bytes ?? this.#entryBytes(key, value, false);
    if (entry === undefined) this.#checkRoom(key, bytes, undefined);
    this.#write(key, { value, bytes }, entry);
    this.#onChange({ key, value, previous, deleted: false, source }, true);
    return value;
  }

  /**
   * Sets `next` only if the current value deep-equals `expected` (`undefined`: the key is
   * absent), as `util.isDeepStrictEqual` compares: with `advanced`, -0 and 0 differ (with JSON,
   * -0 is stored as 0). Returns whether it did. An `expected` that could not be stored is
   * refused (NotSerializableError naming `expected`), a primitive too. `next` undefined deletes the key (compare-and-delete);
   * leaving `next` out is refused.
   * @throws as `set()` does (StoreFullError included); nothing is changed then.
   * @throws InvalidArgumentError when called with no `next` argument.
   */
  compareAndSet(key: string, expected: unknown, next: unknown): boolean {
    if (arguments.length < 3) throw missingNextError(key, expected);
    this.#checkOpen('compareAndSet', arguments.length > 3 ? firstExtraArgument(arguments, 3) : kNoArgument);
    return this.#compareAndSet(key, expected, next, 'primary', false);
  }

  #compareAndSet(key: string, expected: unknown, next: unknown, source: WorkerHandle | 'primary', ephemeral: boolean): boolean {
    checkStoreKey(key);
    const current = this.#entries.get(key)?.value;
    // The primary's `expected` is compared as the value it stored is kept: as a worker would read
    // it, through the cluster's serialization. A worker's arrives so already. Compared as given,
    // `{ d: new Date(0) }` or `{ a: 1, b: undefined }` never matched their own stored copy (hostile t83 #4).
    if (!loadUtil().isDeepStrictEqual(current, source === 'primary' ? this.#comparable(key, expected) : expected)) return false;
    if (next === undefined) this.#delete(key, source);
    else {
      try {
        this.#set(key, next, source, ephemeral);
      } catch (error) {
        // The caller's name for the value is `next` here.
        throw storedValuePath(error, 'value', 'next', key);
      }
    }
    return true;
  }

  /** `[key, value]` pairs whose key starts with `prefix`, in insertion order; the values are copies, as `get()`'s. */
  entries<T = unknown>(prefix = ''): Array<[string, T]> {
    if (arguments.length > 1) checkNoExtraArguments('store.entries()', arguments, ['prefix']);
    const matching = this.#matching(prefix);
    for (const pair of matching) pair[1] = this.#copy(pair[1]);
    return matching as Array<[string, T]>;
  }

  /** `[key, stored value]` pairs whose key starts with `prefix`, in insertion order. */
  #matching(prefix: string): Array<[string, unknown]> {
    checkStorePrefix(prefix);
    const matching: Array<[string, unknown]> = [];
    for (const [key, entry] of this.#entries) if (key.startsWith(prefix)) matching.push([key, entry.value]);
    return matching;
  }

  keys(): string[] {
    if (arguments.length > 0) checkNoExtraArguments('store.keys()', arguments, []);
    return [...this.#entries.keys()];
  }
}

