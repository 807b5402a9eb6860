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
    lastFailure: shorten(error.cause instanceof Error ? error.cause.message : error.message),
  }));
}

/**
 * The failure as one line, without a requester's advice: a slot's last failure may be the error
 * its worker's exit gave a pending request ("The request was not answered; retry it..."), which
 * says nothing of a slot given up, and its period doubled the note's (retest t35 LOW-6).
 */
function shorten(text: string): string {
  const line = text
    .replace(/\s+/g, ' ')
    .replace(/ The request was not answered; retry it on another worker if it is safe to repeat\.$/, '')
    .replace(/\.+$/, '')
    .trim();
  return line.length <= kMaxFailureChars ? line : `${line.slice(0, kMaxFailureChars - 1)}…`;
}
