/**
 * `primary.givenUpSlots()`: the slots the crash-loop breaker gave up on, as PM2 lists an
 * `errored` process. They have no worker, so they are no row of `stats()` (whose rows are live
 * workers, summed as such by every reader); without them a given-up slot showed only as
 * `1/2` (PM2 retest N3).
 */
import type { CrashLoopReason } from '../../errors.js';
import type { WorkerPool } from '../pool/worker-pool.js';

/** The longest `lastFailure` kept: one line of a status table, not a stack. */
const kMaxFailureChars = 500;

export interface GivenUpSlotStats {
  slot: number;
  name: string | undefined;
  /** The slot's roles (`fork({ roles })`), `[]` for none: a reload that restores it keeps them. */
  roles: string[];
  /** PM2's word for a process it stopped restarting. */
  state: 'errored';
  /** When the breaker gave the slot up (ms since the epoch). */
  since: number;
  /** Time since then (ms). */
  givenUpMs: number;
  /** The slot's counts when it was given up (`WorkerStats.restarts`, `crashes`); a reload that restores it goes on from them. */
  restarts: number;
  crashes: number;
  /** The failures the breaker counted (`CrashLoopError.failures`), and which limit they reached. */
  failures: number;
  reason: CrashLoopReason;
  /** How the slot's last worker ended (the cause of the `crashLoop` error), at most 500 characters. */
  lastFailure: string;
}

export function collectGivenUp(pool: Pick<WorkerPool, 'givenUp'>, now = Date.now()): GivenUpSlotStats[] {
  return pool.givenUp.map(({ slot, since, error }) => ({
    slot: slot.index,
    name: slot.spec.name,
    roles: [...slot.spec.roles],
    state: 'errored' as const,
    since,
    givenUpMs: Math.max(0, now - since),
    restarts: slot.restarts,
    crashes: slot.crashes,
    failures: error.failures,
    reason: error.reason,
    lastFailure: oneLine(error.cause instanceof Error ? error.cause.message : error.message),
  }));
}

/**
 * The failure as one line, without a requester's advice: a slot's last failure may be the error
 * its worker's exit gave a pending request ("The request was not answered; retry it..."), which
 * says nothing of a slot given up, and its period doubled the note's (retest t35 LOW-6).
 */
export function oneLine(text: string): string {
  const line = text
    .replace(/\s+/g, ' ')
    .replace(/ The request was not answered; retry it on another worker if it is safe to repeat\.$/, '')
    .replace(/\.+$/, '')
    .trim();
  return line.length <= kMaxFailureChars ? line : `${line.slice(0, kMaxFailureChars - 1)}…`;
}

/**
 * `primary.failingSlots()` (H396): the slots in a crash loop not given up yet, each failed since
 * its last ready worker. `restarting`: it waits out its restart's backoff, with no worker (no
 * `stats()` row); `starting`: its next worker started and is not ready yet (its `stats()` row is
 * `workerId`). Without them, status said `running` with no worker through the whole backoff.
 */
export interface FailingSlotStats {
  slot: number;
  name: string | undefined;
  roles: string[];
  state: 'restarting' | 'starting';
  /** The live worker of a `starting` slot. */
  workerId?: number;
  /** Exits in a row since the slot last ran stable (the backoff's attempt). */
  failures: number;
  /** The failed starts among them in a row; `restart.maxStartupFailures` gives the slot up. */
  failedStarts: number;
  /** How its last worker ended, on one line, at most 500 characters. */
  lastFailure: string;
  /** When that worker ended (ms since the epoch). */
  failedAt: number;
  /** When the restart is due (ms since the epoch), and the time until then (ms, 0 once due): for a `restarting` slot. */
  restartAt?: number;
  restartInMs?: number;
  restarts: number;
  crashes: number;
}

export function collectFailing(pool: Pick<WorkerPool, 'activeSlots'>, now = Date.now()): FailingSlotStats[] {
  return pool.activeSlots().flatMap((slot) => {
    const { failing, current } = slot;
    if (failing === undefined || current?.state === 'ready') return [];
    const isStarting = current !== undefined && current.state !== 'exited';
    return [
      {
        slot: slot.index,
        name: slot.spec.name,
        roles: [...slot.spec.roles],
        state: isStarting ? ('starting' as const) : ('restarting' as const),
        ...(isStarting ? { workerId: current.id } : { restartAt: failing.restartAt, restartInMs: Math.max(0, failing.restartAt - now) }),
        failures: failing.failures,
        failedStarts: failing.failedStarts,
        lastFailure: failing.lastFailure,
        failedAt: failing.failedAt,
        restarts: slot.restarts,
        crashes: slot.crashes,
      },
    ];
  });
}
