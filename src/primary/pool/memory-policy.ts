/**
 * The memory-limit breaker, pure: a slot whose workers go over `maxMemoryMb` again and again
 * soon after they start (the limit is below what the worker needs, or it leaks from the start)
 * would be replaced forever, each replacement costing a start. Like the crash-loop breaker, it
 * gives up after a few in a row, and says so.
 */

/** Memory replacements in a row, each soon after start, at which the slot gives up. */
export const kMaxMemoryReplacements = 3;

export interface MemoryDecision {
  /** Replace the worker (true), or give the slot up (false). */
  readonly replace: boolean;
  /** The slot's count of replacements in a row soon after start, this one included. */
  readonly inARow: number;
}

/**
 * What to do with a worker over the memory limit.
 * @param inARow the slot's count so far.
 * @param readyForMs how long the worker has been ready (undefined: it never was).
 * @param stableAfterMs a worker ready this long was fine for a while: its replacement is an
 *   ordinary one and starts the count afresh.
 */
export function decideMemoryReplacement(inARow: number, readyForMs: number | undefined, stableAfterMs: number): MemoryDecision {
  const isSoonAfterStart = readyForMs === undefined || readyForMs < stableAfterMs;
  const count = isSoonAfterStart ? inARow + 1 : 0;
  return { replace: count < kMaxMemoryReplacements, inARow: count };
}
