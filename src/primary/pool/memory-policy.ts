/**
 * Counting memory replacements, pure. A worker over `maxMemoryMb` is always replaced, as PM2's
 * `max_memory_restart`, systemd's `MemoryMax` with `Restart=always` and Kubernetes do: giving
 * the slot up took a serving service down (tester t20, H152). What is counted is how many in a
 * row came soon after the worker started: from `kMemoryLoopAt` on, the limit is below what the
 * worker needs or it leaks from the start, and the line says so and what to change.
 */

/** Memory replacements in a row, each soon after start, from which the log line says it is a loop. */
export const kMemoryLoopAt = 3;

/**
 * The slot's count of memory replacements in a row, each soon after start, this one included.
 * @param inARow the slot's count so far.
 * @param readyForMs how long the worker has been ready (undefined: it never was).
 * @param stableAfterMs a worker ready this long was fine for a while: its replacement is an
 *   ordinary one and starts the count afresh (0).
 */
export function countMemoryReplacement(inARow: number, readyForMs: number | undefined, stableAfterMs: number): number {
  const isSoonAfterStart = readyForMs === undefined || readyForMs < stableAfterMs;
  return isSoonAfterStart ? inARow + 1 : 0;
}
