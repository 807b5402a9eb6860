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
}

const records = new WeakMap<ClusterPrimary, LastReload>();

/** Records `primary`'s reloads from now on (its event recording calls it); returns the function that stops. */
export function trackLastReload(primary: ClusterPrimary): () => void {
  let running: { startedAt: number; workers: number; replaced: number } | undefined;
  const onReload = ({ workers }: { readonly workers: number }) => (running = { startedAt: Date.now(), workers, replaced: 0 });
  // A replacement that took over its slot, during the reload (a memory replacement between reloads is none of its).
  const onSlotChange = ({ reason }: { readonly reason: string }) => {
    if (running !== undefined && reason === 'replace') running.replaced++;
  };
  const onComplete = ({ replaced }: { readonly replaced: number }) => {
    if (running !== undefined) records.set(primary, { outcome: 'complete', startedAt: running.startedAt, endedAt: Date.now(), workers: running.workers, replaced });
    running = undefined;
  };
  const onFailed = ({ error }: { readonly error: Error }) => {
    // Superseded by a newer save (H388): no failure of the code, and the next reload follows at once.
    if (running !== undefined && !(error instanceof ReloadError && error.isSuperseded)) {
      // The reload's own count (`ReloadError.replaced`, the one its message gives): a slot whose
      // old worker crashed during the reload is replaced with no `replace` slot change (retest
      // t55 R2: `replaced: 1` beside an error saying 2 of 2).
      const replaced = error instanceof ReloadError && error.replaced !== undefined ? error.replaced : running.replaced;
      records.set(primary, { outcome: 'failed', startedAt: running.startedAt, endedAt: Date.now(), workers: running.workers, replaced, error: error.message });
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
