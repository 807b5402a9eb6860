/**
 * What the control socket answers to `stop` and `reload`: how the workers stopped, counted as
 * in `ShutdownReport`, so `clusterkit stop|reload` can say it (and never claim "no downtime"
 * when a request was cut off).
 */
import { NamedWorkerStoppedError, ReloadError } from '../errors.js';
import type { ClusterPrimary } from '../primary/cluster-primary.js';
import type { ShutdownReport } from '../primary/primary-events.js';
import { describeKills, describeStopFailures } from '../primary/pool/stop-failure-cause.js';
import { connectionsResetByKills } from '../primary/pool/killed-resets.js';

export interface StopCounts {
  readonly graceful: number;
  readonly failed: number;
  readonly killed: number;
  /** Requests cut off (`ShutdownReport.requestsCut`). */
  readonly requestsCut: number;
  /** A stop's connections reset before any worker took them (`ShutdownReport.connectionsReset`, H358); absent when none. */
  readonly connectionsReset?: number;
  /** Open connections the stop's kills reset, at least (`connectionsResetByKills`, H609); absent when none. */
  readonly killedConnectionsReset?: number;
  /** A stop's restarts cancelled while they waited out their back-off (`ShutdownReport.restartsCancelled`, H454); absent when none. */
  readonly restartsCancelled?: number;
  /** When the stop interrupted the start: the initial workers stopped before they were ready (`ShutdownReport.notStarted`); for a reload, its old workers not ready yet. */
  readonly notStarted?: number;
  /** With a stop's `notStarted`: a start, a failed start, a scale-up or a replacement (`ShutdownReport.interrupted`). */
  readonly interrupted?: ShutdownReport['interrupted'];
  /** Why the `failed` workers did not stop cleanly, when one cause holds for all (H240); else absent. */
  readonly failedCause?: string;
  /** Why the primary killed the `killed` workers, when one reason holds for all (H255): the shutdown timeout, their channel...; else absent. */
  readonly killedCause?: string;
}

export function stopCounts(report: ShutdownReport): StopCounts {
  const failedCause = describeStopFailures(report.failed);
  const killedCause = describeKills(report.killed);
  const counts = {
    graceful: report.graceful.length,
    failed: report.failed.length,
    killed: report.killed.length,
    requestsCut: report.requestsCut,
    ...(report.connectionsReset === undefined ? {} : { connectionsReset: report.connectionsReset }),
    ...killedResetsOf(report),
    ...(report.restartsCancelled === undefined ? {} : { restartsCancelled: report.restartsCancelled }),
    ...(failedCause === undefined ? {} : { failedCause }),
    ...(killedCause === undefined ? {} : { killedCause }),
  };
  if (report.notStarted === undefined) return counts;
  // A reload's old workers not ready yet interrupted nothing (H211): no `interrupted` then.
  return { ...counts, notStarted: report.notStarted.length, ...(report.interrupted === undefined ? {} : { interrupted: report.interrupted }) };
}

/**
 * The workers that crashed, or were killed from outside clusterkit, while a reload ran (its
 * `workerCrash` events): not stopped by the reload, and not in its counts, but said with them.
 * `requestsCut` and `connectionsReset` as those events count them (`isLowerBound`: at least).
 */
export interface ReloadCrashes {
  readonly workers: number;
  readonly requestsCut: number;
  readonly connectionsReset: number;
  readonly isLowerBound?: true;
}

/**
 * Runs `reload` and answers with the workers replaced and how the old ones stopped (from the
 * `reloadComplete` event of that reload; a reload already under way is shared, and so is its
 * event). A request queued behind the reload under way (H374: every replacement of that one was
 * forked before it) answers with the reload that follows, which loads its code: the events of
 * the one under way are not its own.
 */
