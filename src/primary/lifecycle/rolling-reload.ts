/**
 * Zero-downtime replacement of workers: fork the replacement, wait until it is ready (and
 * listening, if the old one was) and, with `minReadyMs`, until it stayed up that long, then stop
 * the old one gracefully. Never the other way round: killing first drops connections (in
 * round-robin mode the primary even closes the listening socket when its last worker leaves).
 */
import { describeExit, ReloadError, ReloadInterruptedError, WorkerExitedError } from '../../errors.js';
import { formatElapsed, formatUptime } from '../../duration.js';
import { describeUncaughtError } from '../pool/crash-notice.js';
import { settleWithin } from '../../wait.js';
import { toError } from '../../to-error.js';
import type { WorkerHandle } from '../pool/worker-handle.js';
import type { PrimaryContext } from '../primary-context.js';
import type { Slot } from '../pool/slot.js';
import { stopAll, stopWorker } from '../pool/stop-worker.js';
import { kMaxLoweredMs, lowerWhileBooting } from '../pool/startup-priority.js';
import type { WorkerRecord } from '../pool/worker-record.js';
import type { ReloadReport, ReloadRequester, ShutdownReport } from '../primary-events.js';
import { withNotStarted } from './not-started.js';
import { isSilent, silenceOf } from '../pool/silence.js';
import { deferred } from '../../deferred.js';
import { kDefaultStartupWindowMs } from '../primary-options.js';
import { historyAtTakeover } from '../pool/restart-policy.js';
import { nothingServesError, refillGivenUp, type RefillOutcome } from './refill-given-up.js';
import { describeHeapFigures, heapPressureOf, kGcNearLimit } from '../pool/heap-pressure.js';

/** How long a failed replacement may take to go away. */
const kFailedReplacementStopMs = 2_000;

/** How far behind Date.now() a file's mtime may be: Linux stamps it from a coarse clock (a tick, 4 ms at 250 Hz). */
const kMtimeSlackMs = 20;

/** A newer change of the watched files (`--watch`, H388): what `ReloadProgress.supersede()` is told. */
export interface SupersedingChange {
  /** The changed files, as shown (relative to the working directory), for the log line. */
  readonly files: readonly string[];
  /**
   * When the change was written (its newest mtime, ms since the epoch), if known: a replacement
   * forked after it loaded that change already, and is not superseded for it.
   */
  readonly changedAt?: number | undefined;
}

/** The failures of replacements that were ready, then exited or went silent within `minReadyMs`. */
const notStayedUp = new WeakSet<Error>();

/** Whether `error` is the failure of a replacement that became ready but did not stay up `minReadyMs` (H360). */
export function isNotStayedUp(error: unknown): boolean {
  return error instanceof Error && notStayedUp.has(error);
}

/** The failures of replacements the primary's code stopped with stopWorker() (H724, H743). */
const stoppedByStopWorker = new WeakSet<Error>();

/** Whether `error` says a replacement was stopped by stopWorker() before it took its slot over: no failure to start (H743). */
export function isStoppedByStopWorker(error: unknown): boolean {
  return error instanceof Error && stoppedByStopWorker.has(error);
}

/** What a reload takes from the primary's context, and whether the primary still runs. */
export type ReloadContext = Pick<PrimaryContext, 'pool' | 'options' | 'emit'> & {
  readonly isRunning: () => boolean;
  /** Resolves as the primary begins shutting down: a replacement's `minReadyMs` is not waited out then (H349). */
  readonly whenStopping: Promise<void>;
};

/**
 * How far a rolling reload got (H374): the slots it replaces, and how many of them had their
 * replacement forked. A `reload()` asked for once every replacement was forked would load
 * nothing new by joining it: it is queued instead (primary-lifecycle.ts).
 */
export class ReloadProgress {
  #slots: readonly Slot[] = [];
  /** Index in `#slots` of the first slot whose replacement was not forked yet. */
  #next = 0;
  /** The replacement forked that is not ready yet (or not listening as the worker it replaces): what a newer change supersedes (H388). */
  #starting: WorkerRecord | undefined;
  readonly #superseded = deferred<SupersedingChange>();

  /** @internal Set by `rollingReload` as it begins. */
  begin(slots: readonly Slot[]): void {
    this.#slots = slots;
    this.#next = 0;
  }

  /** @internal The replacement of the slot at `index` is being forked (or the slot needs none): those before it too. */
  forking(index: number): void {
    this.#next = Math.max(this.#next, index + 1);
  }

  /** @internal Every slot had its turn (the reload waits out the startup window, or ended). */
  end(): void {
    this.#next = this.#slots.length;
  }

  /** True while a slot still in the pool waits for its turn: its replacement will be forked from the code on disk then. */
  get hasUnforked(): boolean {
    return this.#slots.slice(this.#next).some((slot) => !slot.isRetired);
  }

