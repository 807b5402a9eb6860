/**
 * The primary's lifecycle: start, fork, stop one worker, shutdown, reload. Operations are
 * serialized by state: nothing forks after shutdown began, a second shutdown or reload returns
 * the first one's promise, and a reload during shutdown is refused.
 */
import { CrashLoopError, HookTimeoutError, InvalidOptionError, PrimaryBlockedError, InvalidStateError, NamedWorkerStoppedError, ReloadInProgressError, ShutdownInProgressError, WorkerUnresponsiveError } from '../../errors.js';
import { ownWorkWithin, processOwnWork } from './own-work.js';
import { settleWithin } from '../../wait.js';
import { deferred, type Deferred } from '../../deferred.js';
import { toError } from '../../to-error.js';
import { stopAll, stopWorker, type StopOutcome } from '../pool/stop-worker.js';
import { runShutdownHooks, type ShutdownHook } from './run-shutdown-hooks.js';
import type { WorkerHandle } from '../pool/worker-handle.js';
import type { WorkerRecord } from '../pool/worker-record.js';
import type { Slot } from '../pool/slot.js';
import type { PrimaryContext } from '../primary-context.js';
import type { ReloadReport, ReloadRequester, ShutdownReport, ShutdownRequester } from '../primary-events.js';
import type { NormalizedForkOptions } from '../primary-options.js';
import { checkedPing } from './checked-ping.js';
import { MemoryLimit } from './memory-limit.js';
import { CronRestart, cronScheduleWarnings } from './cron-restart.js';
import { PrimaryHeartbeat } from './primary-heartbeat.js';
import { HangupRecord } from './hangup-record.js';
import { forceStop, installPrimarySignals } from './primary-signals.js';
import { changedNames, ReloadProgress, rollingReload, type ReloadContext, type SupersedingChange } from './rolling-reload.js';
import { killWorker } from '../pool/kill-worker.js';
import { formatElapsed } from '../../duration.js';
import { heapPressureOf, type HeapPressure } from '../pool/heap-pressure.js';
import { withNotStarted } from './not-started.js';
import { plural } from '../../plural.js';
import { connectionsResetByKills } from '../pool/killed-resets.js';

/** The stall's episode is measured to within a check period (250 ms): own work just before its start counts. */
const kOwnWorkSlackMs = 250;

/**
 * The longest a shutdown waits, with its listening sockets closed, for the connections they
 * accepted to be taken by a worker before it asks the workers to stop (H358): a round trip each,
 * milliseconds, unless a worker's event loop is blocked (a quarter of the timeout when shorter).
 */
const kMaxIntakeDrainMs = 2_000;
/** A wait before the workers' stop shorter than this is not taken out of their timeout (H364). */
const kNegligibleWaitMs = 50;

/** The workers of `slots` that were never ready (forked, maybe exited since). */
function unreadyWorkers(slots: Iterable<Slot>): WorkerHandle[] {
  // Not one that exited already: its own line said how it ended, and the restart it waited for is
  // counted as cancelled (newcomer t76: `no worker is running, so none is stopped`, then `1 worker
  // stopped before it was ready (the lines above say how); 1 restart waiting out its back-off was cancelled`).
  return [...slots].flatMap((slot) => (slot.current !== undefined && slot.current.readyAt === undefined && slot.current.state !== 'exited' ? [slot.current.handle] : []));
}

/**
 * A shutdown's report when it interrupted the start or a scale-up: the `unready` workers are
 * `notStarted` (where one that stopped before ready would pass for a stop of a serving worker,
 * or be in no list at all), each counted once: one killed at the timeout is `killed` (H210).
 */
function withInterruptedStart(report: ShutdownReport, unready: readonly WorkerHandle[], interrupted: NonNullable<ShutdownReport['interrupted']>): ShutdownReport {
  return { ...withNotStarted(report, unready), interrupted };
}

/** What a scale-up cut short by a stop did: the new slots' workers forked, and ready, by then. */
function scaleCutShort(from: number, to: number, added: readonly Slot[], cause: Error): ShutdownInProgressError {
  const forked = added.flatMap((slot) => (slot.current === undefined ? [] : [slot.current]));
  const ready = forked.filter((record) => record.readyAt !== undefined).length;
  const ids = forked.map((record) => record.id).join(', ');
  const started =
    forked.length === 0
      ? `none of the ${added.length} new workers had been started, and none will be`
      : `${forked.length} of the ${added.length} new workers had been started (${forked.length === 1 ? 'worker' : 'workers'} ${ids}, ${ready === 0 ? 'none' : ready} of them ready) and ${forked.length === 1 ? 'is' : 'are'} stopped with the rest` +
        (forked.length < added.length ? `; the other ${added.length - forked.length} will not be` : '');
  return new ShutdownInProgressError(`The cluster is stopping: a stop came during the scale from ${from} to ${plural(to, 'worker')} and cut it short: ${started}.`, { cause });
}

/**
 * A scale-down's report with the replacements it stopped in the slots it removed (H177): one
 * that stopped cleanly never served, and is in no list; one killed at the timeout, or that did
 * not stop cleanly, is counted by the scale that stopped it (H200: before, by no command).
 */
