/**
 * What the control socket answers to `stop` and `reload`: how the workers stopped, counted as
 * in `ShutdownReport`, so `clusterkit stop|reload` can say it (and never claim "no downtime"
 * when a request was cut off).
 */
import type { ClusterPrimary } from '../primary/cluster-primary.js';
import type { ShutdownReport } from '../primary/primary-events.js';

export interface StopCounts {
  readonly graceful: number;
  readonly failed: number;
  readonly killed: number;
  /** Requests cut off (`ShutdownReport.requestsCut`). */
  readonly requestsCut: number;
}

export function stopCounts(report: ShutdownReport): StopCounts {
  return { graceful: report.graceful.length, failed: report.failed.length, killed: report.killed.length, requestsCut: report.requestsCut };
}

/**
 * Runs `reload` and answers with the workers replaced and how the old ones stopped (from the
 * `reloadComplete` event of that reload; a reload already under way is shared, and so is its event).
 */
export async function reloadWithCounts(primary: ClusterPrimary, reload: () => Promise<void>): Promise<StopCounts & { workers: number }> {
  let stopped: ShutdownReport | undefined;
  const onComplete = (event: { readonly stopped: ShutdownReport }) => (stopped = event.stopped);
  primary.on('reloadComplete', onComplete);
  try {
    await reload();
  } finally {
    primary.off('reloadComplete', onComplete);
  }
  const counts = stopped ? stopCounts(stopped) : { graceful: 0, failed: 0, killed: 0, requestsCut: 0 };
  return { workers: primary.workers.length, ...counts };
}

/** What `scale` answers besides the status: how the surplus workers it stopped went. */
export interface ScaleStops {
  /** Stopped workers that did not stop cleanly (a non-zero exit or a signal). */
  readonly unclean: number;
  /** Requests they cut off at their shutdown deadline. */
  readonly requestsCut: number;
}

/**
 * Runs `scale` and counts how the workers it stopped went, from the events of the call's
 * duration (`scale()` resolves once its surplus workers exited), so `clusterkit scale` can say
 * when a scale-down cut requests off, as `stop` and `reload` do.
 */
export async function scaleWithCounts(primary: ClusterPrimary, scale: () => Promise<unknown>): Promise<ScaleStops> {
  let unclean = 0;
  let requestsCut = 0;
  const onExit = (event: { readonly code: number | null; readonly signal: NodeJS.Signals | null; readonly expected: boolean }) => {
    if (event.expected && (event.code !== 0 || event.signal !== null)) unclean += 1;
  };
  const onCut = (event: { readonly openRequests: number }) => (requestsCut += event.openRequests);
  primary.on('workerExit', onExit);
  primary.on('workerRequestsCut', onCut);
  try {
    await scale();
  } finally {
    primary.off('workerExit', onExit);
    primary.off('workerRequestsCut', onCut);
  }
  return { unclean, requestsCut };
}
