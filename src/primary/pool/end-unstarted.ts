/**
 * A worker asked to stop while it is still booting: any stop (a shutdown, a failed start
 * stopping the others, a reload's retirement or one cut short, a scale-down, a memory or restart
 * replacement being stopped, `stopWorker()`). Its `$shutdown` waits for its `$hello`, and on a
 * loaded machine the boot alone took the whole shutdown timeout: it was SIGKILLed at the timeout
 * and counted killed instead of stopped before it was ready (tester t23, H200; H202: before,
 * only a scale-down ended it so). Before `$hello` no code of its `ClusterWorker` runs yet, and a
 * `clusterkit run` script is not imported yet (its bootstrap listens for no signal, the script
 * is imported in `_init`): SIGTERM's default action ends it now, with nothing to drain. One
 * that handles signals already (its `$hello` is on its way) takes the SIGTERM as a stop signal
 * and gets the `$shutdown` too; one whose own code listens for SIGTERM before `start()` goes on
 * booting and stops on the `$shutdown`, as before.
 */
import type { WorkerRecord } from './worker-record.js';

/** Called by the stop itself (stop-worker.ts), once `$shutdown` is sent: its exit is then an expected one. */
export function endIfUnstarted(record: WorkerRecord): void {
  if (record.hasSaidHello || record.readyAt !== undefined || record.state === 'exited' || record.pid === undefined) return;
  record.isEndedUnstarted = true;
  try {
    record.clusterWorker.process.kill('SIGTERM');
  } catch {
    // Gone already: its exit is on its way, and says so.
  }
}

/** It exited of that SIGTERM: stopped before it was ready, cleanly (nothing of it ran to cut short). */
export function isEndedUnstartedExit(record: WorkerRecord): boolean {
  return record.isEndedUnstarted && record.signal === 'SIGTERM';
}
