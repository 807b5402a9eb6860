/**
 * The last reload a primary ran, for `clusterkit status` (H529, deploy tester t55 F4): a reload
 * that failed part way leaves the slots it replaced on the new code and the others on the code
 * from before, and `status`, `list`, `show` and `/readyz` all looked healthy, so an operator who
 * missed the reload's own output could not tell that two builds served.
 */
import type { ClusterPrimary } from '../primary/cluster-primary.js';
import { ReloadError } from '../errors.js';

/** How the last reload ended, as `status --json` reports it (`lastReload`). */
export interface LastReload {
  /** `complete`, or `failed` (a replacement failed, or a shutdown cut it short); a reload superseded by a newer `--watch` change is not recorded: its successor is. */
  readonly outcome: 'complete' | 'failed';
  /** When it began and ended (ms since the epoch). */
  readonly startedAt: number;
  readonly endedAt: number;
  /** The workers it was to replace, and those it replaced (a replacement took over its slot). */
  readonly workers: number;
  readonly replaced: number;
  /** For `failed`: the reload's error message. */
  readonly error?: string;
  /**
   * For `failed`: the reloads that failed in a row, this one the last (since the last that
   * completed, or the start), and when the first of them began (ms since the epoch). A live
   * worker started before `firstFailedAt` runs the code from before them all; the others run
   * code one of them loaded, which may differ from worker to worker (H548).
   */
  readonly failedInRow?: number;
  readonly firstFailedAt?: number;
  /**
   * For `failed`: reloads superseded by a newer `--watch` change after they had replaced some
   * workers, since the last that completed, before this one; absent for none. Those workers run
   * the superseded reload's code: `firstFailedAt` is when the first of them began (hostile t58).
   */
  readonly supersededInRow?: number;
}

const records = new WeakMap<ClusterPrimary, LastReload>();

/** Records `primary`'s reloads from now on (its event recording calls it); returns the function that stops. */
export function trackLastReload(primary: ClusterPrimary): () => void {
  let running: { startedAt: number; workers: number; replaced: number } | undefined;
  // The failed reloads since the last that completed: after two, a worker may run either's code.
  // A reload superseded after it replaced workers is part of the row: they run its code (hostile t58).
  let failedRow: { count: number; firstAt: number; superseded: number } | undefined;
  const onReload = ({ workers }: { readonly workers: number }) => (running = { startedAt: Date.now(), workers, replaced: 0 });
  // A replacement that took over its slot, during the reload (a memory replacement between reloads is none of its).
  const onSlotChange = ({ reason }: { readonly reason: string }) => {
    if (running !== undefined && reason === 'replace') running.replaced++;
  };
  const onComplete = ({ replaced }: { readonly replaced: number }) => {
    if (running !== undefined) records.set(primary, { outcome: 'complete', startedAt: running.startedAt, endedAt: Date.now(), workers: running.workers, replaced });
    running = undefined;
    failedRow = undefined;
  };
  const onFailed = ({ error }: { readonly error: Error }) => {
    // The reload's own count (`ReloadError.replaced`, the one its message gives): a slot whose
    // old worker crashed during the reload is replaced with no `replace` slot change (retest
    // t55 R2: `replaced: 1` beside an error saying 2 of 2).
    const replaced = running === undefined ? 0 : error instanceof ReloadError && error.replaced !== undefined ? error.replaced : running.replaced;
    if (running !== undefined && error instanceof ReloadError && error.isSuperseded) {
      // Superseded by a newer save (H388): no failure of the code, and the next reload follows at
      // once. The workers it replaced run its code, though, whatever the next one does: after a
      // failed next one, "every worker still runs the code from before it" hid two builds (hostile t58).
      if (replaced > 0) failedRow = { count: failedRow?.count ?? 0, firstAt: failedRow?.firstAt ?? running.startedAt, superseded: (failedRow?.superseded ?? 0) + 1 };
    } else if (running !== undefined) {
      failedRow = failedRow === undefined ? { count: 1, firstAt: running.startedAt, superseded: 0 } : { count: failedRow.count + 1, firstAt: failedRow.firstAt, superseded: failedRow.superseded };
      records.set(primary, {
        outcome: 'failed',
        startedAt: running.startedAt,
        endedAt: Date.now(),
        workers: running.workers,
        replaced,
        error: error.message,
        failedInRow: failedRow.count,
        firstFailedAt: failedRow.firstAt,
        ...(failedRow.superseded > 0 ? { supersededInRow: failedRow.superseded } : {}),
      });
    }
    running = undefined;
  };
  primary.on('reload', onReload);
  primary.on('slotChange', onSlotChange);
  primary.on('reloadComplete', onComplete);
  primary.on('reloadFailed', onFailed);
  return () => {
    primary.off('reload', onReload);
    primary.off('slotChange', onSlotChange);
    primary.off('reloadComplete', onComplete);
    primary.off('reloadFailed', onFailed);
  };
}

/** The last reload `primary` ran since its events were recorded, if any. */
export function lastReloadOf(primary: ClusterPrimary): LastReload | undefined {
  return records.get(primary);
}
