/**
 * A silent worker whose heap was near its limit at its last heartbeat answer (H394): V8 runs
 * full garbage collections back to back there, and the event loop starves between them, so the
 * heartbeat sees silence, as for a busy loop. The truth is memory, and what to do differs (raise
 * `--max-old-space-size`, set `maxMemoryMb`, fix a leak), so the silence and kill lines say so.
 * The figures are the worker's word: they change the wording, never a decision.
 */
import type { WorkerHealth } from './worker-record.js';

/** The heap used, as a share of its limit, from which a silence is told as most likely garbage collection. */
export const kNearHeapLimitRatio = 0.9;

/** The last answer's heap figures of a worker whose heap was near its limit (`workerSilent`, `workerUnresponsive`). */
export interface HeapPressure {
  readonly heapUsedBytes: number;
  readonly heapLimitBytes: number;
}

/** The heap figures when the last answer had its heap at `kNearHeapLimitRatio` of its limit or more; undefined otherwise, or with no limit said. */
export function heapPressureOf(health: WorkerHealth | undefined): HeapPressure | undefined {
  const limit = health?.heapLimitBytes;
  if (health === undefined || limit === undefined || !(limit > 0)) return undefined;
  return health.heapUsedBytes >= limit * kNearHeapLimitRatio ? { heapUsedBytes: health.heapUsedBytes, heapLimitBytes: limit } : undefined;
}

/** `its heap was 121 of 128 MB (95 % of its limit) at its last answer`; `(at its limit)` from 100 %: the young generation's objects count in the heap used, not in the limit. */
export function describeHeapFigures({ heapUsedBytes, heapLimitBytes }: HeapPressure): string {
  // Rounded, but never to 100 % below the limit.
  const share = heapUsedBytes >= heapLimitBytes ? 'at its limit' : `${Math.min(99, Math.round((heapUsedBytes / heapLimitBytes) * 100))} % of its limit`;
  return `its heap was ${megabytes(heapUsedBytes)} of ${megabytes(heapLimitBytes)} MB (${share}) at its last answer`;
}

/** Why such a worker is most likely silent, and what to do. */
export const kGcNearLimit = 'most likely garbage collection near the heap limit (a leak, or too small a --max-old-space-size: raise it, or set maxMemoryMb to replace the worker before it gets there)';

/** The whole clause: `its heap was 121 of 128 MB (95 % of its limit) at its last answer: most likely garbage collection near the heap limit (...)`. */
export function describeHeapPressure(pressure: HeapPressure): string {
  return `${describeHeapFigures(pressure)}: ${kGcNearLimit}`;
}

function megabytes(bytes: number): number {
  return Math.round(bytes / (1024 * 1024));
}
