/**
 * The `restart` option: backoff and crash-loop limits (see docs/supervision.md).
 */
import { integerOption, numberOption, optionsObject, rejectUnknownKeys } from '../validate.js';

export interface BackoffOptions {
  /** Delay before the first restart of a slot. @default 100 */
  initialMs?: number;
  /** Each consecutive restart multiplies the delay by this. @default 2 */
  factor?: number;
  /** The delay never exceeds this. @default 30000 */
  maxMs?: number;
}

export interface RestartOptions {
  backoff?: BackoffOptions;
  /**
   * A worker that was ready this long (ms, counted from ready, not from the fork: time in `_init`
   * is not stable running) resets its slot's backoff and failure counts. @default 30000
   */
  stableAfterMs?: number;
  /**
   * A worker that exits before ready, or within this long (ms) after becoming ready, is a
   * startup failure; `maxStartupFailures` of them in a row trip the crash-loop breaker. Like
   * `stableAfterMs` it counts time spent ready, so a slow `_init` does not use it up.
   * @default 5000
   */
  startupWindowMs?: number;
  /** Consecutive startup failures after which the slot stops restarting (`crashLoop`). @default 3 */
  maxStartupFailures?: number;
  /** Restarts of one slot allowed within `windowMs`; one more trips `crashLoop`. @default 10 */
  maxRestarts?: number;
  /** The window of `maxRestarts`. @default 60000 */
  windowMs?: number;
}

export interface NormalizedRestartOptions {
  readonly backoff: { readonly initialMs: number; readonly factor: number; readonly maxMs: number };
  readonly stableAfterMs: number;
  readonly startupWindowMs: number;
  readonly maxStartupFailures: number;
  readonly maxRestarts: number;
  readonly windowMs: number;
}

export function normalizeRestartOptions(input: RestartOptions | undefined): NormalizedRestartOptions {
  const options = optionsObject(input, 'restart');
  rejectUnknownKeys(options, ['backoff', 'stableAfterMs', 'startupWindowMs', 'maxStartupFailures', 'maxRestarts', 'windowMs'], 'restart.');
  const backoff = optionsObject(options.backoff, 'restart.backoff');
  rejectUnknownKeys(backoff, ['initialMs', 'factor', 'maxMs'], 'restart.backoff.');
  const initialMs = integerOption(backoff.initialMs, 'restart.backoff.initialMs', 100, { min: 0 });
  return Object.freeze({
    backoff: Object.freeze({
      initialMs,
      factor: numberOption(backoff.factor, 'restart.backoff.factor', 2, 1),
      maxMs: integerOption(backoff.maxMs, 'restart.backoff.maxMs', Math.max(30_000, initialMs), { min: initialMs }),
    }),
    stableAfterMs: integerOption(options.stableAfterMs, 'restart.stableAfterMs', 30_000, { min: 0 }),
    startupWindowMs: integerOption(options.startupWindowMs, 'restart.startupWindowMs', 5_000, { min: 0 }),
    maxStartupFailures: integerOption(options.maxStartupFailures, 'restart.maxStartupFailures', 3),
    maxRestarts: integerOption(options.maxRestarts, 'restart.maxRestarts', 10),
    windowMs: integerOption(options.windowMs, 'restart.windowMs', 60_000),
  });
}
