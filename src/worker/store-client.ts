/**
 * A worker's view of the shared store owned by the primary: `worker.store`. Every call is one
 * request to the primary, which runs operations one at a time, so `increment` and
 * `compareAndSet` are atomic across workers.
 */
import { closest } from '../cli/suggest.js';
import { describeValue, InvalidArgumentError, MessageTooLargeError, receivedClause, StoreWatcherError } from '../errors.js';
import { argumentPath, storedValuePath } from '../messaging/payload-walk.js';
import { reviveClusterKitError } from '../messaging/revive-error.js';
import { namedForCaller } from '../messaging/system-answer.js';
import { isStoreChangePayload, kStoreChangeNotice, kStoreRequest, type StoreOperation } from '../messaging/system-types.js';
import { describeError } from '../readable-error.js';
import { checkStoreKey, checkStorePrefix } from '../store-key.js';
import type { WorkerContext } from './worker-context.js';
import { settleLikeAwait } from '../is-thenable.js';
import { missingNextError } from '../store-missing-next.js';
import { checkNoExtraArguments, extraArgumentError, firstExtraArgument, kNoArgument } from '../extra-arguments.js';

/** The operation's fields that carry a caller's value, named as `set()` and `compareAndSet()` name their arguments. */
const kValueFields = ['value', 'expected', 'next'] as const;

/** What the store client takes from the worker's context. */
type StoreContext = Pick<WorkerContext, 'endpoint' | 'system' | 'lifecycle' | 'reportHandlerError'>;

/** What a `watch()` callback receives. */
export interface WatchedChange {
  readonly key: string;
  /** The new value; `undefined` when the key was deleted. */
  readonly value: unknown;
  readonly previous: unknown;
  readonly deleted: boolean;
}

/** Options of `set()` and `compareAndSet()`. */
export interface StoreWriteOptions {
  /**
   * Ties the key to this worker's life: when the worker exits, however it exits (a SIGKILL
   * included), the primary deletes the key, with a `storeChange`. A later write without
   * `ephemeral` (or by another worker) unties it; `increment` keeps the tie. For leader
   * election and presence: see docs/shared-store.md.
   * @default false
   */
  ephemeral?: boolean;
}

export class StoreClient {
  readonly #context: StoreContext;
  /** Callbacks by watched key; the primary is told when a key gains its first or loses its last. */
  /**
   * Each `watch()` call's own subscription, by key: the same callback watched twice is called
   * twice, and one unwatch ends its own call's only (hostile t83 #12: a Set of callbacks kept one,
   * and the first unwatch ended both).
   */
  readonly #watchers = new Map<string, Set<{ readonly callback: (change: WatchedChange) => void }>>();

