/**
 * The workers watching shared-store keys, and the delivery of changes to them (`$storeChange`).
 *
 * A watch is never dropped while its worker lives. A watcher that reads slower than the store
 * changes (its event loop is busy, the values are large) would make the primary queue every
 * change for it: instead, once more than `kHoldAtBytes` wait to be written to that worker, its
 * changes are held back, one per key, each replaced by the next change of its key, until the
 * worker has read everything written to it; then the latest change of every key goes out. The
 * worker may skip intermediate values, never the last one. `previous` is the value before the
 * first change it skipped, so `previous` -> `value` is what changed for that worker; it is
 * left out when both values together exceed `maxMessageBytes`.
 *
 * What one worker watches is bounded, so that a worker watching keys without end (a bug, or a
 * compromised worker) cannot exhaust the primary's memory: at most `maxStoreWatchesPerWorker`
 * keys, and `maxStoreBytes` bytes counted as the store counts its entries (each key's bytes
 * in the heap plus what a watch costs it besides: store-overhead.ts).
 */
import { BackpressureError, StoreWatchLimitError } from '../../errors.js';
import { kStoreChangeNotice, type StoreChangePayload } from '../../messaging/system-types.js';
import type { StoreActivity } from './store-stats.js';
import type { WorkerRecord } from '../pool/worker-record.js';
import { keyBytes, kStoreWatchOverheadBytes } from './store-overhead.js';
import { toError } from '../../to-error.js';

/** Bytes waiting to be written to a watcher beyond which its changes are held and coalesced. */
export const kHoldAtBytes = 1024 * 1024;

/** How much one worker may watch. */
export interface WatchLimits {
  maxStoreWatchesPerWorker: number;
  maxStoreBytes: number;
}

/** What a watch of `key` counts against `maxStoreBytes`. */
function watchBytes(key: string): number {
  return kStoreWatchOverheadBytes + keyBytes(key);
}

export class StoreWatchers {
  /**
   * @param onError reports a change that could not be sent at all: never thrown, the primary
   *   must not die of it (on `error` when heard, else a process warning). Every value is
   *   checked when stored, so only a stored object changed in place afterwards gets here.
   */
  constructor(
    private readonly onError: (error: Error) => void,
    private readonly limits: WatchLimits,
  ) {}

  /** The workers watching each key. */
  readonly #byKey = new Map<string, Set<WorkerRecord>>();
  /** The keys each worker watches; a worker leaves at its exit. */
  readonly #byWorker = new Map<WorkerRecord, Set<string>>();
  /** Changes held back for a congested watcher, latest per key, in first-held order; cleared when sent. */
  readonly #held = new Map<WorkerRecord, Map<string, StoreChangePayload>>();
  /** Bytes each worker's watches count (its keys' bytes, plus the overhead of each watch). */
  readonly #watchedBytes = new Map<WorkerRecord, number>();
  /** Watches refused by the limits since the start. */
  #refusals = 0;
  /** Of them, those refused by `maxStoreWatchesPerWorker`: `status` tells them from a full budget. */
  #countRefusals = 0;

