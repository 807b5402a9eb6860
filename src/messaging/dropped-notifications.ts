/**
 * Tells the notifications a receiver dropped for want of a handler, when it has a handler within
 * 2 edits of their type: most likely a misspelling (`tik` for `tick`), which no sender hears of,
 * since none waits (hostile t64: 300,000 `notify('tik')` vanished without a word). A type no
 * handler is near is not told: a notification only some receivers handle is no fault.
 *
 * The first drop of a type is told at once; the later ones of the window are counted and told
 * once, at its end (a flood says one line a window, not one a message; the timer is unref'd).
 */

/** The window (ms) in which a type's later drops are counted, then told once. */
export const kDroppedWindowMs = 10_000;
/** Types followed at once: a sender inventing ever new near-miss types cannot grow the map. */
export const kMaxDroppedTypes = 32;
/** Distinct types counted past `kMaxDroppedTypes` in a window: more are still counted as drops. */
const kMaxCountedTypes = 1_024;

/**
 * `types`: for the drops of the types past the first `kMaxDroppedTypes` of a window, told together
 * at its end (`type` and `nearMiss` are the first of them): how many distinct types they had, at
 * most 1,024 counted.
 */
export type TellDropped = (type: string, nearMiss: string, count: number, windowMs: number, types?: number) => void;

export class DroppedNotifications {
  readonly #tell: TellDropped;
  readonly #windowMs: number;
  /** The types told this window, with the drops since. */
  #types = new Map<string, { nearMiss: string; unsaid: number }>();
  /** The drops of the types past the bound this window, told together (retest t64: 68 of 100 types were never told). */
  #others: { type: string; nearMiss: string; types: Set<string>; count: number } | undefined;
  #timer: NodeJS.Timeout | undefined;

  constructor(tell: TellDropped, windowMs = kDroppedWindowMs) {
    this.#tell = tell;
    this.#windowMs = windowMs;
  }

  drop(type: string, nearMiss: string): void {
    const seen = this.#types.get(type);
    if (seen !== undefined) {
      seen.unsaid++;
      return;
    }
    // Past the bound a new type is not told at once: counted, and told with the others past it at the window's end.
    if (this.#types.size >= kMaxDroppedTypes) {
      this.#others ??= { type, nearMiss, types: new Set(), count: 0 };
      if (this.#others.types.size < kMaxCountedTypes) this.#others.types.add(type);
      this.#others.count++;
      return;
    }
    this.#types.set(type, { nearMiss, unsaid: 0 });
    this.#timer ??= setTimeout(() => this.#endWindow(), this.#windowMs).unref();
    this.#tell(type, nearMiss, 1, this.#windowMs);
  }

  /** Tells the drops counted and not told yet, now: the peer is gone, and the window's end would come too late (retest t64: lost at a shutdown). */
  flush(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const told = this.#types;
    this.#types = new Map();
    for (const [type, { nearMiss, unsaid }] of told) if (unsaid > 0) this.#tell(type, nearMiss, unsaid, this.#windowMs);
    this.#tellOthers();
  }

  /** The drops of the types past the bound, in one report. */
  #tellOthers(): void {
    const others = this.#others;
    this.#others = undefined;
    if (others !== undefined) this.#tell(others.type, others.nearMiss, others.count, this.#windowMs, others.types.size);
  }

  #endWindow(): void {
    this.#timer = undefined;
    const told = this.#types;
    this.#types = new Map();
    for (const [type, { nearMiss, unsaid }] of told) {
      if (unsaid === 0) continue;
      // Still flooding: its next drops are counted in the new window, not told one by one.
      this.#types.set(type, { nearMiss, unsaid: 0 });
      this.#tell(type, nearMiss, unsaid, this.#windowMs);
    }
    this.#tellOthers();
    if (this.#types.size > 0) this.#timer = setTimeout(() => this.#endWindow(), this.#windowMs).unref();
  }
}