  /** True once a slot had its turn: its replacement was forked from the code on disk then, before any request that comes now. */
  get hasForked(): boolean {
    return this.#next > 0;
  }

  /** @internal `record` is the replacement starting now (undefined: none, it took over or failed). */
  starting(record: WorkerRecord | undefined): void {
    this.#starting = record;
  }

  /** @internal Resolves when a newer change superseded the reload (H388). */
  get whenSuperseded(): Promise<SupersedingChange> {
    return this.#superseded.promise;
  }

  /**
   * A newer change of the watched files came (`--watch`, H388): when a replacement forked before
   * it is still starting (not ready, or not listening as the worker it replaces), that
   * replacement runs the code from before the change (or a file caught half written) and the
   * reload is superseded: the replacement is stopped at once and the reload ends with a
   * `ReloadError` whose `isSuperseded` is true. Returns whether it did; false when no
   * replacement is starting (the change waits for the reload's end, as before).
   */
  supersede(change: SupersedingChange): boolean {
    const starting = this.#starting;
    if (starting === undefined || starting.state === 'exited' || this.#superseded.isSettled) return false;
    // Written before the replacement was forked: the replacement loaded it.
    if (change.changedAt !== undefined && change.changedAt < starting.startedAt - kMtimeSlackMs) return false;
    this.#superseded.resolve(change);
    return true;
  }
}

/**
 * Replaces every worker, one slot at a time. Rejects with `ReloadError` at the first failure.
 * `env`: the workers' new `env` option (H336), for every fork while the reload runs (the
 * replacements, and restarts and scale-ups too); in force from then on only when the reload
 * completes (H340): a reload that fails puts the env from before back for every later fork (a
 * new env that makes the app throw, or that the kernel refuses, E2BIG, would otherwise crash-loop
 * every later restart and plain reload), and its error says how many live workers started with
 * the new one (they keep it until they are replaced).
 */
export async function rollingReload(
  context: ReloadContext,
  requestedBy: ReloadRequester = 'call',
  env?: Readonly<Record<string, string | undefined>>,
  progress = new ReloadProgress(),
): Promise<ReloadReport> {
  const slots = [...context.pool.slots].filter((slot) => !slot.isRetired);
  // The workers that ran the code from before: one a slot started since (a crash's restart) runs
  // the reload's code already, and is not replaced again (retest t59: a needless second start).
  const fromBefore = new Set(slots.map((slot) => slot.current));
  // Each slot's worker running as the reload began: a vacant slot whose worker is one of them
  // lost it during the reload (a crash, a kill), not before it (retest t67 F8).
  const runningAtBegin = new Map(slots.map((slot) => [slot, slot.current !== undefined && slot.current.state !== 'exited' ? slot.current : undefined]));
  progress.begin(slots);
  const before = context.pool.env;
  const changed = env === undefined ? undefined : envChanges(before, env);
  if (env !== undefined) context.pool.env = env;
  context.emit('reload', { workers: slots.length, requestedBy, ...(changed === undefined ? {} : { env: changed }) });
  let replaced = 0;
  // Slots a scale-down removed before or during their turn: said, not left out of the count (H191).
  let retired = 0;
  // Of those, the slots stopWorker() removed: said as such, not "a scale-down" (hostile t84, H757).
  let retiredByStopWorker = 0;
  // Slots with no worker running at their turn: started with the new code, nothing replaced (H574).
  let vacant = 0;
  // Of `vacant`: those whose worker was running as the reload began.
  let vacantCrashed = 0;
  const noteVacant = (slot: (typeof slots)[number]): void => {
    vacant++;
    const first = runningAtBegin.get(slot);
    // Not asked to stop by anyone (the reload, stopWorker(), a memory limit): it died.
    if (first !== undefined && !first.isAskedToStop) vacantCrashed++;
  };
  const stopped = { graceful: [] as WorkerHandle[], failed: [] as WorkerHandle[], killed: [] as WorkerHandle[], requestsCut: 0 };
  const notStarted: WorkerHandle[] = [];
  // The replacements that took over their slot: one that exits on its own before the reload
  // ended stops it, without `minReadyMs` too (H365).
  // A new env (`--update-env`) is put back at a failure: a slot's restart then gets the one from before.
  const taken = new TakenReplacements(slots.length, () => replaced, changed !== undefined && changed.changed.length > 0);
  let refill: RefillOutcome | undefined;
  try {
    for (const [index, slot] of slots.entries()) {
      if (!context.isRunning()) {
        throw reloadError(`The reload stopped because the primary is shutting down; ${replaced} of ${slots.length} workers were replaced.`, { isShutdown: true });
      }
      taken.throwIfOneExited(context);
      // Its replacement is forked synchronously in replaceInSlot: a reload() asked for from now on no longer loads its code in this slot.
      progress.forking(index);
      // A worker the slot started during the reload (a crash's restart) runs its code already:
      // vacant, not replaced again (retest t59b).
      const old = slot.current;
      if (!slot.isRetired && old !== undefined && old.state !== 'exited' && !fromBefore.has(old)) {
        noteVacant(slot);
        continue;
      }
      const report = slot.isRetired ? undefined : await replaceInSlot(context, slot, `${replaced} of ${slots.length} workers were replaced`, true, taken, progress);
      // Scaled away (or stopped) before its turn or while its replacement started: nothing left to replace there.
      if (report === undefined) {
        retired++;
        if (slot.isRemovedByStopWorker) retiredByStopWorker++;
        continue;
      }
      for (const outcome of ['graceful', 'failed', 'killed'] as const) stopped[outcome].push(...report[outcome]);
      notStarted.push(...(report.notStarted ?? []));
      stopped.requestsCut += report.requestsCut;
      // Replaced: its old worker was asked to stop (by the reload, or by a shutdown that took its stop
      // over). One that exited on its own before its turn or while its replacement started
      // (retest t59) never was.
      if (old !== undefined && old.isAskedToStop) replaced++;
      else noteVacant(slot);
    }
    progress.end();
    // The shutdown took over the stop of the last old worker (it reports it): not a complete reload.
    if (!context.isRunning()) {
      throw reloadError(`The reload stopped because the primary is shutting down; ${replaced} of ${slots.length} workers were replaced, and the shutdown stopped the old ones still draining.`, {
        isShutdown: true,
      });
    }
    // The last replacement too: it took over, then crashed while the old worker drained (H365).
    taken.throwIfOneExited(context);
    // A build that crashes soon after ready, in a reload quicker than its crash (retest t37 N1):
    // the reload ends only once every replacement outlived the startup window (H371).
    const windowMs = startupWindowOf(context.options);
    const waitedMs = await taken.outliveStartupWindow(context, windowMs);
    const window = `the ${formatElapsed(windowMs)} startup window ${context.options.restart === false ? '(the default of restart.startupWindowMs; restarts are off)' : '(restart.startupWindowMs)'}`;
    if (!context.isRunning()) {
      throw reloadError(
        `The reload stopped because the primary began shutting down while it waited for its replacements to stay up ${window}; ${replaced} of ${slots.length} workers were replaced, and the shutdown stops them.`,
        { isShutdown: true },
      );
    }
    taken.throwIfOneExited(context, undefined, waitedMs === 0 ? undefined : ` while it waited for its replacements to stay up ${window}`);
    // The new code stayed up: the slots given up in a crash loop start again with it (H259), and
    // the reload ends once they stayed up the window too, or failed (H517).
    refill = await refillGivenUp(context, windowMs);
    if (!context.isRunning()) {
      throw reloadError(`The reload stopped because the primary began shutting down while it waited for the worker slots it started again to stay up ${window}; ${replaced} of ${slots.length} workers were replaced.`, {
        isShutdown: true,
      });
    }
    // With no worker replaced, they were its only proof of the new code: none up, nothing serves.
    if (refill !== undefined && replaced + vacant === 0 && refill.failures.length === refill.slots.length) throw nothingServesError(refill, windowMs);
  } catch (error) {
    progress.end();
    // Its counts, as its message gives them: \`status\` reads them (last-reload.ts), not the message.
    const counts = { workers: slots.length, replaced };
    let failure =
      error instanceof ReloadError
        ? withCounts(error, counts)
        : reloadError(toError(error).message, { cause: error, isShutdown: !context.isRunning(), ...counts });
    if (env !== undefined && context.pool.env === env) {
      // The env from before is in force again (H340): this one was never applied in full.
      context.pool.env = before;
      if (changed !== undefined && changed.changed.length > 0) {
        const started = [...context.pool.records].filter((record) => record.env === env && record.state !== 'exited').length;
        // Not "no worker started with it": the replacement whose failure this is did (ops t63: it failed of the new env).
        const already = started === 0 ? 'no worker runs with the new one now' : `${started} ${started === 1 ? 'worker' : 'workers'} started with the new one ${started === 1 ? 'runs' : 'run'} on, and ${started === 1 ? 'keeps it until it is' : 'keep it until they are'} replaced`;
        failure = reloadError(`${failure.message} The env in force is still the one from before (every later fork gets it); ${already}.`, {
          cause: failure.cause,
          isShutdown: failure.isShutdown,
          isSuperseded: failure.isSuperseded,
          isNothingServing: failure.isNothingServing,
          ...counts,
        });
      }
    }
    context.emit('reloadFailed', { error: failure });
    throw failure;
  }
  const refilled = refill?.slots.length ?? 0;
  const refillsFailed = refill?.failures.length ?? 0;
  const report: ReloadReport = { replaced, retired, ...(retiredByStopWorker === 0 ? {} : { retiredByStopWorker }), stopped: notStarted.length === 0 ? stopped : { ...stopped, notStarted }, ...(refilled === 0 ? {} : { refilled }), ...(refillsFailed === 0 ? {} : { refillsFailed }), ...(vacant === 0 ? {} : { vacant, vacantCrashed }) };
  context.emit('reloadComplete', report);
  return report;
}

/**
 * A `ReloadError`, or with `isShutdown` its subclass `ReloadInterruptedError` (hostile t85 #3): a
 * reload the primary's stop cut short has a code of its own, not the new code's failure.
 */
function reloadError(message: string, options: ConstructorParameters<typeof ReloadError>[1] & {}): ReloadError {
  if (options.isShutdown !== true) return new ReloadError(message, options);
  const { isShutdown: _shutdown, isSuperseded: _superseded, isNothingServing: _nothing, ...rest } = options;
  return new ReloadInterruptedError(message, rest);
}

/** `error` with the reload's counts: itself when it has them, else a copy with them (the same message, flags and cause). */
function withCounts(error: ReloadError, counts: { workers: number; replaced: number }): ReloadError {
  if (error.workers !== undefined) return error;
  const copy = reloadError(error.message, { cause: error.cause, isShutdown: error.isShutdown, isSuperseded: error.isSuperseded, isNothingServing: error.isNothingServing, ...counts });
  copy.stack = error.stack;
  return copy;
}

/**
 * The variables whose value differs between two `env` options, sorted: `changed` all of them (as
 * before), `added` and `removed` those the new one sets or removes (LOW, retest t35: an added or
 * removed variable was said "changed").
 */
export function envChanges(before: Readonly<Record<string, string | undefined>>, after: Readonly<Record<string, string | undefined>>): { changed: string[]; added: string[]; removed: string[] } {
  const changed = changedNames(before, after);
  const isSet = (env: Readonly<Record<string, string | undefined>>, name: string) => Object.hasOwn(env, name) && env[name] !== undefined;
  return { changed, added: changed.filter((name) => !isSet(before, name) && isSet(after, name)), removed: changed.filter((name) => isSet(before, name) && !isSet(after, name)) };
}

/** The variables whose value differs between two `env` options (one set, changed, or removed), sorted. */
export function changedNames(before: Readonly<Record<string, string | undefined>>, after: Readonly<Record<string, string | undefined>>): string[] {
  const names = new Set([...Object.keys(before), ...Object.keys(after)]);
  return [...names].filter((name) => before[name] !== after[name] || Object.hasOwn(before, name) !== Object.hasOwn(after, name)).sort();
}

/** Replaces one worker the same way (used when it exceeds `maxMemoryMb`). */
export async function replaceWorker(context: ReloadContext, record: WorkerRecord): Promise<void> {
  if (record.slot.current !== record || record.slot.isRetired) return;
  await replaceInSlot(context, record.slot, 'the old worker keeps running');
}

/**
 * Replaces the worker of `slot`; resolves with how the worker(s) it replaced stopped, or with
 * undefined when the slot was retired (a scale-down, a stop) while the replacement started.
 * `restartsWait` (a reload, H345): a crash restart of the slot that comes due while the
 * replacement starts waits for it, and runs only if it fails: the slot never runs the restart's
 * worker and the replacement together. A memory replacement leaves its restart in place (H163).
 * `taken` (a reload, H365): the replacements that took over before; one that exits on its own
 * meanwhile ends this one's start, which is stopped, and fails the reload.
 */
async function replaceInSlot(
  context: ReloadContext,
  slot: Slot,
  progress: string,
  restartsWait = false,
  taken?: TakenReplacements,
  reload?: ReloadProgress,
): Promise<ShutdownReport | undefined> {
  const { pool, options } = context;
  const old = slot.current;
  // A slot of a scale-up under way gets its first worker from the new code anyway.
  if (old === undefined) return { graceful: [], failed: [], killed: [], requestsCut: 0 };
  const incoming = pool.launch(slot, true);
  reload?.starting(incoming);
  if (restartsWait) slot.beginReplacing(incoming);
  const endReplacing = (): void => {
    if (restartsWait) slot.endReplacing();
  };
  // It boots on CPU the serving workers leave, and gets their priority back once ready.
  const restorePriority = lowerWhileBooting(incoming.pid, Math.min(kMaxLoweredMs, options.readyTimeoutMs / 4));
  // Set while it serves beside the old worker for `minReadyMs` (H349).
  let isProving = false;
  // A replacement that took over earlier in this reload exits on its own: this one's start ends (H365).
  const earlierExit = taken?.whenOneExits.then((record) => {
    throw new EarlierReplacementExit(record);
  });
  earlierExit?.catch(() => {});
  // A newer change of the watched files while it starts (H388): it runs stale code, and goes.
  const superseded = reload?.whenSuperseded.then((change) => {
    throw new Superseded(change);
  });
  superseded?.catch(() => {});
  const orSuperseded = async <T>(promise: Promise<T>): Promise<T> => (superseded === undefined ? promise : Promise.race([promise, superseded]));
  const orEarlierExit = async <T>(promise: Promise<T>): Promise<T> => (earlierExit === undefined ? promise : Promise.race([promise, earlierExit]));
  try {
    // Rejects at its exit before ready, with how it exited (worker-pool.ts).
    await orSuperseded(orEarlierExit(incoming.whenReady.promise));
    restorePriority?.();
    if (old?.isListening && !incoming.isListening) {
      // Its exit ends the wait at once: a new version that crashes at startup is the most common bad deploy.
      await orSuperseded(orEarlierExit(settleWithin(Promise.race([incoming.whenListening.promise, incoming.whenExited.promise]), options.readyTimeoutMs)));
      if (incoming.state === 'exited' && incoming.stopRequested) throw new Error(`${incoming.describe()} was stopped by the primary before it listened`);
      if (incoming.state === 'exited') {
        throw new Error(`${incoming.describe()} ${describeExit(incoming.exitCode, incoming.signal, incoming.pid)} after it was ready, before it listened`);
      }
      if (!incoming.isListening) throw new Error(`it was ready but did not listen within ${options.readyTimeoutMs} ms, unlike the worker it replaces`);
    }
    // Ready (and listening as the old one was): no longer superseded; a newer change waits for the reload's end.
    reload?.starting(undefined);
    // A replacement that exits right after ready with nothing to listen for is no replacement either.
    if (incoming.state === 'exited') throw new Error(`${incoming.describe()} ${describeExit(incoming.exitCode, incoming.signal, incoming.pid)} right after it was ready`);
    // A build that crashes soon after ready (a lazy import, its first request, a timer) would
    // otherwise replace every good worker in turn (H349): it must stay up `minReadyMs` first,
    // serving beside the old worker, which stops only then. Its restart waits as during its start.
    if (options.minReadyMs > 0 && context.isRunning() && !slot.isRetired) {
      isProving = true;
      await orEarlierExit(staysUp(context, incoming, old, options.minReadyMs));
    }
    // Between its ready and its takeover: an earlier replacement's exit counts as during the waits.
    const exited = taken?.firstExited();
    if (exited !== undefined) throw new EarlierReplacementExit(exited);
    // Stopped by stopWorker() while it served beside the old worker: it never takes the slot over.
    if (incoming.isStoppedAsReplacement) throw new Error(`${incoming.describe()} was stopped by stopWorker()`);
  } catch (error) {
    reload?.starting(undefined);
    restorePriority?.();
    try {
      // A ready replacement stopped for an earlier one's exit may be serving: it drains as a worker does.
      const stopMs = error instanceof EarlierReplacementExit && incoming.readyAt !== undefined ? options.shutdownTimeoutMs : kFailedReplacementStopMs;
      await stopWorker(pool, incoming, stopMs);
    } finally {
      // Gone: a restart that came due meanwhile runs now.
      endReplacing();
    }
    // A scale-down stops the replacements of the slots it removes: no failure of the new code.
    if (slot.isRetired && context.isRunning()) return undefined;
    const reason = toError(error).message;
    // A shutdown that began meanwhile stopped the replacement: that, not the replacement, ended the reload.
    if (!context.isRunning()) {
      // The shutdown stopped the replacement: its exit says nothing about the new code.
      const what = incoming.stopRequested ? 'it was stopped with the other workers' : reason;
      const doing = isProving ? `staying up its ${options.minReadyMs} ms ("minReadyMs")` : 'starting';
      throw reloadError(`The reload stopped because the primary began shutting down while the replacement for worker slot ${slot.index} was ${doing} (${what}); ${progress}.`, {
        cause: error,
        isShutdown: true,
      });
    }
    if (error instanceof EarlierReplacementExit) {
      throw taken!.failure(context, error.record, `the replacement for worker slot ${slot.index}, starting then, was stopped`);
    }
    // Stopped by the primary's code (hostile t83 #1): no failure of the new code, and no slot removed.
    if (incoming.isStoppedAsReplacement) {
      const keeps = old.state === 'exited' ? `slot ${slot.index} starts a worker again as after a crash` : `slot ${slot.index} keeps ${old.describe()}, which runs the code from before`;
      const stopped = new ReloadError(`The replacement for worker slot ${slot.index}, ${incoming.describe()}, was stopped by stopWorker() before it took the slot over, so the reload stopped; ${progress}; ${keeps}. Reload again to replace it.`, { cause: error });
      stoppedByStopWorker.add(stopped);
      throw stopped;
    }
    if (error instanceof Superseded) {
      // Not the new code's failure: the old worker of this slot, and those not replaced, serve on.
      const { files } = error.change;
      const shown = files.length <= 3 ? files.join(', ') : `${files.slice(0, 3).join(', ')} and ${files.length - 3} more`;
      // Newcomer t87 #18: with none replaced, "they keep serving ... and the old workers keep serving" said one thing twice.
      const serving = progress.startsWith('0 of ')
        ? `${progress}: every old worker keeps serving`
        : `${progress} (they run the code from before that change until the reload for the change replaces them again), and the old workers of slot ${slot.index} and of the slots not reached keep serving`;
      throw new ReloadError(
        `${shown || 'a watched file'} changed (written, made or removed) while the replacement for worker slot ${slot.index}, ${incoming.describe()}, was starting: it ran the code from before that change (or a file caught half written), so it was stopped and the reload superseded; ${serving}. A reload for the change follows.`,
        { cause: error, isSuperseded: true },
      );
    }
    // Killed while loading by a SIGHUP sent to the whole process group, which asked the primary
    // for a reload too (retest t72 N2): no failure of the new code. Forked again while the old
    // worker serves on; a few times in a row per slot, then a failed start (Slot.groupHangups).
    if (!isProving && incoming.isGroupHangup && !incoming.stopRequested) {
      if (slot.current === old && old.state !== 'exited') return replaceInSlot(context, slot, progress, restartsWait, taken, reload);
      // The same signal ended the slot's own worker, a restart still loading (retest t73): its
      // restart, which waited for this replacement, starts it with the new code. A vacant slot.
      if (old.state === 'exited' && !old.isAskedToStop) return { graceful: [], failed: [], killed: [], requestsCut: 0 };
    }
    // Ready, and serving, before it exited or went silent within minReadyMs: no failed start (retest t36 N3, H360).
    const failed = isProving ? 'became ready but did not stay up' : 'failed to start';
    // Inside a sentence: `(worker 4 (pid 30834) could not start: ...)`, not `(Worker 4 ...` (deploy tester t55).
    const failure = new ReloadError(`The replacement for worker slot ${slot.index} ${failed} (${reason.replace(/^Worker (?=\d)/, 'worker ')}), so the reload stopped; ${progress}.`, { cause: error });
    if (isProving) notStayedUp.add(failure);
    throw failure;
  }
  // The shutdown began while it stayed up (H349): a ready worker that serves, which the shutdown
  // stops gracefully with the others (not in the 2 s of a failed start), as the old one.
  if (isProving && !context.isRunning()) {
    endReplacing();
    throw reloadError(
      `The reload stopped because the primary began shutting down while the replacement for worker slot ${slot.index} was staying up its ${options.minReadyMs} ms ("minReadyMs") before ${old.describe()} would stop; the shutdown stops both; ${progress}.`,
      { isShutdown: true },
    );
  }
  // Retired while the replacement started (H177): taking it over would bring back a slot a
  // scale-down removed, for good. The replacement goes; whoever retired the slot stops the old one.
  if (slot.isRetired) {
    endReplacing();
    await stopWorker(pool, incoming, options.shutdownTimeoutMs);
    return undefined;
  }
  // The slot may have crashed and restarted meanwhile: the newest worker wins, the rest stop.
  const displaced = slot.current;
  // The failed starts counted before the worker it replaces came up are no longer in a row (H379):
  // its run counts as at its own end. One that exited already was counted then, by its crash.
  const serving = displaced ?? old;
  if (options.restart !== false && serving.state !== 'exited' && serving.readyAt !== undefined) {
    slot.history = historyAtTakeover(slot.history, Date.now() - serving.readyAt, options.restart);
  }
  slot.current = incoming;
  slot.cancelRestart();
  endReplacing();
  slot.restarts++;
  taken?.add(incoming);
  // A worker that exited on its own before (a crash, its restart pending) was not stopped by the
  // reload: its crash was said as one, and is no failed stop of the reload (H345).
  const retiring = new Set([old, displaced].filter((record): record is WorkerRecord => record !== undefined && record !== incoming && record.state !== 'exited'));
  // An old worker not ready yet (a restart still booting) never served: not started, not a graceful stop (H211).
  const unready = [...retiring].flatMap((record) => (record.readyAt === undefined ? [record.handle] : []));
  // The replacement (a cold process) takes over the retiring worker's clients a few at a time.
  return withNotStarted(await stopAll(pool, [...retiring], options.shutdownTimeoutMs, options.gradualDrainMs), unready);
}

/**
 * Waits `minReadyMs` while `incoming`, ready, serves beside `old` (H349). Throws when it exits
 * meanwhile, saying how and how soon after ready; returns at once when the primary begins
 * shutting down (a shutdown never waits it out: the caller sees `isRunning()` false).
 */
async function staysUp(context: ReloadContext, incoming: WorkerRecord, old: WorkerRecord, minReadyMs: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const elapsed = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, minReadyMs);
  });
  try {
    await Promise.race([elapsed, incoming.whenExited.promise, context.whenStopping]);
  } finally {
    clearTimeout(timer);
  }
  // The old worker was never stopped: it serves on (unless it crashed meanwhile, its restart then due).
  const within = `within the ${minReadyMs} ms it had to stay up ("minReadyMs") before ${old.describe()} would stop${old.state === 'exited' ? '' : '; that one keeps serving'}`;
  if (incoming.state === 'exited' && incoming.stopRequested) throw new Error(`${incoming.describe()} was stopped by the primary ${within}`);
  if (incoming.state === 'exited') {
    const upMs = incoming.readyAt === undefined ? undefined : Date.now() - incoming.readyAt;
    const after = upMs === undefined ? 'after it was ready' : `${formatUptime(upMs)} after it was ready`;
    const of = incoming.uncaughtError === undefined ? '' : `, of ${describeUncaughtError(incoming.uncaughtError)}`;
    throw new Error(`${incoming.describe()} ${describeExit(incoming.exitCode, incoming.signal, incoming.pid)} ${after}${of}, ${within}`);
  }
  // A build that hangs soon after ready (retest t36 N1) is no replacement either: the heartbeat
  // found it silent during the wait and it has not answered since. Caught only when minReadyMs
  // is longer than the heartbeat's silence threshold (2 s by default); the docs say so.
  const now = Date.now();
  if (context.isRunning() && (incoming.silence !== undefined || isSilent(incoming, context.options.heartbeat, now))) {
    const unheardMs = silenceOf(incoming, context.options.heartbeat, now);
    const unheard = unheardMs === undefined ? '' : ` (unheard for ${formatElapsed(unheardMs)})`;
    // Its heap near its limit at its last answer (H394): garbage collection, most likely.
    const pressure = heapPressureOf(incoming.health);
    const why = pressure ? `${describeHeapFigures(pressure)}, ${kGcNearLimit}` : 'its event loop most likely blocked';
    throw new Error(`${incoming.describe()} stopped answering the heartbeat${unheard}, ${why}, ${within}`);
  }
}

