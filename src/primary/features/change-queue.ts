/**
 * The store's changes, told one at a time, in the order they were made. A change made while
 * another is being told (a 'storeChange' listener that writes, a clamp) is told once that one has
 * been told to everyone: its watchers and listeners never hear the older value last. Hostile t83
 * #3: a listener that set `limit` to 100 on a write of 500 had the watchers told 100, then 500,
 * while the store held 100 ("may skip intermediate values, never the last one").
 */
import { InvalidStateError } from '../../errors.js';
import type { StoreChange } from './shared-store.js';

/**
 * Changes told in one go, those its listeners' writes made included, past which the telling
 * stops: a listener that writes on every change (`set('lastChangeAt', Date.now())`) would
 * otherwise loop forever, the primary's event loop held and its memory growing (hostile t84 #2:
 * 1.5 GB in 12 s; before the queue, a stack overflow). A legitimate chain is a few long.
 */
export const kMaxChainedChanges = 10_000;

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
        if (index === kMaxChainedChanges) {
          const key = this.#waiting[index]!.key;
          failure ??= {
            error: new InvalidStateError(
              `'storeChange' listeners wrote the store ${kMaxChainedChanges} times in a row as they were told of its changes (the last of key ${JSON.stringify(key.slice(0, 64))}), so the telling stopped: ` +
                'the writes were made, but those past this point were told to no listener or watcher. A listener that writes on every change never ends; write only when the value differs (compare with the change\'s value or previous), or skip the keys the listener writes.',
            ),
          };
          break;
        }
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
