/**
 * The shared store owned by the primary: `primary.store`. Workers reach it with
 * `worker.store.get/set/increment/...`, one request each; the primary runs one operation at a
 * time, so `increment` and `compareAndSet` are atomic across workers.
 *
 * Backed by a `Map`: keys such as `__proto__` or `constructor` are ordinary keys and can never
 * reach a prototype.
 */
import { loadUtil } from '../../builtins.js';
import { describeValue, InvalidArgumentError } from '../../errors.js';
import { checkPayload } from '../../messaging/payload-check.js';
import type { Serialization } from '../../types.js';
import type { WorkerHandle } from '../pool/worker-handle.js';

/** Longest accepted key. */
export const kMaxStoreKeyLength = 1_024;

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

export class SharedStore {
  readonly #values = new Map<string, unknown>();
  readonly #serialization: Serialization;
  readonly #maxBytes: number;
  /** Told of every change; `isIncrement` for `increment()`, the one write that keeps a key tied to its worker. */
  readonly #onChange: (change: StoreChange, isIncrement: boolean) => void;

  /** @internal Created by the primary. */
  constructor(serialization: Serialization, maxBytes: number, onChange: (change: StoreChange, isIncrement: boolean) => void) {
    this.#serialization = serialization;
    this.#maxBytes = maxBytes;
    this.#onChange = onChange;
  }

  get size(): number {
    return this.#values.size;
  }

  get(key: string): unknown {
    return this.#values.get(checkKey(key));
  }

  has(key: string): boolean {
    return this.#values.has(checkKey(key));
  }

  /**
   * Stores `value`, which must be able to cross IPC (workers read it).
   * @throws NotSerializableError, InvalidArgumentError (a bad key or an undefined value).
   */
  set(key: string, value: unknown, source: WorkerHandle | 'primary' = 'primary'): void {
    checkKey(key);
    if (value === undefined) throw new InvalidArgumentError(`Cannot store undefined at "${key}"; use delete() to remove a key.`);
    checkPayload(value, this.#serialization, this.#maxBytes, `store value "${key}"`);
    const previous = this.#values.get(key);
    this.#values.set(key, value);
    this.#onChange({ key, value, previous, deleted: false, source }, false);
  }

  /** Removes `key`; returns whether it existed. */
  delete(key: string, source: WorkerHandle | 'primary' = 'primary'): boolean {
    checkKey(key);
    if (!this.#values.has(key)) return false;
    const previous = this.#values.get(key);
    this.#values.delete(key);
    this.#onChange({ key, value: undefined, previous, deleted: true, source }, false);
    return true;
  }

  /**
   * Adds `by` to the number at `key` (a missing key counts as 0) and returns the new value.
   * @throws InvalidArgumentError when the stored value is not a number.
   */
  increment(key: string, by = 1, source: WorkerHandle | 'primary' = 'primary'): number {
    checkKey(key);
    if (typeof by !== 'number' || !Number.isFinite(by)) throw new InvalidArgumentError(`increment() needs a finite number to add. Received ${describeValue(by)}.`);
    const previous = this.#values.get(key);
    if (previous !== undefined && typeof previous !== 'number') {
      throw new InvalidArgumentError(`The value at "${key}" is not a number, so it cannot be incremented; set() a number first.`);
    }
    const value = (previous ?? 0) + by;
    this.#values.set(key, value);
    this.#onChange({ key, value, previous, deleted: false, source }, true);
    return value;
  }

  /**
   * Sets `next` only if the current value deep-equals `expected` (`undefined`: the key is
   * absent). Returns whether it did.
   */
  compareAndSet(key: string, expected: unknown, next: unknown, source: WorkerHandle | 'primary' = 'primary'): boolean {
    checkKey(key);
    const current = this.#values.get(key);
    if (!loadUtil().isDeepStrictEqual(current, expected)) return false;
    if (next === undefined) this.delete(key, source);
    else this.set(key, next, source);
    return true;
  }

  /** `[key, value]` pairs whose key starts with `prefix`, in insertion order. */
  entries(prefix = ''): Array<[string, unknown]> {
    if (typeof prefix !== 'string') throw new InvalidArgumentError(`entries() needs a string prefix. Received ${typeof prefix}.`);
    const matching: Array<[string, unknown]> = [];
    for (const entry of this.#values) if (entry[0].startsWith(prefix)) matching.push(entry);
    return matching;
  }

  keys(): string[] {
    return [...this.#values.keys()];
  }
}

function checkKey(key: unknown): string {
  if (typeof key !== 'string' || key.length === 0 || key.length > kMaxStoreKeyLength) {
    throw new InvalidArgumentError(`Store keys are non-empty strings of at most ${kMaxStoreKeyLength} characters. Received ${describeValue(key)}.`);
  }
  return key;
}
