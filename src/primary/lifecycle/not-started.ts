/**
 * Each worker a stop ends is counted once (H210, H211). A worker that was never ready was not
 * stopped as a serving one: out of `graceful` and `failed`, it is `notStarted`. One the primary
 * had to SIGKILL at the timeout (an `_init` or a script's top-level code that does not give
 * way) stays `killed`, as docs/supervision.md defines it, and is not
 * `notStarted` too: before, a failed start's line read as three workers when two were alive
 * (`1 worker stopped before it was ready; 1 worker did not stop cleanly graceful=1 killed=1 notStarted=1`).
 */
import type { ShutdownReport } from '../primary-events.js';
import { recordOf, type WorkerHandle } from '../pool/worker-handle.js';
import { overranStop } from '../pool/stop-worker.js';

/** `report` with the `unready` workers (never ready when the stop began) counted as `notStarted`, unless killed. */
export function withNotStarted(report: ShutdownReport, unready: readonly WorkerHandle[]): ShutdownReport {
  const started = (handle: WorkerHandle) => !unready.includes(handle);
  // One whose own stop overran stays `failed` alone (H238), as one killed stays `killed`.
  const overran = (handle: WorkerHandle) => report.failed.includes(handle) && isOverrun(handle);
  const notStarted = unready.filter((handle) => !report.killed.includes(handle) && !overran(handle));
  return { ...report, graceful: report.graceful.filter(started), failed: report.failed.filter((handle) => started(handle) || overran(handle)), notStarted };
}

function isOverrun(handle: WorkerHandle): boolean {
  const record = recordOf(handle);
  return record !== undefined && overranStop(record);
}
