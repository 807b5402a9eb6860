/**
 * Counting memory replacements, pure. A worker over `maxMemoryMb` is always replaced, as PM2's
 * `max_memory_restart`, systemd's `MemoryMax` with `Restart=always` and Kubernetes do: giving
 * the slot up took a serving service down (tester t20, H152). What is counted is how many in a
 * row came soon after the worker started: from `kMemoryLoopAt` on, the limit is below what the
 * worker needs or it leaks from the start, and the line says so and what to change, and the
 * replacements back off (H164). The hard bound (H163) stops a worker that keeps growing while its
 * replacement is not ready, as PM2 restarts in place.
 */
import type { NormalizedRestartOptions } from '../primary-options.js';
import { backoffDelay } from './restart-policy.js';

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

/**
 * How long the replacement waits, this one counted in `inARow`: none for the first two in a row
 * or one after a stable run (a real leak is replaced at once), then the restart policy's backoff
 * from its first step, capped at its `maxMs` (H164: a worker over the limit from its start was
 * replaced every 2 s forever, a full worker start each time).
 */
export function memoryReplacementDelayMs(inARow: number, restart: NormalizedRestartOptions): number {
  return inARow < kMemoryLoopAt ? 0 : backoffDelay(inARow - kMemoryLoopAt + 1, restart);
}

/**
 * The RSS at which a worker over the limit is stopped without waiting for its replacement (H163):
 * what it used when its replacement was decided, plus the limit once more. A worker that holds
 * steady while its replacement starts never reaches it; one that leaks while its replacement
 * hangs (a database that is down, a server that never listens) is not left to grow without end.
 */
export function memoryHardLimitBytes(rssAtReplacementBytes: number, limitBytes: number): number {
  return rssAtReplacementBytes + limitBytes;
}
