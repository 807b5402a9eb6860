/**
 * Pure restart decisions for one worker slot: exponential backoff, startup-failure counting and
 * the crash-loop breaker. No timers and no processes here, so every rule is unit-tested.
 */
import type { NormalizedRestartOptions } from '../primary-options.js';

/** What a slot remembers across its workers' lives. */
export interface RestartHistory {
  /** Restarts since the backoff was last reset; the next delay grows with it. */
  readonly attempt: number;
  /** Startup failures in a row (exit before ready, or within the startup window). */
  readonly startupFailures: number;
  /**
   * Crashes in a row of workers that served but died within `startupWindowMs` of ready (PM2's
   * unstable restarts, H366): they back off, and count toward no limit. A crash of a worker
   * that stayed ready longer sets it back to 0 (its backoff still grows before `stableAfterMs`,
   * H449); a failed start between them leaves it as is.
   */
  readonly unstableCrashes: number;
  /** Recent restarts, oldest first, for the `maxRestarts` per `windowMs` limit. */
  readonly restarts: readonly RestartRecord[];
  /** When each of `restarts` happened (ms): derived from it, never kept apart. */
  readonly restartTimes: readonly number[];
}

/** One restart of a slot. */
export interface RestartRecord {
  /** When it happened (ms, the clock `decideRestart` is given). */
  readonly at: number;
  /**
   * It followed an exit with code 0 (no crash: the worker ended its own process), so that the
   * breaker's message says "exited" for it rather than "crashed".
   */
  readonly isCleanExit: boolean;
}

function restartHistory(attempt: number, startupFailures: number, restarts: readonly RestartRecord[], unstableCrashes = 0): RestartHistory {
  return { attempt, startupFailures, unstableCrashes, restarts, restartTimes: restarts.map((restart) => restart.at) };
}

export const kFreshHistory: RestartHistory = Object.freeze(restartHistory(0, 0, Object.freeze([])));

/** How the worker being replaced ended. */
export interface EndedWorker {
  wasReady: boolean;
  /**
   * Time it spent ready (ms), 0 if it never was. Stability is time spent serving: the time in
   * `_init` counts for neither `stableAfterMs` nor `startupWindowMs`, or a slow start would pass
   * for a stable run and a worker crashing right after ready would never back off.
   */
  readyMs: number;
  /**
   * Set when the primary's own stall ended just before it saw the exit (H486): the worker may
   * have been ready up to this many ms more than `readyMs` (which counts to the stall's start).
   * A reset backoff needs `readyMs` past `stableAfterMs`; a failed start or an unstable crash,
   * `readyMs + unseenMs` within `startupWindowMs`: neither is said on a guess.
   */
  unseenMs?: number;
  /**
   * It served: a request or connection on a tracked server, or a user request message (`$served`).
   * Such a worker started, however soon it died: its crash counts toward neither
   * `maxStartupFailures` nor `maxRestarts`. It restarts after `backoff.initialMs` when it was
   * ready `stableAfterMs` or longer, else with the slot's growing backoff (H366, H449).
   */
  hasServed: boolean;
  /** It exited with code 0, no signal: it ended its own process, no crash. Counted all the same (see `decideRestart`). */
  isCleanExit?: boolean;
}

export type RestartDecision =
  | {
      readonly restart: true;
      readonly delayMs: number;
      readonly attempt: number;
      /**
       * Set when the worker served and died within `startupWindowMs` of ready: such crashes in a
       * row, this one included (`history.unstableCrashes`), which the backoff grows with (H366).
       */
      readonly unstableCrashes?: number;
      readonly history: RestartHistory;
    }
  | {
      readonly restart: false;
      readonly reason: 'startup-failures' | 'too-many-restarts';
      readonly failures: number;
      /** How many of `failures` were exits with code 0 (for `too-many-restarts`): said as exits, not crashes. */
      readonly cleanExits: number;
      readonly history: RestartHistory;
    };

/**
 * Is this exit a failed start (it never got going) rather than a crash of a running worker?
 * It is if the worker never became ready, or was ready for less than `startupWindowMs` (1 s,
 * PM2's `min_uptime`) without serving anything: a worker that served, or stayed up longer,
 * started, and its death is a crash, so a request path that crashes workers does not retire
 * healthy slots (docs/supervision.md, "A failed start, or a crash?").
 */
export function isStartupFailure(ended: EndedWorker, options: NormalizedRestartOptions): boolean {
  return !ended.wasReady || (readyAtMost(ended) < options.startupWindowMs && !ended.hasServed);
}

/** The most it may have been ready (ms): `readyMs`, and what the primary's stall hid (H486). */
function readyAtMost(ended: EndedWorker): number {
  return ended.readyMs + (ended.unseenMs ?? 0);
}

