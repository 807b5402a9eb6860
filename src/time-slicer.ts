/**
 * Long synchronous work cut into slices, the event loop given back between them: the primary
 * serves every other worker, its control socket and `/healthz` from its one thread, and a walk
 * of /proc or a signal to each of 2 000 processes held it for seconds (tester t21, H159).
 */

/** Work done between two yields, in ms: a gap other work notices no more than a busy tick. */
const kSliceMs = 10;

/** Tells when the slice is used up; `pause()` then lets timers and I/O run before the next. */
export class TimeSlicer {
  #sliceEnd = performance.now() + kSliceMs;

  get isDue(): boolean {
    return performance.now() >= this.#sliceEnd;
  }

  /** Resolves after one turn of the event loop (`setImmediate`: after pending I/O is polled). */
  async pause(): Promise<void> {
    await new Promise((resolve) => setImmediate(resolve));
    this.#sliceEnd = performance.now() + kSliceMs;
  }
}
