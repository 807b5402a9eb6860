/**
 * A worker whose slot a scale-down removed while it was still booting (a reload's or a memory
 * replacement, a scale-up's worker). Its `$shutdown` waits for its `$hello`, and on a loaded
 * machine the boot alone took the whole shutdown timeout: it was SIGKILLed at the timeout
 * instead of stopped before it was ready (tester t23, H200). Before `$hello` no code of its
 * `ClusterWorker` runs yet, and a plain script is not imported: SIGTERM's default action ends it
 * now, with nothing to drain. One that handles signals already (its `$hello` is on its way)
 * takes the SIGTERM as a stop signal and gets the `$shutdown` too.
 */
import type { WorkerRecord } from './worker-record.js';

/** Call once the worker's stop began (`stopWorker`): its exit is then an expected one. */
export function endIfUnstarted(record: WorkerRecord): void {
  if (record.hasSaidHello || record.readyAt !== undefined || record.state === 'exited' || record.pid === undefined) return;
  record.isEndedUnstarted = true;
  try {
    record.clusterWorker.process.kill('SIGTERM');
  } catch {
    // Gone already: its exit is on its way, and says so.
  }
}
