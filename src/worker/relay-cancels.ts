/**
 * The keys of a worker's `sendTo()` relays whose callers aborted them, told to the primary in one
 * `$relayCancel` per tick (a shared signal aborts thousands at once), so that it withdraws those
 * it still holds, never sent, and frees their places at once (retest t68: the primary sent them
 * later, they ran, and held the sender's places until their timeout).
 */
import { kRelayCancelNotice } from '../messaging/system-types.js';

/** Keys per notification: well under any `maxMessageBytes` a worker may set (about 16 bytes a key). */
const kKeysPerNotice = 10_000;

export class RelayCancels {
  #lastKey = 0;
  #keys: number[] = [];
  readonly #notify: (type: string, payload: { keys: number[] }) => void;

  /** `notify`: the worker's endpoint's, to the primary; a throw (the channel closed) is ignored: nothing is held for it then. */
  constructor(notify: (type: string, payload: { keys: number[] }) => void) {
    this.#notify = notify;
  }

  /** A key for a new relay whose caller may abort it. */
  nextKey(): number {
    this.#lastKey = this.#lastKey === Number.MAX_SAFE_INTEGER ? 1 : this.#lastKey + 1;
    return this.#lastKey;
  }

  /**
   * Tells the primary now what is waiting to be told: called before a new relay goes, so that
   * the primary reads the cancels first and has freed their places (retest t68b: a retry in the
   * abort's own tick was refused, its places still held).
   */
  flushNow(): void {
    if (this.#keys.length > 0) this.#flush();
  }

  /** Tells the primary, at the end of the tick, that relay `key`'s caller aborted it. */
  cancel(key: number): void {
    if (this.#keys.push(key) === 1) process.nextTick(this.#flush);
  }

  readonly #flush = (): void => {
    if (this.#keys.length === 0) return;
    const keys = this.#keys;
    this.#keys = [];
    for (let start = 0; start < keys.length; start += kKeysPerNotice) {
      try {
        this.#notify(kRelayCancelNotice, { keys: keys.slice(start, start + kKeysPerNotice) });
      } catch {
        return;
      }
    }
  };
}