/**
 * Decides whether and when to restart a slot whose worker ended unexpectedly at `now`.
 *
 * A worker that was ready and served counts toward no limit: like PM2's restarts, unbounded,
 * each one logged as a crash. Its slot's backoff grows (`initialMs`, doubling up to `maxMs`)
 * with each such crash in a row, and is reset only by a worker ready `stableAfterMs` or longer,
 * whose crash restarts after `initialMs` (PM2's `exp_backoff_restart_delay` and Kubernetes'
 * CrashLoopBackOff reset after a while up, too; H449: a build crashing 1.5 s after ready, past
 * the startup window, was forked again every 100 ms forever). One that died within
 * `startupWindowMs` (PM2's `min_uptime`) of ready is besides an unstable restart
 * (`unstableCrashes`, H366: a poison build under traffic serves one request and dies 300 ms
 * after ready). Still no give-up: a service under traffic serves between its crashes, and
 * its slots come back by themselves once the cause is gone. Any other worker backs off
 * exponentially (reset after `stableAfterMs` ready), counts toward `maxRestarts` per
 * `windowMs`, and, as a failed start, toward `maxStartupFailures` in a row.
 *
 * An exit with code 0 counts as any other: like PM2, which restarts and counts any exit it did
 * not ask for (its `stop_exit_codes` opt codes out), a worker that keeps ending its own process
 * is a loop the breaker must stop. Only the words differ: it "exited", it did not crash.
 */
export function decideRestart(history: RestartHistory, ended: EndedWorker, options: NormalizedRestartOptions, now: number): RestartDecision {
  // Restart times age out of the window in every case, so the record stays small.
  const restarts = history.restarts.filter((restart) => now - restart.at < options.windowMs);
  if (ended.wasReady && ended.hasServed) {
    if (readyAtMost(ended) >= options.startupWindowMs) {
      // Past the window it started (no unstable crash), but only a run of stableAfterMs resets
      // the backoff (H449: a build crashing 1.5 s after ready was forked every 100 ms forever).
      const attempt = ended.readyMs >= options.stableAfterMs ? 1 : history.attempt + 1;
      return { restart: true, delayMs: backoffDelay(attempt, options), attempt, history: restartHistory(attempt, 0, restarts) };
    }
    const attempt = history.attempt + 1;
    const unstableCrashes = history.unstableCrashes + 1;
    return { restart: true, delayMs: backoffDelay(attempt, options), attempt, unstableCrashes, history: restartHistory(attempt, 0, restarts, unstableCrashes) };
  }
  const wasStable = ended.wasReady && ended.readyMs >= options.stableAfterMs;
  const attempt = wasStable ? 0 : history.attempt;
  const startupFailures = isStartupFailure(ended, options) ? (wasStable ? 0 : history.startupFailures) + 1 : 0;
  // A failed start between unstable crashes leaves their count; a worker ready past the window ends it.
  const unstableCrashes = startupFailures > 0 ? history.unstableCrashes : 0;

  if (startupFailures >= options.maxStartupFailures) {
    return { restart: false, reason: 'startup-failures', failures: startupFailures, cleanExits: 0, history: restartHistory(attempt, startupFailures, restarts, unstableCrashes) };
  }
  if (restarts.length >= options.maxRestarts) {
    const cleanExits = restarts.filter((restart) => restart.isCleanExit).length + (ended.isCleanExit ? 1 : 0);
    return { restart: false, reason: 'too-many-restarts', failures: restarts.length + 1, cleanExits, history: restartHistory(attempt, startupFailures, restarts, unstableCrashes) };
  }
  const nextAttempt = attempt + 1;
  return {
    restart: true,
    delayMs: backoffDelay(nextAttempt, options),
    attempt: nextAttempt,
    history: restartHistory(nextAttempt, startupFailures, [...restarts, { at: now, isCleanExit: ended.isCleanExit === true }], unstableCrashes),
  };
}

/**
 * The history a slot keeps when a replacement (a reload's, a memory one) takes it over from a
 * worker that had been ready `oldReadyMs` (H379). The counts were only ever updated at a crash,
 * so a slot whose worker came up after 2 failed starts and then served for hours still held
 * them, and its reload's replacement that crashed soon after ready (no traffic) was given up at
 * its first crash, with no restart. The old worker's run counts as it would have at its own end
 * (`decideRestart`): ready past `startupWindowMs`, it started, so the failed starts in a row and
 * the unstable crashes are over; past `stableAfterMs`, the backoff is reset too. The restarts of
 * the `maxRestarts` window stay.
 */
export function historyAtTakeover(history: RestartHistory, oldReadyMs: number | undefined, options: NormalizedRestartOptions): RestartHistory {
  if (oldReadyMs === undefined || oldReadyMs < options.startupWindowMs) return history;
  const attempt = oldReadyMs >= options.stableAfterMs ? 0 : history.attempt;
  if (attempt === history.attempt && history.startupFailures === 0 && history.unstableCrashes === 0) return history;
  return restartHistory(attempt, 0, history.restarts, 0);
}

/** Delay before restart number `attempt` (1-based): initial * factor^(attempt-1), capped. */
export function backoffDelay(attempt: number, options: NormalizedRestartOptions): number {
  const { initialMs, factor, maxMs } = options.backoff;
  return Math.min(Math.round(initialMs * factor ** (attempt - 1)), maxMs);
}