export async function reloadWithCounts(
  primary: ClusterPrimary,
  reload: () => Promise<unknown>,
): Promise<StopCounts & { workers: number; retired: number; retiredByStopWorker?: number; vacant?: number; vacantCrashed?: number; joined: boolean; queued?: true; refilled?: number; refillsFailed?: number; crashed?: ReloadCrashes }> {
  let stopped: ShutdownReport | undefined;
  let replaced: number | undefined;
  let retired = 0;
  let retiredByStopWorker = 0;
  let vacant = 0;
  let vacantCrashed: number | undefined;
  let joined = false;
  let queued = false;
  // Set once this request's reload began: at once for one it started or joined, at the next `reload` event for a queued one.
  let isOwn = true;
  let refilled = 0;
  let refillsFailed = 0;
  const onComplete = (event: { readonly replaced: number; readonly retired: number; readonly retiredByStopWorker?: number; readonly stopped: ShutdownReport; readonly refillsFailed?: number; readonly vacant?: number; readonly vacantCrashed?: number }) => {
    if (!isOwn) return;
    stopped = event.stopped;
    replaced = event.replaced;
    retired = event.retired;
    retiredByStopWorker = event.retiredByStopWorker ?? 0;
    vacant = event.vacant ?? 0;
    vacantCrashed = event.vacantCrashed;
    refillsFailed = event.refillsFailed ?? 0;
  };
  // Slots given up in a crash loop that the reload started again (H333: from `waiting`, "0 workers replaced" alone hid them).
  const onRefill = (event: { readonly slots: readonly number[] }) => {
    if (isOwn) refilled += event.slots.length;
  };
  // Workers that crashed or were killed from outside while it ran (ops t61: "no request cut off"
  // while a kill -9 during the reload reset 5 connections): not the reload's stops, but said with them.
  // Only those that served before it began: one it started itself (a slot given up in a crash loop
  // started again) that crashes has its own words in the answer (`refillsFailed`).
  let before = new Set(primary.workers.map((worker) => worker.id));
  const crashes = { workers: 0, requestsCut: 0, connectionsReset: 0, isLowerBound: false };
  const onCrash = (event: { readonly worker: { readonly id: number }; readonly lostRequests?: number; readonly isLowerBound?: true; readonly resetConnections?: number }) => {
    if (!isOwn || stopped !== undefined || !before.has(event.worker.id)) return;
    crashes.workers++;
    crashes.requestsCut += event.lostRequests ?? 0;
    crashes.connectionsReset += event.resetConnections ?? 0;
    if (event.isLowerBound === true) crashes.isLowerBound = true;
  };
  // The queued reload starts when the one under way ended: no other reload starts before it.
  const onStart = () => {
    isOwn = true;
    before = new Set(primary.workers.map((worker) => worker.id));
  };
  // Emitted synchronously inside reload() when it joins a reload under way, or is queued after it: only this call's.
  const onJoined = (event: { readonly queued: boolean }) => {
    joined = true;
    queued = event.queued;
    if (queued) {
      isOwn = false;
      primary.once('reload', onStart);
    }
  };
  primary.on('reloadComplete', onComplete);
  primary.on('crashLoopRefill', onRefill);
  primary.on('workerCrash', onCrash);
  primary.on('reloadJoined', onJoined);
  let running: Promise<unknown>;
  try {
    running = reload();
  } finally {
    primary.off('reloadJoined', onJoined);
  }
  try {
    await running;
  } catch (error) {
    // Its failure is the reload's it joined: say so, not as if this request started it. A queued
    // one's is the failure of the reload that loaded its code (or a shutdown's refusal): its own.
    if (!joined || queued) throw error;
    const message = error instanceof Error ? error.message : String(error);
    const counts = error instanceof ReloadError && error.workers !== undefined ? { workers: error.workers, ...(error.replaced === undefined ? {} : { replaced: error.replaced }) } : {};
    throw new ReloadError(`A reload was already under way when this one was requested, so this request joined it, and it failed: ${message}`, { cause: error, ...counts });
  } finally {
    primary.off('reloadComplete', onComplete);
    primary.off('crashLoopRefill', onRefill);
    primary.off('workerCrash', onCrash);
    primary.off('reload', onStart);
  }
  const counts = stopped ? stopCounts(stopped) : { graceful: 0, failed: 0, killed: 0, requestsCut: 0 };
  // The workers this reload replaced, as its log line says: not the count running now, which a
  // scale during the reload changes (a slot it added starts on the new code, replacing nothing).
  const crashed = crashes.workers === 0 ? {} : { crashed: { workers: crashes.workers, requestsCut: crashes.requestsCut, connectionsReset: crashes.connectionsReset, ...(crashes.isLowerBound ? { isLowerBound: true as const } : {}) } };
  return { workers: replaced ?? primary.workers.length, retired, ...(retiredByStopWorker === 0 ? {} : { retiredByStopWorker }), ...(vacant === 0 ? {} : { vacant, ...(vacantCrashed === undefined ? {} : { vacantCrashed }) }), joined: joined && !queued, ...(queued ? { queued: true as const } : {}), ...counts, ...(refilled === 0 ? {} : { refilled }), ...(refillsFailed === 0 ? {} : { refillsFailed }), ...crashed };
}

