/**
 * A worker's view of the shared store owned by the primary: `worker.store`. Every call is one
 * request to the primary, which runs operations one at a time, so `increment` and
 * `compareAndSet` are atomic across workers.
 */
import { InvalidArgumentError } from '../errors.js';
import type { Endpoint } from '../messaging/endpoint.js';
import { reviveClusterKitError } from '../messaging/revive-error.js';
import { kStoreChangeNotice, kStoreRequest } from '../messaging/system-types.js';
import type { StoreOperation } from '../primary/store-service.js';
import type { WorkerInternals } from './worker-internals.js';
import { toReadableError } from '../readable-error.js';

/** What a `watch()` callback receives. */
export interface WatchedChange {
  readonly key: string;
  /** The new value; `undefined` when the key was deleted. */
  readonly value: unknown;
  readonly previous: unknown;
  readonly deleted: boolean;
}

export class StoreClient {
  readonly #internals: WorkerInternals;
  /** Callbacks by watched key; the primary is told when a key gains its first or loses its last. */
  readonly #watchers = new Map<string, Set<(change: WatchedChange) => void>>();

  /** @internal Created by `ClusterWorker#store`. */
  constructor(internals: WorkerInternals) {
    this.#internals = internals;
    internals.registerSystemHandler(kStoreChangeNotice, (payload) => this.#onChange(payload as WatchedChange));
  }

  /** The value at `key`, or `undefined`. */
  get<T = unknown>(key: string): Promise<T | undefined> {
    return this.#run({ op: 'get', key }) as Promise<T | undefined>;
  }

  /** Stores `value` (it must be able to cross IPC: NotSerializableError otherwise). */
  async set(key: string, value: unknown): Promise<void> {
    await this.#run({ op: 'set', key, value });
  }

  /** Removes `key`; resolves with whether it existed. */
  delete(key: string): Promise<boolean> {
    return this.#run({ op: 'delete', key }) as Promise<boolean>;
  }

  /** Adds `by` (default 1) to the number at `key`, atomically; resolves with the new value. */
  increment(key: string, by = 1): Promise<number> {
    return this.#run({ op: 'increment', key, by }) as Promise<number>;
  }

  /** Sets `next` only if the current value deep-equals `expected` (`undefined`: absent); atomic. */
  compareAndSet(key: string, expected: unknown, next: unknown): Promise<boolean> {
    return this.#run({ op: 'compareAndSet', key, expected, next }) as Promise<boolean>;
  }

  /** `[key, value]` pairs whose key starts with `prefix`. */
  entries<T = unknown>(prefix = ''): Promise<Array<[string, T]>> {
    return this.#run({ op: 'entries', prefix }) as Promise<Array<[string, T]>>;
  }

  /**
   * Calls `callback` whenever `key` changes, from any worker or the primary. Resolves with a
   * function that stops watching.
   */
  async watch(key: string, callback: (change: WatchedChange) => void): Promise<() => Promise<void>> {
    if (typeof callback !== 'function') throw new InvalidArgumentError('watch() needs a callback function.');
    let callbacks = this.#watchers.get(key);
    if (!callbacks) {
      await this.#run({ op: 'watch', key });
      callbacks = this.#watchers.get(key) ?? new Set();
      this.#watchers.set(key, callbacks);
    }
    callbacks.add(callback);
    return async () => {
      const current = this.#watchers.get(key);
      if (!current?.delete(callback) || current.size > 0) return;
      this.#watchers.delete(key);
      await this.#run({ op: 'unwatch', key });
    };
  }

  #run(operation: StoreOperation): Promise<unknown> {
    const endpoint: Endpoint | undefined = this.#internals.endpoint();
    if (!endpoint) return Promise.reject(new InvalidArgumentError('The store is available once the worker has started: call it from _init() or later.'));
    return endpoint.request(kStoreRequest, operation).catch((error: unknown) => {
      throw reviveClusterKitError(error);
    });
  }

  #onChange(change: WatchedChange): void {
    for (const callback of this.#watchers.get(change.key) ?? []) {
      try {
        callback(change);
      } catch (error) {
        this.#internals.reportError(toReadableError(error, `A watcher of "${change.key}" threw`));
      }
    }
  }
}