/** Thrown inside `replaceInSlot` when a newer change of the watched files superseded the reload (H388). */
class Superseded extends Error {
  constructor(readonly change: SupersedingChange) {
    super(`superseded by a newer change of ${change.files.join(', ') || 'the watched files'}`);
  }
}

/** Thrown inside `replaceInSlot` when a replacement that took over earlier in the reload exited on its own (H365). */
class EarlierReplacementExit extends Error {
  constructor(readonly record: WorkerRecord) {
    super(`${record.describe()} exited on its own after it took over its slot`);
  }
}

/**
 * The replacements of a rolling reload that took over their slot (H365). Without `minReadyMs`
 * the reload moves on at each one's ready, so a build that crashes soon after (a lazy import,
 * its first request, a timer) replaced every good worker in turn and the reload said it
 * completed: one that exits on its own (a crash, a kill, the heartbeat's kill) before the
 * reload ended stops it, and no further slot is replaced. Its slot is restarted, from the new
 * code, as after any crash.
 */
class TakenReplacements {
  readonly #records: WorkerRecord[] = [];
  /** When each exited, as the pool said (ms since the epoch). */
  readonly #exitedAt = new Map<WorkerRecord, number>();
  readonly #oneExited = deferred<WorkerRecord>();

  constructor(
    readonly total: number,
    readonly replaced: () => number,
    /** The reload brings a new env: its failure puts the one from before back, for the restarts too. */
    readonly changesEnv = false,
  ) {}