/** What `scale` answers besides the status: how the surplus workers it stopped went. */
export interface ScaleStops {
  /** Stopped workers that did not stop cleanly (a non-zero exit or a signal). */
  readonly unclean: number;
  /** Requests their stops cut off (`ShutdownReport.requestsCut`). */
  readonly requestsCut: number;
  /** Of `unclean`, those that failed and those the primary killed, with one cause for each kind when one holds for all (as `StopCounts`); only when `unclean` is not 0. */
  readonly failed?: number;
  readonly killed?: number;
  readonly failedCause?: string;
  readonly killedCause?: string;
  /** Removed workers that were not ready yet, stopped before they ever were (`ShutdownReport.notStarted`, H211); only when there was one. */
  readonly notStarted?: number;
  /** As `StopCounts.killedConnectionsReset` (H609). */
  readonly killedConnectionsReset?: number;
  /** With `notStarted`: the ready workers it stopped gracefully, said beside those (H615). */
  readonly graceful?: number;
  /** The count of the last scale asked for while this one ran, if any: the pool is headed there now (H201). */
  readonly laterScale?: number;
  /** A scale-up whose new workers that later scale-down removed before they were ready (`scaleComplete`). */
  readonly supersededBy?: number;
  /** Set when the count asked for was the target already: the scale did nothing (H284). */
  readonly already?: true;
  /** Restarts waiting out their back-off in the slots it removed, cancelled (`ShutdownReport.restartsCancelled`, H714); only when there was one. */
  readonly restartsCancelled?: number;
}

/**
 * Runs `scale` and counts how the workers it stopped went, from its `scaleComplete` report
 * (`scale()` resolves once its surplus workers exited), so `clusterkit scale` can say when a
 * scale-down cut requests off, as `stop` and `reload` do: the same counts as the log line,
 * including what a worker killed during its stop cut (H72). A shutdown that takes over the stops
 * reports them itself (H50): the scale's report leaves them out. Scales overlap: this one's
 * events are those with its `from` and `to` (its `scale` event is emitted as it is called), and
 * the scales asked for meanwhile are said (H201).
 */
