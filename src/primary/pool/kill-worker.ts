/**
 * The primary's SIGKILL of a worker (its stop's timeout, the heartbeat, its channel, its ready
 * timeout, its channel closed without an exit, a forced stop). A SIGKILLed worker cannot end its
 * own processes as it exits (worker/descendants-at-exit.ts), and once it is dead they are
 * init's children, out of its tree: so they are listed first, by pid and start time, and ended
 * at its exit (SIGTERM, then SIGKILL after `kDescendantsGraceMs`: worker-pool.ts) (H140).
 * Linux /proc only; elsewhere nothing is listed.
 *
 * The list is read in time slices (H159): read at once, it held the primary's event loop 0.9 s
 * for a worker with 2 000 processes (tester t21). The worker is not stopped (SIGSTOP) meanwhile:
 * should the primary die before the SIGKILL, a stopped worker would stay so for good, its orphan
 * watchdog stopped with it. It is stopped only for the last look at its children, right before
 * the SIGKILL, in the same turn of the loop (H175).
 */
import { childrenNow, hasNoChildren, isStopped, readProcessTable, readProcessTableNow, treeIn } from '../../worker/process-table.js';
import type { WorkerRecord } from './worker-record.js';

/** How long the list may delay the SIGKILL, in ms: past it the worker is killed with what was read. */
const kListBudgetMs = 2_000;

/**
 * Lists the worker's descendants (`record.descendants`; those in a session of their own,
 * never ended, in `record.ownSessions`: H309), then SIGKILLs it; resolves once the SIGKILL is
 * sent. A second call shares the first.
 */
export function killWorker(record: WorkerRecord): Promise<void> {
  record.isSigkilledByPrimary = true;
  record.killing ??= listThenKill(record);
  return record.killing;
}

/** As `killWorker`, the list read at once: a forced stop, after which the primary exits. */
export function killWorkerNow(record: WorkerRecord): void {
  record.isSigkilledByPrimary = true;
  const { pid } = record.clusterWorker.process;
  if (record.descendants === undefined && pid !== undefined && record.state !== 'exited' && !hasNoChildren(pid)) {
    const tree = treeIn(readProcessTableNow(), [pid]);
    record.descendants = tree.descendants;
    record.ownSessions = tree.ownSessions;
  }
  record.clusterWorker.process.kill('SIGKILL');
}

async function listThenKill(record: WorkerRecord): Promise<void> {
  const child = record.clusterWorker.process;
  const { pid } = child;
  try {
    if (pid !== undefined && record.state !== 'exited' && !hasNoChildren(pid)) {
      const table = await readProcessTable(Date.now() + kListBudgetMs);
      const tree = treeIn(table, [pid]);
      record.descendants ??= tree.descendants;
      record.ownSessions ??= tree.ownSessions;
    }
  } catch {
    // nothing listed: the worker is killed all the same
  } finally {
    // The list took up to kListBudgetMs: a child the worker started meanwhile would be init's
    // at its death (tester t22: a worker forking in a loop left 5 or 6). Stopped, it forks no
    // more, and its children are one cheap look; the SIGKILL follows at once.
    if (pid !== undefined && record.state !== 'exited') stopThenAddChildren(record, pid);
    // A no-op once the worker exited (Node drops a signal to a process it reaped).
    child.kill('SIGKILL');
  }
}

/** How long to wait for a SIGSTOPped worker to be stopped, in ms, before it is looked at anyway. */
const kStopWaitMs = 50;

function stopThenAddChildren(record: WorkerRecord, pid: number): void {
  // Through the ChildProcess: Node sends nothing to a process it has reaped (its pid may be another's).
  if (!record.clusterWorker.process.kill('SIGSTOP')) return;
  // The signal stops the worker as it next leaves the kernel: a fork under way completes first.
  waitStopped(pid, Date.now() + kStopWaitMs);
  const ownSessions: string[] = [];
  const children = childrenNow(pid, ownSessions);
  if (ownSessions.length > 0) record.ownSessions = [...new Set([...(record.ownSessions ?? []), ...ownSessions])];
  if (children.length === 0) return;
  record.descendants = [...new Set([...(record.descendants ?? []), ...children])];
}

/** Polls (1 ms asleep each time) until `pid` is stopped, gone, or `deadline` passed. */
function waitStopped(pid: number, deadline: number): void {
  const sleeper = new Int32Array(new SharedArrayBuffer(4));
  while (Date.now() < deadline && !isStopped(pid)) Atomics.wait(sleeper, 0, 0, 1);
}
