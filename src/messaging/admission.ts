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
  readonly admit: () => void;
  /** True once the request settled while waiting (its deadline passed, it was aborted): it leaves the queue. */
  readonly isCancelled: () => boolean;
}

export class Admission {
  readonly #limits: AdmissionLimits;
  #waiting: Waiter[] = [];
  #reservedRequests = 0;
  #reservedBytes = 0;

  constructor(limits: AdmissionLimits) {
    this.#limits = limits;
  }

  /** True when a request of `bytes` may go out now (first come, first served). */
  mayIssue(bytes: number): boolean {
    return this.#waiting.length === 0 && this.#hasRoom(bytes);
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
  wait(bytes: number, isCancelled: () => boolean = () => false): Promise<void> {
    if (this.#limits.backpressure === 'reject') return Promise.reject(this.error());
    return new Promise<void>((resolve) => this.#waiting.push({ bytes, admit: resolve, isCancelled })).then(() => {
      this.#reservedRequests--;
      this.#reservedBytes -= bytes;
    });
  }

  /** Admits waiting requests, in order, while there is room. Call when a request settles or the queue shrinks. */
  admitWaiting(): void {
    while (this.#waiting.length > 0) {
      const next = this.#waiting[0]!;
      const isCancelled = next.isCancelled();
      if (!isCancelled && !this.#hasRoom(next.bytes)) return;
      this.#waiting.shift();
      if (!isCancelled) this.#admit(next);
    }
  }

  /** Admits everyone (the peer is gone: they will fail at once). */
  admitAll(): void {
    const waiting = this.#waiting;
    this.#waiting = [];
    for (const waiter of waiting) if (!waiter.isCancelled()) this.#admit(waiter);
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
    this.#reservedRequests++;
    this.#reservedBytes += waiter.bytes;
    waiter.admit();
  }
}
