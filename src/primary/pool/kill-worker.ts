/**
 * The primary's SIGKILL of a worker (its stop's timeout, the heartbeat, its channel, its ready
 * timeout, a forced stop). A SIGKILLed worker cannot end its own processes as it exits
 * (worker/descendants-at-exit.ts), and once it is dead they are init's children, out of its
 * tree: so they are listed first, by pid and start time, and ended at its exit (SIGTERM, then
 * SIGKILL after `kDescendantsGraceMs`: worker-pool.ts) (H140). Linux /proc only; elsewhere
 * nothing is listed.
 */
import { killDescendants } from '../../worker/kill-descendants.js';
import type { WorkerRecord } from './worker-record.js';

/** Lists the worker's descendants (`record.descendants`), then SIGKILLs it. */
export function killWorker(record: WorkerRecord): void {
  const { pid } = record.clusterWorker.process;
  if (record.descendants === undefined && pid !== undefined && record.state !== 'exited') record.descendants = listDescendants(pid);
  record.clusterWorker.process.kill('SIGKILL');
}

/** Its descendants, as `<pid>:<start time>`; none when /proc cannot be read. */
function listDescendants(pid: number): string[] {
  try {
    return killDescendants(pid, 0);
  } catch {
    return []; // a runtime without process.getBuiltinModule
  }
}