  /** Resolves with the first that exited on its own. */
  get whenOneExits(): Promise<WorkerRecord> {
    return this.#oneExited.promise;
  }

  add(record: WorkerRecord): void {
    this.#records.push(record);
    void record.whenExited.promise.then(() => {
      this.#exitedAt.set(record, Date.now());
      if (isOwnExit(record)) this.#oneExited.resolve(record);
    });
  }

  /** The first that exited on its own, or undefined. */
  firstExited(): WorkerRecord | undefined {
    return this.#records.find((record) => record.state === 'exited' && isOwnExit(record));
  }

  throwIfOneExited(context: ReloadContext, stopped?: string, during?: string): void {
    const exited = this.firstExited();
    if (exited !== undefined) throw this.failure(context, exited, stopped, during);
  }

  /**
   * Waits until every one that is still up was ready `windowMs` (the restart policy's startup
   * window, H371): at most that long after the last one's ready, not at all when `minReadyMs`
   * already made each wait as long. Ends early at the first one's own exit and as the primary
   * begins shutting down (the caller checks which). Resolves with how long it waited.
   */
  async outliveStartupWindow(context: ReloadContext, windowMs: number): Promise<number> {
    if (windowMs <= 0 || context.options.minReadyMs >= windowMs || !context.isRunning() || this.firstExited() !== undefined) return 0;
    const up = this.#records.filter((record) => record.state !== 'exited' && record.readyAt !== undefined);
    const started = Date.now();
    const waitMs = Math.max(0, ...up.map((record) => record.readyAt! + windowMs - started));
    if (waitMs === 0) return 0;
    // Said, so a long window does not look like a reload that hangs (H374).
    context.emit('reloadWaiting', { waitMs: Math.ceil(waitMs), windowMs });
    let timer: NodeJS.Timeout | undefined;
    const elapsed = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, waitMs);
    });
    try {
      await Promise.race([elapsed, this.whenOneExits, context.whenStopping]);
    } finally {
      clearTimeout(timer);
    }
    return Date.now() - started;
  }

  /**
   * `The replacement for worker slot 0, worker 3 (pid 4242), exited with code 1 366 ms after it
   * was ready (...)`: which one, how and how soon after ready, what it cut, how far the reload
   * got, what runs in its slot now, and `minReadyMs` to make a reload wait for a replacement to
   * stay up. `stopped`: what the reload stopped besides (a replacement that was starting);
   * `during`: what the reload was doing then (waiting out the startup window, H371).
   */
  failure(context: ReloadContext, record: WorkerRecord, stopped?: string, during = ''): ReloadError {
    const exitedAt = this.#exitedAt.get(record) ?? Date.now();
    const upMs = record.readyAt === undefined ? undefined : exitedAt - record.readyAt;
    const after = upMs === undefined ? 'after it was ready' : `${formatUptime(upMs)} after it was ready`;
    const of = record.uncaughtError === undefined ? '' : `, of ${describeUncaughtError(record.uncaughtError)}`;
    const outside = record.outsideSignal();
    const how = record.isUnresponsive
      ? `was killed (SIGKILL) by the primary for not answering heartbeats (${heapPressureOf(record.health) ? 'its heap near its limit: most likely garbage collection' : 'its event loop most likely blocked'})`
      : (outside?.how ?? describeExit(record.exitCode, record.signal, record.pid));
    const replaced = this.replaced();
    const left = this.total - replaced;
    const slot = record.slot.index;
    const kept = left === 0 ? 'none was left to replace' : `the old ${left === 1 ? 'worker' : 'workers'} of the ${left === 1 ? 'slot' : `${left} slots`} not replaced ${left === 1 ? 'keeps' : 'keep'} serving`;
    const now = record.slot.isRetired
      ? `worker slot ${slot} is not restarted (its crash line says why)`
      : this.changesEnv
        ? // Ops t63: "runs the new code and is being restarted with it", when the restart got the env from before.
          `worker slot ${slot} is being restarted, as after any crash, with the code on disk and the env from before this reload (its new env is not in force: below)`
        : `worker slot ${slot} runs the new code and is being restarted with it, as after any crash`;
    const { minReadyMs } = context.options;
    const wait =
      minReadyMs > 0
        ? `It had stayed up the ${minReadyMs} ms a replacement must ("minReadyMs"); make that longer than the new code takes to fail`
        : `Set "minReadyMs" (Kubernetes' minReadySeconds) longer than the new code takes to fail`;
    return new ReloadError(
      `The replacement for worker slot ${slot}, ${record.describe()}, ${how} ${after}${of}, after it had taken over its slot (${describeCut(record)}), ` +
        `so the reload stopped${stopped === undefined ? '' : ` (${stopped})`}${during}; ${replaced} of ${this.total} workers were replaced, ${kept}, and ${now}. ` +
        `${wait}: a reload then waits for each replacement to stay up that long before the worker it replaces stops, and a build that fails within it fails the reload on its first slot, the old worker serving on.`,
      {
        cause: new WorkerExitedError(record.exitDescription(), `${after}${of}, after it took over worker slot ${slot} in a reload`, {
          advice: 'The reload stopped.',
          ...(outside === undefined ? {} : { how: outside.how, outsideSignal: outside.signal }),
        }),
      },
    );
  }
}

