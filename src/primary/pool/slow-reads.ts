/**
 * The costly reads of one worker's channel (channel-guard.ts), added up into `workerSlowMessage`
 * reports (H61). Reads of `kBusyReadMs` or more add up within `kSlowReadWindowMs`; once they (or
 * one alone) reach `kSlowReadMs`, they are reported: at once, or, within 10 s of the last report,
 * by the trailing report when those 10 s end (rate-limited-warning.ts).
 *
 * What follows a report and stays under `kSlowReadMs`, the rest of the burst, goes into the
 * trailing report too (H81), so the time told adds up to the time the primary was blocked:
 * before, a burst of 1.4 s was told as 1.0 s, and the rest of every burst (up to 1 s) was never
 * told. A trickle of costly reads long after a burst is not its rest: after `kSlowReadWindowMs`
 * without reaching `kSlowReadMs` again, reads add up toward it as before, untold below it.
 */
import { kSlowReadMs, kSlowReadWindowMs } from './channel-guard.js';
import { kWarningIntervalMs, RateLimitedWarning } from './rate-limited-warning.js';

/** Costly reads told in one `workerSlowMessage`. */
export interface SlowReads {
  /** Their time, in ms (not rounded). */
  readMs: number;
  reads: number;
  /** About what the largest held, in bytes. */
  bytes: number;
  /** Times they reached `kSlowReadMs`: 0 for the rest of a burst told alone. */
  count: number;
  /** The types of the messages they carried (a reply: its request's), at most `kMaxTypes`. */
  types: Set<string>;
}

/** Types a report keeps. */
const kMaxTypes = 8;

function addTypes(into: Set<string>, from: Iterable<string>): void {
  for (const type of from) if (into.size < kMaxTypes) into.add(type);
}

/** The thresholds, in ms; tests shorten them. */
export interface SlowReadLimits {
  readonly slowMs: number;
  readonly windowMs: number;
  readonly intervalMs: number;
}

const kDefaultLimits: SlowReadLimits = Object.freeze({ slowMs: kSlowReadMs, windowMs: kSlowReadWindowMs, intervalMs: kWarningIntervalMs });

/** Held to arm the trailing report when the rest of a burst arrives; the rest itself is taken when it is told. */
const kNoReads: SlowReads = Object.freeze({ readMs: 0, reads: 0, bytes: 0, count: 0, types: new Set<string>() });

/** Adds `next` to `held` (mutated and returned; a copy of `next` for the first). */
function addSlowReads(held: SlowReads | undefined, next: SlowReads): SlowReads {
  if (held === undefined) return { ...next, types: new Set(next.types) };
  addTypes(held.types, next.types);
  held.readMs += next.readMs;
  held.reads += next.reads;
  held.bytes = Math.max(held.bytes, next.bytes);
  held.count += next.count;
  return held;
}

export class SlowReadTally {
  /** Costly reads not told yet, with when the first came (performance.now()); cleared when told. */
  #busy: (SlowReads & { since: number }) | undefined;
  /** When reads last reached `slowMs` (performance.now()): those within `windowMs` after it are that burst's rest. */
  #reachedAt = Number.NEGATIVE_INFINITY;
  readonly #warning: RateLimitedWarning<SlowReads>;
  readonly #limits: SlowReadLimits;

  /** `tell` gets each report, the rest of a burst included; never one without reads. */
  constructor(tell: (reads: SlowReads) => void, limits: SlowReadLimits = kDefaultLimits) {
    this.#limits = limits;
    this.#warning = new RateLimitedWarning<SlowReads>(
      addSlowReads,
      (reads) => {
        const rest = this.#takeBusy();
        const all = rest === undefined ? reads : addSlowReads({ ...reads }, rest);
        if (all.reads > 0) tell(all);
      },
      limits.intervalMs,
    );
  }

  /** One read of `readMs` (costly: the caller's threshold) that held about `bytes` of its message, and messages of `types`. */
  add(readMs: number, bytes: number, types: Iterable<string> = []): void {
    const now = performance.now();
    if (this.#busy !== undefined && now - this.#busy.since > this.#limits.windowMs) {
      // Out of the window: forgotten, unless a report is pending, for which it is a burst's rest.
      const old = this.#takeBusy()!;
      if (this.#warning.isHolding) this.#warning.note(old);
    }
    const busy = (this.#busy ??= { since: now, readMs: 0, reads: 0, bytes: 0, count: 0, types: new Set<string>() });
    addTypes(busy.types, types);
    busy.readMs += readMs;
    busy.reads++;
    busy.bytes = Math.max(busy.bytes, bytes);
    if (busy.readMs >= this.#limits.slowMs) {
      this.#takeBusy();
      this.#reachedAt = now;
      this.#warning.note({ readMs: busy.readMs, reads: busy.reads, bytes: busy.bytes, count: 1, types: busy.types });
    } else if (now - this.#reachedAt <= this.#limits.windowMs) {
      // The rest of a burst just reported: told by the trailing report, which this arms.
      this.#warning.note(kNoReads);
    }
  }

  /** Tells the report held for the end of the interval now: the worker is gone (its exit). */
  flush(): void {
    this.#warning.flush();
  }

  #takeBusy(): SlowReads | undefined {
    const busy = this.#busy;
    this.#busy = undefined;
    return busy && { readMs: busy.readMs, reads: busy.reads, bytes: busy.bytes, count: 0, types: busy.types };
  }
}