export async function scaleWithCounts(primary: ClusterPrimary, scale: () => Promise<unknown>): Promise<ScaleStops> {
  let own: { readonly from: number; readonly to: number } | undefined;
  let laterScale: number | undefined;
  let complete: { readonly stopped: ShutdownReport; readonly supersededBy?: number } | undefined;
  const onScale = (event: { readonly from: number; readonly to: number }) => {
    if (own === undefined) own = event;
    else laterScale = event.to;
  };
  const onComplete = (event: { readonly from: number; readonly to: number; readonly stopped: ShutdownReport; readonly supersededBy?: number }) => {
    if (own !== undefined && event.from === own.from && event.to === own.to) complete = event;
  };
  primary.on('scale', onScale);
  primary.on('scaleComplete', onComplete);
  try {
    await scale();
  } finally {
    primary.off('scale', onScale);
    primary.off('scaleComplete', onComplete);
  }
  const stopped = complete?.stopped;
  const counts = stopped
    ? {
        unclean: stopped.failed.length + stopped.killed.length,
        requestsCut: stopped.requestsCut,
        ...uncleanOf(stopped),
        ...killedResetsOf(stopped),
        ...(stopped.notStarted === undefined ? {} : { notStarted: stopped.notStarted.length, graceful: stopped.graceful.length }),
        ...(stopped.restartsCancelled === undefined ? {} : { restartsCancelled: stopped.restartsCancelled }),
      }
    : { unclean: 0, requestsCut: 0 };
  const stops: ScaleStops = {
    ...counts,
    ...(laterScale === undefined ? {} : { laterScale }),
    ...(complete?.supersededBy === undefined ? {} : { supersededBy: complete.supersededBy }),
    ...(own !== undefined && own.from === own.to ? { already: true as const } : {}),
  };
  // The named workers it stopped, as the primary's warning names them (ERR_NAMED_WORKER_STOPPED),
  // for the answer too: `clusterkit scale` said nothing of them (t60 LOW).
  const named = stopped ? [...stopped.graceful, ...stopped.failed, ...stopped.killed, ...(stopped.notStarted ?? [])].filter((worker) => worker.name !== undefined) : [];
  if (own !== undefined && named.length > 0) {
    const names = named.sort((a, b) => a.slot - b.slot).map((worker) => worker.name!);
    namedStops.set(stops, new NamedWorkerStoppedError(names, own.to, own.from));
  }
  return stops;
}

/** The warning of each scale's answer that stopped named workers, by its counts. */
const namedStops = new WeakMap<ScaleStops, NamedWorkerStoppedError>();

/** The `NamedWorkerStoppedError` the scale counted in `stops` gave (the primary's own warning, worded alike); undefined when it stopped no named worker. */
export function namedStopWarning(stops: ScaleStops): NamedWorkerStoppedError | undefined {
  return namedStops.get(stops);
}

/** A scale's failed and killed workers, with their causes (ops t59: its line now says them, as `stop`'s does). */
function uncleanOf(stopped: ShutdownReport): Pick<ScaleStops, 'failed' | 'killed' | 'failedCause' | 'killedCause'> {
  if (stopped.failed.length + stopped.killed.length === 0) return {};
  const failedCause = describeStopFailures(stopped.failed);
  const killedCause = describeKills(stopped.killed);
  return { failed: stopped.failed.length, killed: stopped.killed.length, ...(failedCause === undefined ? {} : { failedCause }), ...(killedCause === undefined ? {} : { killedCause }) };
}

/**
 * `2 not replaced: a scale-down removed their slots`: the slots of a reload that a scale-down
 * removed before their replacement took over (H191), as the reload's log line and
 * `clusterkit reload` say it. `byStopWorker`: of those, the ones `stopWorker()` removed, named
 * as such (hostile t84, H757: a slot stopWorker() removed was said "a scale-down removed its slot").
 */
export function describeNotReplaced(retired: number, byStopWorker = 0): string {
  const by = Math.min(Math.max(0, byStopWorker), retired);
  const slots = retired === 1 ? 'its slot' : 'their slots';
  if (by === 0) return `${retired} not replaced: a scale-down removed ${slots}`;
  if (by === retired) return `${retired} not replaced: stopWorker() removed ${slots}`;
  return `${retired} not replaced: a scale-down removed ${retired - by} of their slots, stopWorker() ${by}`;
}

/**
 * `1 old worker not stopped by the reload: it crashed or was killed during the reload, not by
 * it, ...`: a reload's slots whose worker it did not stop (`reloadComplete.vacant`, H574), of
 * which `crashed` (`vacantCrashed`) lost a worker running as the reload began, as its log line
 * and `clusterkit reload` say it. Not "not
 * replaced": such a slot's replacement may have taken it over, as the progress line says (retest
 * t63: "not replaced" beside "runs the new code"). Not "exited on its own" either (retest t64 N9:
 * said of a worker killed with SIGKILL).
 */