/**
 * The restart policy's startup window (`restart.startupWindowMs`, 1 s by default): a crash
 * within it counts as an unstable restart or a failed start (H366), and a reload's
 * replacements must outlive it (H371). Without restarts (`restart: false`) the default: a
 * replacement that crashes then leaves its slot empty for good, the reload must say so.
 */
function startupWindowOf(options: ReloadContext['options']): number {
  return options.restart === false ? kDefaultStartupWindowMs : options.restart.startupWindowMs;
}

/** It exited without the primary asking it to stop: a crash, a kill, the heartbeat's kill, an exit of its own. */
function isOwnExit(record: WorkerRecord): boolean {
  return !record.stopRequested;
}

/** `at least 1 request cut off and 1 open connection reset`, `no request known cut off`: what its death cut, as far as the primary knows. */
function describeCut(record: WorkerRecord): string {
  const lost = record.lostRequests() ?? 0;
  const reset = record.resetConnections() ?? 0;
  const requests = lost === 0 ? 'no request known cut off' : `${record.isLostCountExact() ? '' : 'at least '}${lost} ${lost === 1 ? 'request' : 'requests'} cut off`;
  return reset === 0 ? requests : `${requests} and ${reset} open ${reset === 1 ? 'connection' : 'connections'} reset`;
}