  /** @internal Created by `ClusterWorker#store`. */
  constructor(context: StoreContext) {
    this.#context = context;
    context.system.register(kStoreChangeNotice, { kind: 'notification', check: isStoreChangePayload, handle: (change) => this.#onChange(change) });
  }

  /** The value at `key`, or `undefined`. */
  get<T = unknown>(key: string): Promise<T | undefined> {
    const extra = arguments.length > 1 ? extraArgumentError('get()', arguments, ['key']) : undefined;
    if (extra !== undefined) return Promise.reject(extra);
    return this.#run({ op: 'get', key }) as Promise<T | undefined>;
  }

  /**
   * Stores `value` (it must be able to cross IPC: NotSerializableError otherwise).
   * @throws InvalidArgumentError (rejects) for options other than `{ ephemeral?: boolean }`.
   * @throws StoreFullError (rejects) when the write would take the store past the primary's
   *   `maxStoreBytes` (64 MiB by default) or `maxStoreKeys` (1 000 000); nothing is stored.
   *   Delete keys that are no longer needed, or raise the limit on the primary.
   */
  async set(key: string, value: unknown, options?: StoreWriteOptions): Promise<void> {
    if (arguments.length > 3) checkNoExtraArguments('set()', arguments, ['key', 'value', 'options']);
    const ephemeral = ephemeralOption(options);
    await this.#run(ephemeral ? { op: 'set', key, value, ephemeral } : { op: 'set', key, value });
  }

  /** Removes `key`; resolves with whether it existed. */
  delete(key: string): Promise<boolean> {
    // No options (retest t59: `delete(k, {})` was taken, where the primary's delete refuses it).
    // An undefined one is no argument, as for every other call (src/extra-arguments.ts).
    const extra = firstExtraArgument(arguments, 1);
    if (extra !== kNoArgument) return Promise.reject(new InvalidArgumentError(`delete() takes (key), and no options. Received ${describeValue(extra)} after it.`));
    return this.#run({ op: 'delete', key }) as Promise<boolean>;
  }

  /**
   * Adds `by` (default 1) to the number at `key`, atomically; resolves with the new value.
   * @throws InvalidArgumentError (rejects) when `by` is not a finite number, the stored value is
   *   not a number, or the stored value or the sum is past `Number.MAX_SAFE_INTEGER` (where adding
   *   would round and the update be lost), or the sum rounds the step by more than a millionth
   *   of it (2^51 + 0.75 would add 1; see the primary's `SharedStore.increment` for the exact
   *   rule); nothing is stored then.
   * @throws StoreFullError (rejects) when `key` is new and the store is full (see `set()`).
   */
  increment(key: string, by = 1): Promise<number> {
    // No options: `{ ephemeral: true }` there was dropped, and the "presence" counter outlived its worker (retest t59).
    const extra = firstExtraArgument(arguments, 2);
    if (extra !== kNoArgument) return Promise.reject(new InvalidArgumentError(`increment() takes (key, by), and no options: an increment keeps the key's tie to a worker, or its lack of one; to tie a counter to this worker, set() it with { ephemeral: true } first. Received ${describeValue(extra)} after them.`));
    // Checked here too: under JSON serialization NaN would be refused as not serializable.
    if (typeof by !== 'number' || !Number.isFinite(by)) return Promise.reject(new InvalidArgumentError(`increment() needs a finite number to add. ${receivedClause(by)}.`));
    return this.#run({ op: 'increment', key, by }) as Promise<number>;
  }

  /**
   * Sets `next` only if the current value deep-equals `expected` (`undefined`: absent), as
   * `util.isDeepStrictEqual` compares on the primary: with `advanced`, -0 and 0 differ (with
   * JSON both are 0); atomic. With `{ ephemeral: true }`, a key it sets is removed when this worker exits.
   * `next` undefined deletes the key (compare-and-delete: release a lock only if it is still
   * yours); leaving `next` out is refused.
   * @throws StoreFullError (rejects) when `next` does not fit the store (see `set()`).
   * @throws InvalidArgumentError (rejects) when called with no `next` argument.
   * @example const isLeader = await this.store.compareAndSet('leader', undefined, this.id, { ephemeral: true });
   */
  async compareAndSet(key: string, expected: unknown, next: unknown, options?: StoreWriteOptions): Promise<boolean> {
    if (arguments.length < 3) throw missingNextError(key, expected);
    if (arguments.length > 4) checkNoExtraArguments('compareAndSet()', arguments, ['key', 'expected', 'next', 'options']);
    const ephemeral = ephemeralOption(options);
    return (await this.#run(ephemeral ? { op: 'compareAndSet', key, expected, next, ephemeral } : { op: 'compareAndSet', key, expected, next })) as boolean;
  }

  /** `[key, value]` pairs whose key starts with `prefix`. */
  entries<T = unknown>(prefix = ''): Promise<Array<[string, T]>> {
    const extra = arguments.length > 1 ? extraArgumentError('entries()', arguments, ['prefix']) : undefined;
    if (extra !== undefined) return Promise.reject(extra);
    return this.#run({ op: 'entries', prefix }) as Promise<Array<[string, T]>>;
  }

  /**
   * Calls `callback` whenever `key` changes, from any worker or the primary. Resolves with a
   * function that stops watching. The callback may be async. One that throws or rejects is
   * reported as a notification handler's throw is, as a `StoreWatcherError` (`key`, `cause`):
   * on the worker's 'error' event when something listens, else as a process warning; the worker
   * goes on, the key's other callbacks are called, and this one is called for later changes.
   * @throws StoreWatchLimitError (as a rejection) when this worker would watch more than the
   *   primary's `maxStoreWatchesPerWorker` keys (10 000 by default) or count more than its
   *   `maxStoreBytes`; nothing changes.
   */
  async watch(key: string, callback: (change: WatchedChange) => void): Promise<() => Promise<void>> {
    if (arguments.length > 2) checkNoExtraArguments('watch()', arguments, ['key', 'callback']);
    if (typeof callback !== 'function') throw new InvalidArgumentError('watch() needs a callback function.');
    let subscriptions = this.#watchers.get(key);
    if (!subscriptions) {
      await this.#run({ op: 'watch', key });
      subscriptions = this.#watchers.get(key) ?? new Set();
      this.#watchers.set(key, subscriptions);
    }
    const subscription = { callback };
    subscriptions.add(subscription);
    return async (...extra: unknown[]) => {
      checkNoExtraArguments("watch()'s unwatch function", extra, []);
      const current = this.#watchers.get(key);
      if (!current?.delete(subscription) || current.size > 0) return;
      this.#watchers.delete(key);
      await this.#run({ op: 'unwatch', key });
    };
  }

  #run(operation: StoreOperation): Promise<unknown> {
    const { endpoint, lifecycle } = this.#context;
    // Checked here, at the call: a request the primary's check refuses is dropped there, and
    // the call would only fail at its timeout.
    try {
      if (operation.op === 'entries') checkStorePrefix(operation.prefix);
      else checkStoreKey(operation.key);
    } catch (error) {
      return Promise.reject(error);
    }
    if (lifecycle.state === 'created') return Promise.reject(new InvalidArgumentError('The store is available once the worker has started: call it from _init() or later.'));
    return endpoint.request(kStoreRequest, operation).catch((error: unknown) => {
      // The operation's envelope is ours: a refused value's path is the caller's `value...` (H283).
      const named = kValueFields.reduce((revivedSoFar, field) => argumentPath(revivedSoFar, field, field), reviveClusterKitError(error));
      // A value written (set's `value`, compareAndSet's `next`) says it was a store write (H356).
      const revived = operation.op === 'set' ? storedValuePath(named, 'value', 'value', operation.key) : operation.op === 'compareAndSet' ? storedValuePath(named, 'next', 'next', operation.key) : named;
      // The primary's reply (`entries()` of a large prefix, a large `get`) is over its
      // maxMessageBytes: name the call, not the internal message type.
      // A value too large to send is named by the call too (retest t61: `The payload of "$store" ...`).
      const call = `store.${operation.op}('${operation.op === 'entries' ? operation.prefix : operation.key}')`;
      if (revived instanceof MessageTooLargeError) {
        const cause = namedForCaller(revived.isReply ? error : revived.cause, call);
        throw new MessageTooLargeError(call, revived.estimatedBytes, revived.limitBytes, {
          isReply: revived.isReply,
          ...revived.limitOwner(),
          ...(revived.why === undefined ? {} : { why: revived.why }),
          ...(cause === undefined ? {} : { cause }),
        });
      }
      // Its causes name the call, not the store's request type (retest t61 L1), as MessageTooLargeError does.
      throw namedForCaller(revived, call);
    });
  }

  #onChange(change: WatchedChange): void {
    for (const { callback } of this.#watchers.get(change.key) ?? []) {
      try {
        const result: unknown = callback(change);
        // Nobody waits for a callback: its rejection is reported as its throw is.
        settleLikeAwait(result)?.then(undefined, (error: unknown) => this.#reportWatcherError(change.key, error, true));
      } catch (error) {
        // Reported, never thrown on: an 'error' nobody hears would end the worker over a callback's bug (H493).
        this.#reportWatcherError(change.key, error, false);
      }
    }
  }

  #reportWatcherError(key: string, thrown: unknown, isRejection: boolean): void {
    const what = `a watch() callback of store key ${describeValue(key)} ${isRejection ? 'rejected' : 'threw'}`;
    this.#context.reportHandlerError(new StoreWatcherError(key, isRejection, { cause: thrown }), what, thrown);
  }
}

function ephemeralOption(options: StoreWriteOptions | undefined): boolean {
  if (options === undefined) return false;
  let isObject = false;
  let ephemeral: unknown;
  let keys: string[] = [];
  try {
    // Inside the try: Array.isArray throws for a revoked Proxy (hostile t83 #8).
    isObject = typeof options === 'object' && options !== null && !Array.isArray(options);
    ephemeral = isObject ? options.ephemeral : undefined;
    if (isObject) keys = Object.keys(options);
  } catch (error) {
    // A getter or Proxy trap: refused like any other bad option, with what it threw.
    throw new InvalidArgumentError(`Store write options are { ephemeral?: boolean }; reading them threw ${describeError(error)}.`, { cause: error });
  }
  const unknown = keys.find((key) => key !== 'ephemeral');
  if (unknown !== undefined) {
    // A misspelt key would otherwise pass for "not ephemeral": say which, and what was meant.
    const hint = closest(unknown, ['ephemeral']) ? ' (did you mean "ephemeral"?)' : '';
    throw new InvalidArgumentError(`Store write options are { ephemeral?: boolean }; ${JSON.stringify(unknown.slice(0, 64))} is not one${hint}.`);
  }
  if (!isObject || !(ephemeral === undefined || typeof ephemeral === 'boolean')) {
    const received = isObject && ephemeral !== undefined ? `ephemeral: ${describeValue(ephemeral)}` : describeValue(options);
    throw new InvalidArgumentError(`Store write options are { ephemeral?: boolean }. Received ${received}.`);
  }
  return ephemeral === true;
}