export function describeVacant(vacant: number, crashed?: number): string {
  const one = vacant === 1;
  // Not "runs": a vacant slot's restart may still be loading or waiting out its back-off as the reload ends (hostile t75 F5).
  const newCode = `any worker started in ${one ? 'its slot' : 'their slots'} since the reload began runs the new code`;
  // Not known (an event from before `vacantCrashed`): both ways said.
  if (crashed === undefined) {
    return `${vacant} old ${one ? 'worker' : 'workers'} not stopped by the reload: ${one ? 'it' : 'they'} crashed or ${one ? 'was' : 'were'} killed before the reload stopped ${one ? 'it' : 'them'} (or had not started yet), and ${newCode}`;
  }
  // Known (retest t67 F8: "(or had not started yet)" of a worker killed during the reload).
  if (crashed === vacant) return `${vacant} old ${one ? 'worker' : 'workers'} not stopped by the reload: ${one ? 'it' : 'they'} crashed or ${one ? 'was' : 'were'} killed during the reload, not by it, and ${newCode}`;
  const before = `had no running worker as the reload began (it had exited or been stopped, or had not started yet)`;
  if (crashed === 0) return `${vacant} ${one ? 'slot' : 'slots'} with no old worker for the reload to stop: ${one ? 'it' : 'each'} ${before}, and ${newCode}`;
  const others = vacant - crashed;
  return (
    `${vacant} old workers not stopped by the reload: ${crashed} crashed or ${crashed === 1 ? 'was' : 'were'} killed during the reload, not by it; ` +
    `the other ${others === 1 ? 'slot' : `${others} slots`} ${before}; ${newCode}`
  );
}

/**
 * `2 worker slots given up in a crash loop started again, 1 of which was given up again or crashed
 * (the crash lines above say why)`: the slots a reload started again (`reloadComplete.refilled`,
 * H259) and, of them, those that failed again (`refillsFailed`, H517), as the reload's log line
 * and the dashboard say them. Newcomer t76: a reload that brought a given-up cluster back said
 * `replaced=0` and nothing else.
 */
export function describeRefilled(refilled: number, refillsFailed = 0): string {
  const failed = Math.min(refillsFailed, refilled);
  const was = failed === 1 ? 'was' : 'were';
  const failedClause =
    failed === 0 ? '' : `, ${failed === refilled ? (refilled === 1 ? `and it ${was}` : `and all of them ${was}`) : `${failed} of which ${was}`} given up again or crashed (the crash lines above say why)`;
  return `${refilled} worker ${refilled === 1 ? 'slot' : 'slots'} given up in a crash loop started again${failedClause}`;
}

/** What a shutdown interrupted (`ShutdownReport.interrupted`, or a stop's answer read from the socket), as lines say it. */
export function describeInterrupted(interrupted: unknown): string {
  if (interrupted === 'scale') return 'a scale-up was interrupted';
  if (interrupted === 'replacement') return 'a worker was still starting';
  if (interrupted === 'failed-start') return 'the start failed';
  return 'the start was interrupted';
}

/** `2 restarts waiting out their back-off were cancelled` (`ShutdownReport.restartsCancelled`, H454), as `clusterkit stop` and the primary's log say it. */
export function describeCancelledRestarts(count: number): string {
  return count === 1 ? '1 restart waiting out its back-off was cancelled' : `${count} restarts waiting out their back-off were cancelled`;
}

/** `{ killedConnectionsReset }` when the report's kills reset open connections (H609), else nothing. */
function killedResetsOf(report: ShutdownReport): { killedConnectionsReset?: number } {
  const reset = report.killedConnectionsReset ?? connectionsResetByKills(report.killed);
  return reset > 0 ? { killedConnectionsReset: reset } : {};
}
