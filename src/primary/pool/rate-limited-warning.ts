/**
 * A warning given at most once per `kWarningIntervalMs` about something that may repeat
 * without end (a worker flooding garbage, a message slow to parse, refused connections, a
 * signal): the first occurrence is told at once; those within the interval after it are added up
 * (`merge`) and told together when the interval ends, by a trailing warning. So a flood cannot
 * flood the logs, and a burst that ends within the interval is still told (before, what
 * came after a warning was told only if more came later: a flood of 300 000 dropped messages was
 * reported as 1).
 */

/** Least time between two warnings about one thing (one worker's protocol errors, say), in ms. */
export const kWarningIntervalMs = 10_000;

export class RateLimitedWarning<T> {
  /** When the last warning was given (ms since the epoch). */
  #lastAt = -Infinity;
  /** What came since, not told yet. */
  #held: T | undefined;
  #timer: NodeJS.Timeout | undefined;

  /**
   * @param merge adds `next` to what is held (`held` undefined for the first held); may mutate
   *   and return `held`, so that a flood costs no allocation per occurrence.
   * @param give tells one warning: an occurrence, or the sum of those held; `isFlushed` when
   *   `flush()` tells it, at an end after which no more are told (its line promises no next
   *   interval); `isHeld` for the sum of those held, told after they came (its line says what
   *   held then, not now: hostile t75 F9).
   */
  constructor(
    private readonly merge: (held: T | undefined, next: T) => T,
    private readonly give: (summary: T, isFlushed: boolean, isHeld: boolean) => void,
    private readonly intervalMs = kWarningIntervalMs,
  ) {}

  /** Whether occurrences are held for a trailing warning not told yet. */
  get isHolding(): boolean {
    return this.#held !== undefined;
  }

  /** One occurrence: told now, or held for the trailing warning. */
  note(occurrence: T): void {
    const now = Date.now();
    if (this.#held === undefined && now - this.#lastAt >= this.intervalMs) {
      this.#lastAt = now;
      this.give(occurrence, false, false);
      return;
    }
    this.#held = this.merge(this.#held, occurrence);
    // Unref'd: a pending summary never keeps the process alive.
    this.#timer ??= setTimeout(() => this.#flush(false), Math.max(0, this.#lastAt + this.intervalMs - now)).unref();
  }

  /**
   * Tells what is held now, without waiting for the interval to end: at a shutdown or a worker's
   * exit, whose end would drop the unref'd timer and what it held with it (newcomer t25: 3
   * refused connections, 1 told).
   */
  flush(): void {
    clearTimeout(this.#timer);
    this.#flush(true);
  }

  #flush(isFlushed: boolean): void {
    this.#timer = undefined;
    const held = this.#held;
    this.#held = undefined;
    if (held === undefined) return;
    this.#lastAt = Date.now();
    this.give(held, isFlushed, true);
  }
}

/** What a counted warning holds: how many occurred, and the latest. */
export interface Counted<T> {
  count: number;
  latest: T;
}

/** `merge` for warnings that count their occurrences and describe the latest. */
export function countLatest<T>(held: Counted<T> | undefined, next: Counted<T>): Counted<T> {
  if (held === undefined) return { count: next.count, latest: next.latest };
  held.count += next.count;
  held.latest = next.latest;
  return held;
}