function withUncleanReplacements(report: ShutdownReport, replacements: ShutdownReport): ShutdownReport {
  return { ...report, failed: [...report.failed, ...replacements.failed], killed: [...report.killed, ...replacements.killed], requestsCut: report.requestsCut + replacements.requestsCut };
}

/**
 * A promise recorded before the work that settles it begins (H405 to H407): unlike `deferred`,
 * its rejection is not pre-handled, so one nobody awaits is reported as before.
 */
function pending<T>(): { promise: Promise<T>; settle: (value: T) => void; fail: (error: unknown) => void } {
  let settle!: (value: T) => void;
  let fail!: (error: unknown) => void;
  const promise = new Promise<T>((resolve, reject) => {
    settle = resolve;
    fail = reject;
  });
  return { promise, settle, fail };
}

/** The error of a reload queued behind another when a shutdown begins before it started (H374). */
function queuedReloadStopped(): ShutdownInProgressError {
  return new ShutdownInProgressError(
    'The primary began shutting down while this reload waited for the one under way to end (every replacement of that one was forked before it was asked for): it never started, and no worker was replaced for it. Start the cluster again to run the new code.',
  );
}

export type PrimaryState = 'created' | 'starting' | 'running' | 'stopping' | 'stopped';

/** Each primary's lifecycle, for the CLI's launcher link, which handles the signals of a launched app itself. */
const lifecycles = new WeakMap<object, PrimaryLifecycle>();

/** @internal The lifecycle of a `ClusterPrimary`. */
export function lifecycleOf(primary: object): PrimaryLifecycle | undefined {
  return lifecycles.get(primary);
}

/** @internal Called by the `ClusterPrimary` constructor. */
export function registerLifecycle(primary: object, lifecycle: PrimaryLifecycle): void {
  lifecycles.set(primary, lifecycle);
}

/** What the lifecycle takes from the primary's context. */
export type LifecycleContext = Pick<PrimaryContext, 'options' | 'pool' | 'system' | 'emit' | 'reportError' | 'reportWarning' | 'reportNotice'>;

/** The facade's overridable hooks, run by `start()` and `shutdown()`. */
export interface LifecycleHooks {
  init(): Promise<void>;
  destroy(): Promise<void>;
}

export class PrimaryLifecycle {
  readonly #context: LifecycleContext;
  readonly #hooks: LifecycleHooks;
  /** Handed to reloads and replacements. */
  readonly #reloadContext: ReloadContext;
  #state: PrimaryState = 'created';
  /** True once `_init` completed: only then does shutdown run `_destroy`. */
  #isInitialized = false;
  /**
   * Set by the service runner under `clusterkit run --watch` (H347): initial workers that
   * crash-loop leave their slots given up, and the start goes on (with no worker, the runner
   * waits for a change), rather than failing and stopping the primary.
   */
  waitsAfterFailedStart = false;
  /** Set when `start()` fails and shuts down what it started: its report says `'failed-start'`, not an interrupted start. */
  #isStartFailing = false;
  #shutdown: Promise<ShutdownReport> | undefined;
  /** The count of the scale-down that removed each slot: a scale-up whose slot it was is superseded, not failed (H201). */
  readonly #scaledAwayBy = new WeakMap<Slot, number>();
  /** Slots stopWorker() removed before their first worker was ready: a scale-up that added one resolves without it (H743). */
  readonly #removedByStopWorker = new WeakSet<Slot>();
  /** The slots a scale-up under way adds: a stop during it reports their unready workers as `notStarted`. */
  #scalingSlots: readonly Slot[] | undefined;
  /** Set by `forceStop`: the exit follows, and the shutdown under way reports nothing more. */
  #isForced = false;
  /** The signal that started the shutdown (set with `#shutdown`; undefined for a call): `shutdownForced` names it. */
  #shutdownSignal: NodeJS.Signals | undefined;
  #reload: Promise<ReloadReport> | undefined;
  /** How far the reload under way got: a `reload()` joins it only while a slot's replacement is still to be forked (H374). */
  #reloadProgress: ReloadProgress | undefined;
  /** What asked for the reload under way: a newer watched change supersedes only a `'watch'` one (H388). */
  #reloadRequestedBy: ReloadRequester | undefined;
  /** The reload asked for once the one under way could no longer load the caller's code: it starts when that one ends (H374). */
  #queuedReload: { readonly settled: Deferred<ReloadReport>; readonly requestedBy: ReloadRequester; env: Readonly<Record<string, string | undefined>> | undefined } | undefined;
  /** Resolved as the shutdown begins: a reload's replacement stops waiting out `minReadyMs` (H349). */
  readonly #stopping = deferred<void>();
  /** Removes the process signal handlers; set while they are installed. */
  #uninstallSignals: (() => void) | undefined;
  /** The primary's own SIGHUPs, for the workers that ask about theirs (`$hangup`, H291). */
  readonly hangups = new HangupRecord();
  readonly #heartbeat: PrimaryHeartbeat | undefined;
  /** The `cronRestart` schedule (H377): from the end of the start to the start of the shutdown. */
  readonly #cronRestart: CronRestart | undefined;
  /** Workers the heartbeat killed during the shutdown before it asked them to stop (H376): in its report, though gone from the pool. */
  readonly #killedBeforeStop: WorkerRecord[] = [];
  /** Run when shutdown begins (stop accepting traffic) and when it ends (release the rest). */
  readonly #shutdownHooks = { start: [] as ShutdownHook[], end: [] as ShutdownHook[] };

