/**
 * The store's changes, told one at a time, in the order they were made. A change made while
 * another is being told (a 'storeChange' listener that writes, a clamp) is told once that one has
 * been told to everyone: its watchers and listeners never hear the older value last. Hostile t83
 * #3: a listener that set `limit` to 100 on a write of 500 had the watchers told 100, then 500,
 * while the store held 100 ("may skip intermediate values, never the last one").
 */
import type { StoreChange } from './shared-store.js';

export class ChangeQueue {
  readonly #tell: (change: StoreChange) => void;
  readonly #waiting: StoreChange[] = [];
  #isTelling = false;

  constructor(tell: (change: StoreChange) => void) {
    this.#tell = tell;
  }

  /** Tells `change` now, or after the changes being told (and those made before it). */
  add(change: StoreChange): void {
    this.#waiting.push(change);
    if (!this.#isTelling) this.#drain();
  }

  /** Runs `operation`, holding the changes it makes until it returns (or throws): then tells them. */
  after<T>(operation: () => T): T {
    if (this.#isTelling) return operation();
    this.#isTelling = true;
    try {
      return operation();
    } finally {
      this.#isTelling = false;
      this.#drain();
    }
  }

  #drain(): void {
    this.#isTelling = true;
    let failure: { error: unknown } | undefined;
    try {
      // Index, not shift(): a burst of writes from listeners stays linear.
      for (let index = 0; index < this.#waiting.length; index++) {
        try {
          this.#tell(this.#waiting[index]!);
        } catch (error) {
          // The others are still told; the first failure is the caller's, as before.
          failure ??= { error };
        }
      }
    } finally {
      this.#waiting.length = 0;
      this.#isTelling = false;
    }
    if (failure !== undefined) throw failure.error;
  }
}
