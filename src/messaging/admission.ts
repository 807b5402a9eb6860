/**
 * Backpressure for one endpoint's outbound requests: a request goes out when fewer than
 * `maxPending` requests await replies and its bytes fit the channel's queue. Otherwise it waits
 * (`'wait'`), in order, or fails with BackpressureError (`'reject'`). An admitted request holds a
 * reservation until it is issued, so a burst of admissions cannot overshoot either limit.
 */
import { BackpressureError } from '../errors.js';

/**
 * Bytes that may wait in the channel (the peer reads slower than we write) before further
 * sends wait or fail: a sender that ignores back-pressure must not grow without bound (one
 * that did reached 1 GB in 3 s).
 */
export const kMaxQueuedBytes = 64 * 1024 * 1024;

export interface AdmissionLimits {
  readonly maxPending: number;
  /** The option that set `maxPending` on this side, named by BackpressureError. */
  readonly maxPendingOption: 'maxPendingPerWorker' | 'maxPending';
  readonly backpressure: 'wait' | 'reject';
  readonly describePeer: () => string;
  /** Requests now waiting for replies. */
  readonly pendingCount: () => number;
  /** Bytes now waiting in the channel. */
  readonly queuedBytes: () => number;
}

interface Waiter {
  readonly bytes: number;
  /** A relayed request (H471): it waits for room in the queue only, never for one of `maxPending`'s places. */
  readonly isBytesOnly: boolean;
  readonly admit: () => void;
  /** True once the request settled while waiting (its deadline passed, it was aborted): it leaves the queue. */
  readonly isCancelled: () => boolean;
}

export class Admission {
  readonly #limits: AdmissionLimits;
  #waiting: Waiter[] = [];
  /**
   * Relays waiting for room in the queue: apart from `#waiting`, so that none waits behind the
   * primary's own requests, or for their places (code review of H471: a relay held back by the
   * primary's `maxPendingPerWorker` sends to the same worker).
   */
  #bytesWaiting: Waiter[] = [];
  #reservedRequests = 0;
  #reservedBytes = 0;

  constructor(limits: AdmissionLimits) {
    this.#limits = limits;
  }

  /** True when a request of `bytes` may go out now (first come, first served). */
  mayIssue(bytes: number): boolean {
    return this.#waiting.length === 0 && this.#hasRoom(bytes);
  }

  /** True when a relay of `bytes` may go out now: room in the queue, and no relay waiting for it. */
  mayIssueBytesOnly(bytes: number): boolean {
    return this.#bytesWaiting.length === 0 && this.hasQueueRoom(bytes);
  }

  /** True when a notification of `bytes` fits the queue (notifications never wait). */
  hasQueueRoom(bytes: number): boolean {
    const queued = this.#limits.queuedBytes() + this.#reservedBytes;
    return queued === 0 || queued + bytes <= kMaxQueuedBytes;
  }

  /**
   * Resolves when a request of `bytes` may go out; rejects at once with `'reject'`. A waiter
   * whose `isCancelled()` turns true is dropped from the queue, unresolved.
   */
  wait(bytes: number, isCancelled: () => boolean = () => false, isBytesOnly = false): Promise<void> {
    if (this.#limits.backpressure === 'reject') return Promise.reject(this.error());
    const queue = isBytesOnly ? this.#bytesWaiting : this.#waiting;
    return new Promise<void>((resolve) => queue.push({ bytes, isBytesOnly, admit: resolve, isCancelled })).then(() => {
      if (!isBytesOnly) this.#reservedRequests--;
      this.#reservedBytes -= bytes;
    });
  }

  /**
   * Admits waiting requests, each queue in order, while there is room: the primary's own and
   * the relays by turns, so neither takes all the room a flush freed. Call when a request
   * settles or the queue shrinks.
   */
  admitWaiting(): void {
    let isMoving = true;
    while (isMoving) isMoving = this.#admitFirst(this.#waiting) || this.#admitFirst(this.#bytesWaiting);
  }

  /** Admits everyone (the peer is gone: they will fail at once). */
  admitAll(): void {
    const waiting = [...this.#waiting, ...this.#bytesWaiting];
    this.#waiting = [];
    this.#bytesWaiting = [];
    for (const waiter of waiting) if (!waiter.isCancelled()) this.#admit(waiter);
  }

  /** Takes the first of `queue` out when it is cancelled or now fits (admitted then); false when it must wait. */
  #admitFirst(queue: Waiter[]): boolean {
    const next = queue[0];
    if (next === undefined) return false;
    const isCancelled = next.isCancelled();
    if (!isCancelled && !(next.isBytesOnly ? this.hasQueueRoom(next.bytes) : this.#hasRoom(next.bytes))) return false;
    queue.shift();
    if (!isCancelled) this.#admit(next);
    return true;
  }

  /** The error for a send refused now: which limit was hit. */
  error(): BackpressureError {
    const peer = this.#limits.describePeer();
    return this.#limits.pendingCount() + this.#reservedRequests >= this.#limits.maxPending
      ? new BackpressureError(peer, this.#limits.maxPending, undefined, this.#limits.maxPendingOption)
      : new BackpressureError(peer, this.#limits.maxPending, this.#limits.queuedBytes() + this.#reservedBytes, this.#limits.maxPendingOption);
  }

  /** A free place under `maxPending` and room in the queue (a lone message always fits an empty queue). */
  #hasRoom(bytes: number): boolean {
    return this.#limits.pendingCount() + this.#reservedRequests < this.#limits.maxPending && this.hasQueueRoom(bytes);
  }

  #admit(waiter: Waiter): void {
    if (!waiter.isBytesOnly) this.#reservedRequests++;
    this.#reservedBytes += waiter.bytes;
    waiter.admit();
  }
}
