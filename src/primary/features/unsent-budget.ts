/**
 * A bound, in bytes, on the `/metrics` answers the health endpoints have written and their
 * clients have not taken yet, and a deadline to take each (H607).
 *
 * The connection cap (128) and the pipelining bound (8 unanswered per connection) bound requests,
 * not the bytes of answers: Node keeps an answer the kernel has not taken whole in the process
 * (outside the V8 heap) until the client reads it. 128 clients that each sent one `GET /metrics`
 * and never read made a primary hold 128 copies of a 7.6 MB page, about 1 GB, for as long as they
 * stayed connected. Now an answer is counted from when it is written until it is sent whole or
 * its connection closes; one that would take the count past the budget is refused (503), and a
 * connection that has not taken its answer by the deadline is reset, which frees it.
 */
import type { ServerResponse } from 'node:http';

/**
 * Unsent answer bytes held at once, across every health endpoint of the process: the memory is
 * the process's, however many endpoints it opens. A few scrapers (a Prometheus pair, a curl) of
 * even a large page (8 MB) fit; 64 MiB stays well inside a pod's memory limit, so slow or hostile
 * readers make scrapes fail (503) long before they could get the primary OOM-killed.
 */
export const kMaxUnsentBytes = 64 * 1024 * 1024;

/**
 * Time a client has to take its whole answer once it is written (ms). Prometheus' default
 * `scrape_timeout` is 10 s: a scraper still reading after 30 s has given up on the scrape already,
 * and a client that never reads would otherwise hold its answer for as long as it stays connected.
 */
export const kSendDeadlineMs = 30_000;

export class UnsentBudget {
  /** The most bytes counted at once, but for one answer alone (`fits()`). */
  maxBytes = kMaxUnsentBytes;
  /** Time a client has to take its answer (ms). Only tests change it: they cannot wait 30 s for a reset. */
  deadlineMs = kSendDeadlineMs;
  #unsent = 0;
  /** The size of the last answer counted: what the next one will take, to refuse it before it is built. */
  #lastBytes = 0;

  /** Bytes counted now: answers written and not yet sent whole. */
  get unsent(): number {
    return this.#unsent;
  }

  /** The size of the last answer counted (0 before the first). */
  get lastBytes(): number {
    return this.#lastBytes;
  }

  /**
   * Whether an answer of `bytes` fits now. One answer always fits when none is counted: a page
   * larger than the budget is still served, to one client at a time.
   */
  fits(bytes: number): boolean {
    return this.#unsent === 0 || this.#unsent + bytes <= this.maxBytes;
  }

  /**
   * Counts `bytes`, the answer about to be written to `response`, until it is sent whole or its
   * connection closes; a connection that has not taken it within `deadlineMs` is reset (its
   * buffers freed, in the kernel too) and `onLate` is told. False, nothing counted, when it does
   * not fit: the caller must refuse the request instead.
   */
  take(response: ServerResponse, bytes: number, onLate: () => void): boolean {
    // Its client is gone already: the answer is never written, and its 'close' has come and gone.
    if (response.destroyed) return true;
    if (!this.fits(bytes)) return false;
    this.#unsent += bytes;
    // A HEAD's answer has no body: it says nothing of the next GET's.
    if (bytes > 0) this.#lastBytes = bytes;
    const timer = setTimeout(() => {
      const socket = response.socket;
      if (socket === null || socket.destroyed) return;
      onLate();
      // A reset, not a close: a close would leave what the kernel holds queued for a client that never reads.
      if (typeof socket.resetAndDestroy === 'function') socket.resetAndDestroy();
      else socket.destroy();
    }, this.deadlineMs);
    // A pending deadline never keeps the process alive.
    timer.unref();
    // 'close' comes once the answer is sent whole, or when its connection closes before.
    response.once('close', () => {
      clearTimeout(timer);
      this.#unsent -= bytes;
    });
    return true;
  }
}
