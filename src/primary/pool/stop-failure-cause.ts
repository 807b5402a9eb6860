/**
 * Why workers' stops did not finish cleanly, in one clause, when the primary knows one cause
 * for them all: `clusterkit stop` says it on its line instead of sending the user to the
 * cluster's log for it (newcomer t25 N8, H240). Undefined when the causes differ or are unknown.
 */
import { recordOf, type WorkerHandle } from './worker-handle.js';
import { isStopUnfinished, overranStop } from './stop-worker.js';
import type { WorkerRecord } from './worker-record.js';

export function describeStopFailures(failed: readonly WorkerHandle[]): string | undefined {
  const causes = new Set(failed.map((handle) => {
    const record = recordOf(handle);
    return record === undefined ? undefined : stopFailureCause(record);
  }));
  if (causes.size !== 1) return undefined;
  return [...causes][0];
}

function stopFailureCause(record: WorkerRecord): string | undefined {
  // Requests (or message handlers) cut off come first: the stop's own count says how many.
  if (record.requestsCut !== undefined || record.handlersCut !== undefined) return undefined;
  if (overranStop(record)) {
    if (record.cleanupSignal !== undefined) return `the script's ${record.cleanupSignal} listener ran but did not end the process within the worker's own deadline, so it exited with code 1`;
    return undefined;
  }
  if (isStopUnfinished(record)) return undefined;
  if (record.signal !== null) return `ended during its stop by ${record.signal}, which the stop did not send`;
  if (record.exitCode !== null && record.exitCode !== 0) return `it exited with code ${record.exitCode} during its stop`;
  return undefined;
}
