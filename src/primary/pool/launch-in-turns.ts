/**
 * Forking many workers without making the primary deaf. A fork blocks the primary's event loop
 * (2 ms on an idle machine, hundreds while many workers boot): a scale-up to thousands in one
 * loop left it answering neither `status` nor `stop` for minutes. Workers are forked one per
 * event-loop turn instead, and between two forks the primary serves its control socket and its
 * workers.
 */
import { toError } from '../../to-error.js';
import type { Slot } from './slot.js';
import type { WorkerPool } from './worker-pool.js';

/**
 * Forks the first worker of each slot from `slots[next]` on, one per turn. A slot retired
 * meanwhile (a shutdown, a scale-down) is skipped, so a stop during a scale-up forks nothing more.
 */
export function launchInTurns(pool: Pick<WorkerPool, 'launch' | 'retire' | 'isClosed'>, slots: readonly Slot[], next = 0): void {
  while (next < slots.length && (pool.isClosed || slots[next]!.isRetired || slots[next]!.current)) next++;
  if (next === slots.length) return;
  try {
    pool.launch(slots[next]!);
  } catch (error) {
    // A fork that throws (not an 'error' event: ENOMEM...) would throw again: the slots not yet
    // forked fail with it, and so does the fork() or scale() that added them.
    for (const slot of slots.slice(next)) if (!slot.current) pool.retire(slot, toError(error));
    return;
  }
  if (next + 1 < slots.length) setImmediate(() => launchInTurns(pool, slots, next + 1));
}