  constructor(context: LifecycleContext, hooks: LifecycleHooks) {
    this.#context = context;
    this.#hooks = hooks;
    this.#reloadContext = { pool: context.pool, options: context.options, emit: context.emit, isRunning: () => this.#state === 'running', whenStopping: this.#stopping.promise };
    // A worker still loading that a group's SIGHUP killed is started again, uncounted (retest t72 N2).
    context.pool.hangupHeardSince = (at) => this.hangups.heardSince(at);
    const { heartbeat, maxMemoryMb, cronRestart } = context.options;
    // A reload that fails says so itself (`reloadFailed`), and the schedule goes on; one under way is joined.
    if (cronRestart !== undefined) this.#cronRestart = new CronRestart(cronRestart, () => void this.reload('schedule').catch(() => {}));
    if (heartbeat) {
      const memoryLimit = new MemoryLimit(context, this.#reloadContext);
      this.#heartbeat = new PrimaryHeartbeat(context.pool, heartbeat, maxMemoryMb, {
        // The answer is checked like any system message: bad or impossible figures are dropped and counted.
        ping: (record, timeoutMs) => checkedPing(context.system, record, timeoutMs),
        // Its heap near its limit at its last answer: most likely garbage collection, not a blocked loop (H394).
        onSilent: (record, silentMs) => context.emit('workerSilent', withHeapPressure(record, { worker: record.handle, silentMs })),
        onSilenceEnd: (record, silentMs) => context.emit('workerSilenceEnd', { worker: record.handle, silentMs }),
        onUnresponsive: (record, silentMs, primaryBlockedMs) => {
          // A shutdown began, and has not asked this one to stop yet (its sockets close first):
          // the shutdown's to report, killed, as the workers it stops (H376).
          if (this.#state === 'stopping' && !record.stopRequested) {
            context.pool.markStopping(record);
            this.#killedBeforeStop.push(record);
          }
          context.emit('workerUnresponsive', withHeapPressure(record, { worker: record.handle, silentMs, ...(primaryBlockedMs > 0 ? { primaryBlockedMs } : {}) }));
          // What a crash loop's summary says ended it (H510), not a bare "killed by SIGKILL".
          record.killedFor ??= new WorkerUnresponsiveError(record.describe(), silentMs, formatElapsed(silentMs));
          void killWorker(record);
        },
        onBulkLost: (record, silentMs) => context.pool.reportBulkLost(record, silentMs),
        onMemoryLimit: (record, rssBytes, limitBytes) => memoryLimit.onLimit(record, rssBytes, limitBytes),
        onMemoryHardLimit: (record, rssBytes, limitBytes) => memoryLimit.onHardLimit(record, rssBytes, limitBytes),
        // The primary's own stall (H470): said as the primary's, no worker blamed.
        // With clusterkit's own share of it (a scrape's merge, own-work.ts): what to change then is not the user's code.
        onPrimaryBlocked: (blockedMs, spanMs, isOngoing, endAt) => {
          // The episode's own span: it is said a while after its end (retest t63: matched against
          // the time of the saying, the merge it followed was missed, and the user's code blamed).
          const own = ownWorkWithin([context.pool.ownWork, processOwnWork], endAt - spanMs - kOwnWorkSlackMs, endAt + kOwnWorkSlackMs);
          context.reportWarning(new PrimaryBlockedError(blockedMs, spanMs, isOngoing, own === undefined ? undefined : { ms: own.ms, ...own.kind }));
        },
      });
      const heartbeatClock = this.#heartbeat;
      context.pool.unseenSince = (now, ranAt) => heartbeatClock.unseenSince(now, ranAt);
    }
  }

  get state(): PrimaryState {
    return this.#state;
  }

  /** Registers work for the start or the end of shutdown (closing listeners, health servers). */
  onShutdown(phase: 'start' | 'end', name: string, hook: () => Promise<void>): void {
    this.#shutdownHooks[phase].push({ name, run: hook });
  }

  async start(): Promise<WorkerHandle[]> {
    if (this.#state !== 'created') throw new InvalidStateError(`start() can be called once; the primary is ${this.#state}.`);
    this.#state = 'starting';
    if (this.#context.options.handleSignals) this.#uninstallSignals = installPrimarySignals(this, this.#context);
    const { emit } = this.#context;
    emit('initialize', {});
    try {
      await this.#hooks.init();
    } catch (error) {
      emit('initializeError', { error: toError(error) });
      this.#isStartFailing = true;
      await this.shutdown(this.#context.options.shutdownTimeoutMs, undefined, 'failed-start');
      throw error;
    }
    this.#isInitialized = true;
    // A shutdown() awaited in _init ended before _init returned, its _destroy skipped then (hostile
    // t66, H663: what _init had opened stayed open): run now. One under way runs it at its turn.
    if ((this.#state as PrimaryState) === 'stopped') await this.#runDestroy(this.#context.options.shutdownTimeoutMs);
    emit('initializeComplete', {});
    try {
      this.#heartbeat?.watchDescendants();
      const { pool } = this.#context;
      const known = new Set(pool.slots);
      const starting = pool.addSlots(this.#context.options.workerCount, { name: undefined, roles: [], env: {} }, true);
      const initial = [...pool.slots].filter((slot) => !known.has(slot));
      const handles = await starting.catch((error: unknown) => this.#startWithGivenUp(initial, error));
      pool.armWatchdogs();
      if (this.#state === 'starting') this.#state = 'running';
      this.#heartbeat?.start();
      if (this.#state === 'running' && this.#cronRestart !== undefined) {
        this.#cronRestart.start();
        // Said as it starts, not refused (H490, H491): a schedule every second, or in UTC by a bad TZ.
        for (const warning of cronScheduleWarnings(this.#context.options.cronRestart!)) this.#context.reportWarning(warning);
      }
      return handles;
    } catch (error) {
      // The initial workers cannot come up: stop whatever did, so nothing is left behind.
      this.#isStartFailing = true;
      await this.shutdown(this.#context.options.shutdownTimeoutMs, undefined, 'failed-start');
      throw error;
    }
  }

  /**
   * Under `clusterkit run --watch` (H347): when the initial workers crash-loop, the start waits
   * for every initial slot to be ready or given up and goes on with the ready ones (none: the
   * runner waits for a change), rather than failing. Else, and for any other failure, rethrows.
   */
  async #startWithGivenUp(initial: readonly Slot[], error: unknown): Promise<WorkerHandle[]> {
    if (!this.waitsAfterFailedStart || !(error instanceof CrashLoopError) || this.#state !== 'starting') throw error;
    const settled = await Promise.allSettled(initial.map((slot) => slot.firstReady.promise));
    // A stop during the wait (its ShutdownInProgressError: an interrupted start), or a failure that is no crash loop: the start fails as it did.
    const other = settled.find((outcome): outcome is PromiseRejectedResult => outcome.status === 'rejected' && !(outcome.reason instanceof CrashLoopError));
    if (this.#state !== 'starting') throw other?.reason instanceof ShutdownInProgressError ? other.reason : error;
    if (other !== undefined) throw error;
    return settled.flatMap((outcome) => (outcome.status === 'fulfilled' ? [outcome.value] : []));
  }

  fork(spec: NormalizedForkOptions): Promise<WorkerHandle[]> {
    if (this.#state === 'created') return Promise.reject(new InvalidStateError('Call start() before fork().'));
    if (this.#state === 'stopping' || this.#state === 'stopped') {
      return Promise.reject(new ShutdownInProgressError('The primary is shutting down; fork() is refused.'));
    }
    const { maxWorkers } = this.#context.options;
    const active = this.#context.pool.activeSlots().length;
    if (active + spec.count > maxWorkers) {
      const running = active === 1 ? '1 worker runs' : `${active} workers run`;
      return Promise.reject(new InvalidOptionError('count', `at most ${Math.max(0, maxWorkers - active)}: the "maxWorkers" option is ${maxWorkers} and ${running} already`, spec.count));
    }
    return this.#context.pool.addSlots(spec.count, spec);
  }

  /** Grows or shrinks the pool's target to `count` workers; a scale-down drops given-up slots first, then stops workers gracefully, the highest slot numbers first. */
  async scale(count: number): Promise<void> {
    const { maxWorkers } = this.#context.options;
    if (count > maxWorkers) throw new InvalidOptionError('count', `at most ${maxWorkers}, the "maxWorkers" option, which changes only on a restart (restart the cluster with a higher one to run more workers)`, count);
    if (this.#state !== 'running') {
      throw this.#state === 'stopping' || this.#state === 'stopped'
        ? new ShutdownInProgressError('The primary is shutting down; scale() is refused.')
        : new InvalidStateError('The cluster has not finished starting: scale() needs a started primary (await start() first; from the CLI, try again once it has started).');
    }
    const { pool, emit } = this.#context;
    // Counted from the target, given-up slots included, as status and clusterkit_workers_target
    // count (H284): before, from the serving slots, so a scale to the target it had (or +1)
    // forked again into a given-up slot, ran its crash loop once more and reset its counts.
    const slots = pool.activeSlots();
    const from = pool.targetCount;
    // 'scale' is emitted once the scale is recorded (its slots added, or retired), before any
    // worker is forked or stopped (H405, H406): a listener that calls scale(), shutdown() or
    // fork() sees it as a call a tick later would. Before, emitted first: a shutdown() there
    // left this scale's slots unforked and unretired (its promise never settled), and a scale()
    // there counted from the old target (4 then 1 ended at 3 workers, slots 0, 2, 3).
    if (count > from) {
      // New slots only: the errored ones stay so until a reload that succeeds starts them again.
      // Taken as they are added: a slot leaves the pool once retired and its worker gone.
      let added: readonly Slot[] = [];
      const growing = pool.addSlots(count - from, { name: undefined, roles: [], env: {} }, false, undefined, (slots) => {
        added = slots;
        this.#scalingSlots = added;
        emit('scale', { from, to: count });
      });
      const outcome = await growing
        .then(() => ({}))
        .catch(async (error: unknown): Promise<{ supersededBy?: number; removedByStopWorker?: number }> => {
          // A later scale-down removed new slots before their workers were ready: it has the
          // last word, and this scale did nothing wrong (H201; before, it failed "worker 8 was
          // stopped before it was ready", exit 1). Its other new workers go on starting.
          const by = added.map((slot) => this.#scaledAwayBy.get(slot)).find((later) => later !== undefined);
          if (by !== undefined && this.#state === 'running' && !(error instanceof ShutdownInProgressError)) return { supersededBy: by };
          // stopWorker() removed a new slot before its worker was ready: the caller's word, as a
          // later scale-down's, lowering the target by one; the scale resolves once its other new
          // workers are ready (hostile t84 #9, H743: it rejected "worker 3 was stopped before it
          // was ready" while it went on, and ended at 3 workers, saying neither).
          if (added.some((slot) => this.#removedByStopWorker.has(slot)) && this.#state === 'running' && !(error instanceof ShutdownInProgressError)) {
            const settled = await Promise.allSettled(added.map((slot) => slot.firstReady.promise));
            const failed = settled.find((result, i): result is PromiseRejectedResult => result.status === 'rejected' && !this.#removedByStopWorker.has(added[i]!) && !this.#scaledAwayBy.has(added[i]!));
            if (failed === undefined) return { removedByStopWorker: added.filter((slot) => this.#removedByStopWorker.has(slot)).length };
            error = failed.reason;
          }
          // A stop during the scale retires its slots, whose waiters hear "no worker will be
          // started", though some may have been: the answer says what the scale did.
          throw error instanceof ShutdownInProgressError ? scaleCutShort(from, count, added, error) : error;
        })
        .finally(() => {
          if (this.#scalingSlots === added) this.#scalingSlots = undefined;
        });
      emit('scaleComplete', { from, to: count, stopped: { graceful: [], failed: [], killed: [], requestsCut: 0 }, ...outcome });
      return;
    }
    // The errored slots go first: they serve nothing, and dropping one stops no worker.
    const liveSurplus = from - count - pool.dropGivenUp(from - count).length;
    // The slots with no worker running go first (its restart waiting out its back-off, or not
    // forked yet): they serve nothing (retest t80: a scale to 1 stopped the one ready worker and
    // kept the slot in back-off, and nothing served for 6 s). Then the highest slot numbers, so
    // the workers left keep NODE_APP_INSTANCE 0..N-1 (H293): a refill or a restart makes a low
    // slot the newest, and stopping the newest left 1 and 3 of 2.
    const isVacant = (slot: Slot) => slot.current === undefined || slot.current.state === 'exited';
    const surplus = [...slots].sort((a, b) => Number(isVacant(b)) - Number(isVacant(a)) || b.index - a.index).slice(0, Math.max(0, liveSurplus));
    // A slot of a scale-up still under way may have no worker yet: it is retired unforked. One
    // whose worker exited already (a crash, its restart waiting out its back-off) too: that
    // death was not the scale's, and its line said it (hostile t79: `1 stopped worker did not
    // stop cleanly (it exited with code 7 during its stop)` of a worker dead a second before).
    // Their restarts are cancelled, and counted as a shutdown counts them (H454).
    let restartsCancelled = 0;
    for (const slot of surplus) {
      if (!slot.current) pool.retire(slot, new InvalidStateError(`Worker slot ${slot.index} was scaled away before its worker was forked.`));
      else if (slot.current.state === 'exited' && pool.retire(slot, new InvalidStateError(`Worker slot ${slot.index} was scaled away while its restart waited.`))) restartsCancelled++;
    }
    const records = surplus.flatMap((slot) => (slot.current !== undefined && slot.current.state !== 'exited' ? [slot.current] : []));
    // Those not ready yet (a scale-up's, a restart's) are counted as not started (H211: before, in no count).
    const unready = records.flatMap((record) => (record.readyAt === undefined ? [record.handle] : []));
    // Replacements still starting in those slots (a memory one, a reload's) go too (H177): once
    // ready they took the slots over, and the pool kept its size. Those still draining are waited
    // for, so the pool has `count` workers when scale() resolves. Neither served: not in the report.
    const others = surplus.flatMap((slot) => pool.othersOf(slot));
    for (const slot of surplus) this.#scaledAwayBy.set(slot, count);
    for (const record of records) pool.retire(record.slot, new InvalidStateError(`${record.describe()} was stopped before it was ready.`));
    // Recorded (the target is `count`): a listener's call sees this scale (H406).
    emit('scale', { from, to: count });
    // A named worker in a high slot goes like any other: said, as its name is gone with it (t60).
    const names = surplus.flatMap((slot) => (slot.spec.name === undefined ? [] : [slot.spec.name])).reverse();
    if (names.length > 0) this.#context.reportWarning(new NamedWorkerStoppedError(names, count, from));
    const { shutdownTimeoutMs, gradualDrainMs } = this.#context.options;
    // The replaced workers draining there are the reload's (or replacement's) to count.
    const starting = others.filter((record) => !record.stopRequested);
    // The workers that stay take over the clients of those that go, a few at a time.
    // One still booting is ended at once by its stop itself (H200, H202: end-unstarted.ts).
    const [stopped, replacements] = await Promise.all([
      stopAll(pool, records, shutdownTimeoutMs, gradualDrainMs),
      stopAll(pool, starting, shutdownTimeoutMs),
      ...others.filter((record) => record.stopRequested).map((record) => record.whenExited.promise),
    ]);
    const report = withNotStarted(withUncleanReplacements(stopped, replacements), unready);
    // Set only when there is one, as on a shutdown's report: a scale-down of ready workers says nothing of it.
    const { notStarted, ...counted } = report;
    const cancelled = restartsCancelled === 0 ? {} : { restartsCancelled };
    emit('scaleComplete', { from, to: count, stopped: notStarted!.length === 0 ? { ...counted, ...cancelled } : { ...report, ...cancelled } });
  }

  /** Kills every worker at once, says so (`shutdownForced`) and exits: a stop signal during the shutdown. */
  forceStop(signal: NodeJS.Signals): never {
    this.#isForced = true;
    return forceStop(this.#context, signal, this.#shutdownSignal);
  }

  stopWorker(record: WorkerRecord, timeoutMs: number): Promise<StopOutcome> {
    // Only its slot's own worker takes the slot with it. A replacement still starting (a
    // reload's) goes alone, its replacement failed, and the slot keeps the worker it has; a
    // worker its replacement took over from is stopping already. Retiring the slot for either
    // left the slot's other worker running outside the pool (hostile t83 #1: the reload said
    // "a scale-down removed its slot", the old worker served on, unmanaged and never reloaded).
    const { slot } = record;
    if (slot.current === record || slot.current === undefined) {
      const { pool } = this.#context;
      // Said as what it is (hostile t84 #9, H743): the caller's stopWorker(), its slot gone and the target lower, not a failure to start.
      const target = pool.targetCount - (slot.isRetired ? 0 : 1);
      if (!slot.firstReady.isSettled) this.#removedByStopWorker.add(slot);
      if (!slot.isRetired) slot.isRemovedByStopWorker = true;
      // One stopped from a workerReady listener had become ready (hostile t86 N6, H755): not "before it was ready".
      const when = record.readyAt === undefined ? 'before it was ready' : 'as it became ready';
      pool.retire(slot, new InvalidStateError(`${record.describe()} was stopped by stopWorker() ${when}: its slot is removed, so the target is now ${plural(target, 'worker')}, and nothing restarts it. Call fork() or scale() to add a worker again.`));
    } else if (record.stopping === undefined) record.isStoppedAsReplacement = true;
    return stopWorker(this.#context.pool, record, timeoutMs);
  }

  /** `isTimeoutGiven`: `timeoutMs` is the call's own, not the `shutdownTimeoutMs` option (its workers' lines say so). */
  shutdown(timeoutMs: number, signal?: NodeJS.Signals, requestedBy: ShutdownRequester = signal ? 'signal' : 'call', isTimeoutGiven = false): Promise<ShutdownReport> {
    if (this.#shutdown !== undefined) return this.#shutdown;
    // Recorded before it runs: a shutdown() from a 'shutdown' listener gets this one's promise,
    // not a second shutdown (emitted in #runShutdown's synchronous part, before it returned).
    const { promise, settle, fail } = pending<ShutdownReport>();
    this.#shutdown = promise;
    this.#runShutdown(timeoutMs, signal, requestedBy, isTimeoutGiven).then(settle, fail);
    return promise;
  }

  /**
   * `env`: the workers' new `env` option (H336). A call while a reload is under way joins it only
   * while a slot of it still waits for its replacement to be forked (the new code is loaded then)
   * and it starts its workers with that env; else it is queued (H374): one reload more, started
   * when the one under way ends (success or failure: the code the caller deployed still deserves
   * its reload), which every later call joins (one with an env other than the queued one's is
   * refused with ReloadInProgressError).
   */
  reload(requestedBy: ReloadRequester = 'call', env?: Readonly<Record<string, string | undefined>>): Promise<ReloadReport> {
    if (this.#state === 'stopping' || this.#state === 'stopped') {
      return Promise.reject(new ShutdownInProgressError('The primary is shutting down; reload() is refused.'));
    }
    if (this.#state !== 'running') return Promise.reject(new InvalidStateError('The cluster has not finished starting: reload() needs a started primary (await start() first; from the CLI, try again once it has started).'));
    const queued = this.#queuedReload;
    if (queued !== undefined) {
      if (env !== undefined && queued.env !== undefined && changedNames(queued.env, env).length > 0) {
        return Promise.reject(
          new ReloadInProgressError(
            'A rolling reload is under way and another is queued after it with another env, so a reload with this env cannot join either; nothing changed. Ask again once they have ended (the "rolling reload complete" line of the queued one).',
          ),
        );
      }
      // Not started yet: the env asked for is the one it starts its workers with (a plain reload's callers get the env in force then, this one).
      if (env !== undefined) queued.env = env;
      this.#context.emit('reloadJoined', { queued: true });
      return queued.settled.promise;
    }
    if (this.#reload) {
      // Its new workers start with the env it had: joining it would not apply this one (H336).
      const isSameEnv = env === undefined || changedNames(this.#context.pool.env, env).length === 0;
      // A second SIGHUP, `clusterkit reload` or call joins the reload under way only while none of
      // its replacements was forked: each will load the code on disk then. Once one was, that
      // slot runs the code from before this call, and joining would report success over mixed
      // versions (H374, retest t38: slot 0 on v1, slot 1 on v2, "3 workers replaced"). A schedule's
      // tick (cronRestart) brings no new code: the reload under way is the one it asks for.
      const mayJoin = requestedBy === 'schedule' || this.#reloadProgress?.hasForked === false;
      if (isSameEnv && mayJoin) {
        this.#context.emit('reloadJoined', { queued: false });
        return this.#reload;
      }
      // A replacement was forked before this call (H374): joining would report workers that run the code of before.
      const settled = deferred<ReloadReport>();
      this.#queuedReload = { settled, requestedBy, env };
      this.#context.emit('reloadJoined', { queued: true });
      return settled.promise;
    }
    return this.#startReload(requestedBy, env);
  }

  /**
   * A newer change of the watched files came while a reload `--watch` asked for runs (H388):
   * when a replacement of it forked before the change is still starting (not ready, or not
   * listening as the worker it replaces), that replacement is stopped at once and the reload
   * ends superseded (`reloadFailed` with `ReloadError.isSuperseded`); the slots it replaced
   * keep their new workers, the others their old ones, and the reload queued behind it (H374)
   * starts. Returns whether it did. A reload asked for otherwise (SIGHUP, `clusterkit reload`, a
   * call, the schedule) is never superseded: the change's reload is queued after it, as before.
   */
  supersedeReload(change: SupersedingChange): boolean {
    if (this.#state !== 'running' || this.#reloadRequestedBy !== 'watch') return false;
    return this.#reloadProgress?.supersede(change) ?? false;
  }

  #startReload(requestedBy: ReloadRequester, env: Readonly<Record<string, string | undefined>> | undefined): Promise<ReloadReport> {
    const progress = new ReloadProgress();
    this.#reloadProgress = progress;
    this.#reloadRequestedBy = requestedBy;
    // Recorded before rollingReload emits 'reload' (H407): a reload() from a 'reload' listener
    // joins this one (none of its replacements was forked yet) or is queued, as a call a tick
    // later is. Before, recorded after: the listener's call ran a second reload over the same slots.
    const { promise, settle, fail } = pending<ReloadReport>();
    this.#reload = promise;
    rollingReload(this.#reloadContext, requestedBy, env, progress)
      .finally(() => {
        this.#reload = undefined;
        this.#reloadProgress = undefined;
        this.#reloadRequestedBy = undefined;
        this.#startQueuedReload();
      })
      .then(settle, fail);
    return promise;
  }

  /** Starts the reload queued while the one that just ended ran (H374), after a failure too. */
  #startQueuedReload(): void {
    const queued = this.#queuedReload;
    if (queued === undefined) return;
    this.#queuedReload = undefined;
    // A shutdown rejected it as it began (#rejectQueuedReload): nothing is left here then.
    if (this.#state !== 'running') {
      queued.settled.reject(queuedReloadStopped());
      return;
    }
    this.#startReload(queued.requestedBy, queued.env).then(
      (report) => queued.settled.resolve(report),
      (error: unknown) => queued.settled.reject(toError(error)),
    );
  }

  /** A shutdown began: the reload queued behind the one under way never starts (H374). */
  #rejectQueuedReload(): void {
    const queued = this.#queuedReload;
    this.#queuedReload = undefined;
    queued?.settled.reject(queuedReloadStopped());
  }

  async #runShutdown(timeoutMs: number, signal: NodeJS.Signals | undefined, requestedBy: ShutdownRequester, isTimeoutGiven: boolean): Promise<ShutdownReport> {
    const { pool, emit } = this.#context;
    // Taken before close() retires the slots: the initial workers not ready yet are what an
    // interrupted start did not start (one that exited already, awaiting a restart, is among the
    // restarts cancelled). A
    // start that failed stops its other workers itself: those not ready are stopped before they
    // were, as well (tester t22: before, counted graceful), though nothing interrupted that start
    // (its error says why); said only when there is one, the failing slot being gone already.
    // (Taken now: a start a stop cut short fails too, and sets the flag, once the stop began.)
    const isStartFailing = this.#isStartFailing;
    const initialUnready = this.#state === 'starting' ? unreadyWorkers([...pool.slots].filter((slot) => slot.isInitial)) : undefined;
    const unready = isStartFailing && initialUnready?.length === 0 ? undefined : initialUnready;
    // A scale-up's workers not ready yet, likewise (tester t20: before, counted as stopped gracefully).
    const scaleUnready = this.#state === 'running' && this.#scalingSlots !== undefined ? unreadyWorkers(this.#scalingSlots) : [];
    // Any other worker not ready yet while the service runs: a replacement (a reload's, a memory
    // one, a restart after a crash) that never served (tester t21: before, counted graceful).
    const replacementsUnready =
      this.#state === 'running' ? [...pool.records].flatMap((record) => (record.readyAt === undefined && !scaleUnready.includes(record.handle) ? [record.handle] : [])) : [];
    this.#state = 'stopping';
    this.#stopping.resolve();
    this.#rejectQueuedReload();
    this.#shutdownSignal = signal;
    this.#cronRestart?.stop();
    // The heartbeat goes on until the workers exited (H376): one whose loop is blocked is killed
    // once silent past its timeout, not waited for until the shutdown's.
    // Workers still starting stop only once their _init() ends: the line says what the stop waits for (H423).
    const starting = [...pool.records].filter((record) => record.hasSaidHello && record.readyAt === undefined).length;
    // Slots waiting out a crash back-off are cancelled: the report says how many (H454).
    const restartsCancelled = pool.close();
    emit('shutdown', { timeoutMs, ...(signal ? { signal } : {}), requestedBy, starting });
    await this.#runHooks('start', timeoutMs);
    // The listening sockets close first, and what they accepted goes to the workers before they
    // stop (H358): closed by the last worker's stop, node:cluster reset every connection still
    // queued for a worker. What it resets all the same is counted in the report.
    const resetBefore = pool.connectionsReset;
    const waitStartedAt = performance.now();
    await pool.stopAccepting(Math.min(kMaxIntakeDrainMs, timeoutMs / 4));
    // The workers' stop gets what the wait left of the timeout: the whole stop fits in it (H364;
    // before, the wait, up to 2 s, came on top of it).
    // An I/O poll's few milliseconds (no connection to wait for) are left alone: within the kill's own slack.
    const waitedMs = performance.now() - waitStartedAt;
    const workersTimeoutMs = waitedMs < kNegligibleWaitMs ? timeoutMs : Math.max(1, Math.round(timeoutMs - waitedMs));
    const killedBefore = this.#killedBeforeStop.filter((record) => pool.record(record.id) !== record);
    if (isTimeoutGiven) for (const record of pool.records) if (record.stopping === undefined) record.stopTimeoutSetBy = 'shutdown()';
    const stoppedWorkers: ShutdownReport = await stopAll(pool, [...killedBefore, ...pool.records], workersTimeoutMs, 0, true, timeoutMs);
    this.#heartbeat?.stop();
    const connectionsReset = pool.connectionsReset - resetBefore;
    // Read now, as the killed workers last reported: the line and `clusterkit stop` take it from the report.
    const killedConnectionsReset = connectionsResetByKills(stoppedWorkers.killed);
    const stopped: ShutdownReport = {
      ...stoppedWorkers,
      ...(connectionsReset > 0 ? { connectionsReset } : {}),
      ...(killedConnectionsReset > 0 ? { killedConnectionsReset } : {}),
      ...(restartsCancelled > 0 ? { restartsCancelled } : {}),
    };
    // The processes of workers killed at the timeout end a grace later: not left running when the primary exits.
    await pool.whenDescendantsEnded();
    const report =
      unready !== undefined
        ? withInterruptedStart(stopped, unready, isStartFailing ? 'failed-start' : 'start')
        : scaleUnready.length > 0
          ? withInterruptedStart(stopped, [...scaleUnready, ...replacementsUnready], 'scale')
          : replacementsUnready.length > 0
            ? withInterruptedStart(stopped, replacementsUnready, 'replacement')
            : stopped;
    if (this.#isInitialized) await this.#runDestroy(timeoutMs);
    this.#state = 'stopped';
    pool.markStopped();
    this.#uninstallSignals?.();
    this.#uninstallSignals = undefined;
    pool.flushWarnings();
    // A forced stop said how it ended (shutdownForced), and no shutdownComplete follows it
    // (events.md): under clusterkit run the exit waits for output, and this came after (ops t60).
    if (!this.#isForced) emit('shutdownComplete', report);
    await this.#runHooks('end', timeoutMs);
    return report;
  }

  /** Each hook gets a tenth of the shutdown timeout: the workers' stop never waits long behind a close (H245). */
  async #runHooks(phase: 'start' | 'end', timeoutMs: number): Promise<void> {
    const hooks = this.#shutdownHooks[phase].splice(0);
    if (hooks.length === 0) return;
    await runShutdownHooks(hooks, Math.min(2 ** 31 - 1, Math.max(100, Math.round(timeoutMs / 10))), this.#context.reportError, this.#context.reportWarning);
  }

  /**
   * The primary's `_destroy`, given the shutdown's `timeoutMs` of its own (the workers may have
   * used all of theirs): one that never settles must not keep shutdown() from settling (H249).
   */
  async #runDestroy(timeoutMs: number): Promise<void> {
    const { emit } = this.#context;
    emit('destroy', {});
    try {
      const finished = await settleWithin(this.#hooks.destroy().then(() => true), timeoutMs);
      emit('destroyComplete', finished ? {} : { error: new HookTimeoutError("The primary's _destroy", timeoutMs) });
    } catch (error) {
      const failure = toError(error, "The primary's _destroy() threw");
      emit('destroyComplete', { error: failure });
      this.#context.reportError(failure);
    }
  }
}

/** `event` with `nearHeapLimit` when the worker's last heartbeat answer had its heap near its limit (H394). */
function withHeapPressure<Event extends object>(record: WorkerRecord, event: Event): Event & { nearHeapLimit?: HeapPressure } {
  const nearHeapLimit = heapPressureOf(record.health);
  return nearHeapLimit === undefined ? event : { ...event, nearHeapLimit };
}
