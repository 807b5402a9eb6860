/**
 * Durations: the one place that knows how long a timer can wait. Node keeps a timer's delay in
 * a signed 32-bit count of milliseconds; a longer delay (2^31 ms, about 24.8 days, or more) is
 * not refused but replaced by 1 ms, with only a warning on stderr. A timeout of "600 hours"
 * would then fire at once: a reply times out before it could arrive, a worker is killed as
 * not ready, a shutdown kills at once. So every duration option and flag is checked against
 * `kMaxDurationMs`, and every timer armed with a sum of durations goes through `timerDelay`.
 */
import { InvalidOptionError } from './errors.js';
import { wholeMs } from './whole-ms.js';

/** The longest delay Node's timers hold: 2^31 - 1 ms (24 days, 20 hours, 31 minutes). */
export const kMaxDurationMs = 2 ** 31 - 1;

export interface DurationRules {
  /** The shortest accepted, in ms. @default 1 */
  min?: number;
  /** `Infinity` means "no limit": the timer is then not armed at all. @default false */
  allowInfinity?: boolean;
}

/**
 * A duration option in whole milliseconds, from `min` to `kMaxDurationMs` (or `Infinity` when
 * allowed); `fallback` when undefined.
 * @throws InvalidOptionError naming the option, what it accepts and the longest duration.
 */
export function durationOption(value: unknown, name: string, fallback: number, rules: DurationRules = {}): number {
  if (value === undefined) return fallback;
  const min = rules.min ?? 1;
  if (rules.allowInfinity && value === Number.POSITIVE_INFINITY) return value;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > kMaxDurationMs) {
    const expected = `a whole number of milliseconds from ${min} to ${kMaxDurationMs} (about 24.8 days, the longest a Node timer can wait)`;
    throw new InvalidOptionError(name, rules.allowInfinity ? `${expected}, or Infinity for no limit` : expected, value);
  }
  return value;
}

/**
 * A delay for `setTimeout` computed from durations (a timeout plus a margin): never past what a
 * timer holds, where it would fire after 1 ms instead. Infinity stays Infinity (arm nothing).
 */
export function timerDelay(ms: number): number {
  return ms === Number.POSITIVE_INFINITY ? ms : Math.min(Math.max(ms, 0), kMaxDurationMs);
}

/** `850 ms`, `12.3 s`: how long a worker ran or served, for log lines and error messages. */
export function formatElapsed(ms: number): string {
  const whole = wholeMs(ms);
  return whole < 1_000 ? `${whole} ms` : `${(ms / 1_000).toFixed(1)} s`;
}


/**
 * How long a worker was up after it became ready, as its crash lines and errors say it: whole
 * milliseconds under a minute (`966 ms`, `1014 ms`), `formatElapsed` from a minute on (`75.3 s`).
 * Crashes soon after ready are the ones read side by side (a crash loop's lines, status notes):
 * with `formatElapsed` alone, two crashes about a second after ready read `966 ms` and `1.0 s`
 * (H436). Under a minute the figure is also the line's own `readyMs` field.
 */
export function formatUptime(ms: number): string {
  const whole = wholeMs(ms);
  return whole < 60_000 ? `${whole} ms` : formatElapsed(ms);
}
