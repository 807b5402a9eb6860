/**
 * The processes each live worker has, as last seen (H295): what the primary ends at the exit of a
 * worker that died of a signal it did not send itself or could not prepare for. A worker that
 * runs out of V8 heap, calls `process.abort()`, segfaults, or is `kill -9`ed or OOM-killed from
 * outside runs no more code: its own cleanup (worker/descendants-at-exit.ts) never comes, and
 * once it is dead its children are init's, out of its tree. A crash loop left one `sleep` per
 * restart, surviving `clusterkit stop`.
 *
 * Refreshed at each heartbeat tick, cheaply: a worker whose threads list no child costs a few
 * small reads; the whole process table is read (in time slices) at most once per tick and only
 * when some worker has a child, and never while the last read is still under way. Linux only.
 */
import { hasNoChildren, isZombie, readProcessTable, statFields, treeIn } from '../../worker/process-table.js';
import type { WorkerRecord } from './worker-record.js';

/** How long one read of the table may take, in ms: past it the rest of the machine's processes are left out. */
const kReadBudgetMs = 2_000;

export class DescendantSnapshots {
  #isReading = false;

  /** Takes a new snapshot of each live worker's descendants (`record.descendantsSeen`). */
  refresh(records: Iterable<WorkerRecord>): void {
    if (process.platform !== 'linux' || this.#isReading) return;
    const withChildren: WorkerRecord[] = [];
    for (const record of records) {
      const { pid } = record;
      if (pid === undefined || record.state === 'exited' || !isRunning(pid)) continue;
      if (hasNoChildren(pid)) {
        record.descendantsSeen = undefined;
        record.ownSessionsSeen = undefined;
      } else withChildren.push(record);
    }
    if (withChildren.length === 0) return;
    this.#isReading = true;
    void readProcessTable(Date.now() + kReadBudgetMs)
      .then((table) => {
        for (const record of withChildren) {
          // Exited meanwhile: what it had was ended (or not) at its exit, from the last snapshot.
          // Dead already, its exit not yet read: its children are init's now and out of its tree,
          // so the last snapshot is what names them. (A zombie is not in the table.)
          if (record.state === 'exited' || record.pid === undefined || !table.sessions.has(record.pid)) continue;
          const { descendants, ownSessions } = treeIn(table, [record.pid]);
          record.descendantsSeen = descendants.length > 0 ? descendants : undefined;
          // Never ended: named at its exit by a signal, if still running (H309).
          record.ownSessionsSeen = ownSessions.length > 0 ? ownSessions : undefined;
        }
      })
      .catch(() => {}) // nothing read: the last snapshot stays
      .finally(() => {
        this.#isReading = false;
      });
  }
}

/** Whether `pid` still runs: a dead worker not yet reaped (a zombie) lists no children any more, its snapshot stays. */
function isRunning(pid: number): boolean {
  return statFields(pid) !== undefined && !isZombie(pid);
}
