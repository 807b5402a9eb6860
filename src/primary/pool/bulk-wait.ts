/**
 * What the primary sees of a worker whose messages wait for their long strings on its bulk pipe
 * (messaging/bulk-reader.ts): when the wait began, when bytes last came, and whether the worker
 * kept talking meanwhile. Pure: the caller passes the clock and the reader's state.
 *
 * A worker silent with messages held is one of two things, and only the second is the pipe's
 * fault: its event loop blocked with its strings still queued in its own process (nothing comes
 * on either pipe), or code in it closed or reopened the pipe's descriptor (on /dev/null, a file),
 * so its writes "succeed" and vanish while its loop turns and its IPC messages keep coming
 * (held behind the first). A message that came well after both the wait began and the last
 * bytes, with no bytes since, tells them apart: a turning loop flushes its queued writes to a
 * primary that reads them.
 */
export class BulkWait {
  /** When its messages began to wait for bulk bytes (ms since the epoch); undefined while none waits. */
  #heldSince: number | undefined;
  /** When bytes last came on its bulk pipe (ms since the epoch); 0 before any. */
  #bytesAt = 0;
  /**
   * When the first message came that shows its loop turned while bytes were owed: one that came
   * `marginMs` or more after both the wait began and the last bytes. Cleared by bytes (they do
   * come) and when the wait ends.
   */
  #spokeAt: number | undefined;
  /** When a message last came while its messages were held (its loop turned then); cleared when the wait ends. */
  #heardHeldAt: number | undefined;

  /** A message from the worker (IPC) was read; `wasHolding`/`isHolding`: frames waited before and after it. */
  onMessage(wasHolding: boolean, isHolding: boolean, now: number, marginMs: number): void {
    if (!isHolding) {
      this.#heldSince = undefined;
      this.#spokeAt = undefined;
      this.#heardHeldAt = undefined;
      return;
    }
    if (wasHolding) this.#heardHeldAt = now;
    this.#heldSince ??= now;
    if (wasHolding && this.#spokeAt === undefined && now - Math.max(this.#heldSince, this.#bytesAt) >= marginMs) this.#spokeAt = now;
  }

  /** Bytes came on its bulk pipe; `isHolding`: frames still wait after them. */
  onBytes(isHolding: boolean, now: number): void {
    this.#bytesAt = now;
    this.#spokeAt = undefined;
    if (!isHolding) {
      this.#heldSince = undefined;
      this.#heardHeldAt = undefined;
    }
  }

  /**
   * True when its messages wait for bytes and one more came in the last `withinMs`: it is held,
   * not silent (its loop turned then), and whether its bytes are lost or late is `isLost`'s to say.
   */
  isHeardWhileHeld(now: number, withinMs: number): boolean {
    return this.#heldSince !== undefined && this.#heardHeldAt !== undefined && now - this.#heardHeldAt < withinMs;
  }

  /**
   * True when its bytes are lost, not late: it spoke well after the last bytes (`onMessage`), and
   * no bytes came in the `settleMs` since (time for a loop that just woke to flush its queue).
   */
  isLost(now: number, settleMs: number): boolean {
    return this.#spokeAt !== undefined && now - this.#spokeAt >= settleMs;
  }

  /** How long its messages have waited (ms), 0 when none waits. */
  heldForMs(now: number): number {
    return this.#heldSince === undefined ? 0 : now - this.#heldSince;
  }
}