  /** Watches, watched keys, watching workers, held changes and refused watches, now (for `store.stats()`). */
  figures(): Omit<StoreActivity, 'ephemeralKeys'> {
    let watches = 0;
    for (const keys of this.#byWorker.values()) watches += keys.size;
    let heldChanges = 0;
    for (const held of this.#held.values()) heldChanges += held.size;
    return { watches, watchedKeys: this.#byKey.size, watchers: this.#byWorker.size, heldChanges, watchRefusals: this.#refusals, watchLimitRefusals: this.#countRefusals };
  }

  /**
   * Adds `key` to what `record` watches (nothing changes when it watches it already).
   * @throws StoreWatchLimitError when the worker would watch more than `maxStoreWatchesPerWorker`
   *   keys or count more than `maxStoreBytes` bytes; its watches are left as they were.
   */
  watch(record: WorkerRecord, key: string): void {
    let keys = this.#byWorker.get(record);
    if (keys?.has(key)) return;
    const count = keys?.size ?? 0;
    const bytes = this.#watchedBytes.get(record) ?? 0;
    const { maxStoreWatchesPerWorker, maxStoreBytes } = this.limits;
    const limit = count + 1 > maxStoreWatchesPerWorker ? 'maxStoreWatchesPerWorker' : bytes + watchBytes(key) > maxStoreBytes ? 'maxStoreBytes' : undefined;
    if (limit !== undefined) {
      this.#refusals++;
      if (limit === 'maxStoreWatchesPerWorker') this.#countRefusals++;
      throw new StoreWatchLimitError(key, limit, limit === 'maxStoreWatchesPerWorker' ? maxStoreWatchesPerWorker : maxStoreBytes, count, bytes);
    }
    if (!keys) {
      this.#byWorker.set(record, (keys = new Set()));
      void record.whenExited.promise.then(() => this.#forget(record));
    }
    keys.add(key);
    this.#watchedBytes.set(record, bytes + watchBytes(key));
    let watchers = this.#byKey.get(key);
    if (!watchers) this.#byKey.set(key, (watchers = new Set()));
    watchers.add(record);
  }

  unwatch(record: WorkerRecord, key: string): void {
    if (this.#byWorker.get(record)?.delete(key)) this.#watchedBytes.set(record, (this.#watchedBytes.get(record) ?? 0) - watchBytes(key));
    this.#held.get(record)?.delete(key);
    const watchers = this.#byKey.get(key);
    watchers?.delete(record);
    if (watchers?.size === 0) this.#byKey.delete(key);
  }

  /** Tells every worker watching `change.key`. */
  notify(change: StoreChangePayload): void {
    const watchers = this.#byKey.get(change.key);
    if (!watchers) return;
    const notice: StoreChangePayload = { key: change.key, value: change.value, previous: change.previous, deleted: change.deleted };
    for (const record of watchers) this.#deliver(record, notice);
  }

  #deliver(record: WorkerRecord, notice: StoreChangePayload): void {
    if (record.state === 'exited' || !record.isConnected) return; // its exit removes it
    const held = this.#held.get(record);
    if (held) {
      const earlier = held.get(notice.key);
      held.set(notice.key, earlier ? { ...notice, previous: earlier.previous } : notice);
      return;
    }
    if (record.endpoint.channel.queuedBytes >= kHoldAtBytes) {
      this.#hold(record, notice);
      return;
    }
    this.#send(record, notice);
  }

  #send(record: WorkerRecord, notice: StoreChangePayload): void {
    try {
      record.endpoint.notify(kStoreChangeNotice, notice);
    } catch (error) {
      // The channel closed under us: the exit follows and removes the watcher.
      if (!record.isConnected || record.endpoint.isClosed) return;
      // The whole queue is full: hold the change.
      if (error instanceof BackpressureError) this.#hold(record, notice);
      // Each value fits `maxMessageBytes`, but a value and its previous one together may not.
      else if (notice.previous !== undefined) this.#send(record, { ...notice, previous: undefined });
      else this.onError(toError(error));
    }
  }

  #hold(record: WorkerRecord, notice: StoreChangePayload): void {
    this.#held.set(record, new Map([[notice.key, notice]]));
    // Released once the worker reads again: its queue fell under the mark (or the endpoint
    // closed). Never a mark the queue is already under, which would release at once.
    const queued = record.endpoint.channel.queuedBytes;
    const readsAgain = queued > 0 ? record.endpoint.whenQueueBelow(Math.min(kHoldAtBytes, queued)) : new Promise((resolve) => setImmediate(resolve));
    void readsAgain.then(() => this.#release(record));
  }

  #release(record: WorkerRecord): void {
    const held = this.#held.get(record);
    if (!held) return;
    this.#held.delete(record);
    for (const notice of held.values()) this.#deliver(record, notice);
  }

  #forget(record: WorkerRecord): void {
    for (const key of this.#byWorker.get(record) ?? []) {
      const watchers = this.#byKey.get(key);
      watchers?.delete(record);
      if (watchers?.size === 0) this.#byKey.delete(key);
    }
    this.#byWorker.delete(record);
    this.#watchedBytes.delete(record);
    this.#held.delete(record);
  }
}
