/**
 * The primary's default log lines: one per lifecycle event, through the `logger` option, in
 * words a user reads (docs/logging.md lists them). Fields follow pino's conventions: a worker's
 * pid is `workerPid` (pino's own `pid` is the process that logs), an error goes under `err`.
 *
 * A worker that fails to start gets one line, at its exit, however many events its failure
 * takes (its `_init` error, its exit, the crash, the restart): a failed start of N workers is
 * N lines, not a screenful per worker.
 */
import { splitKillReason, type WorkerRecord } from './pool/worker-record.js';
import { formatElapsed } from '../duration.js';
import { wholeMs } from '../whole-ms.js';
import { formatBytes } from '../format-bytes.js';
import { ChannelCorruptError, describeExit, diedOfFatalSignal, initFailureClause, isSelfFatalSignal, ReloadError, RemoteError, WorkerStartupError } from '../errors.js';
import { createLineLogger, type Logger } from '../logger.js';
import type { ClusterPrimary } from './cluster-primary.js';
import { recordOf, type WorkerHandle } from './pool/worker-handle.js';
import { raiseStopTimeout, stopTimeoutName } from './pool/stop-timeout-words.js';
import { connectionsResetByKills, describeKilledResets } from './pool/killed-resets.js';
import type { ReloadRequester, ShutdownReport, ShutdownRequester } from './primary-events.js';
import { describeForcedStop } from './lifecycle/primary-signals.js';
import { describeUncaughtError } from './pool/crash-notice.js';
import { readyFor } from './pool/ready-for.js';
import { kMemoryLoopAt } from './pool/memory-policy.js';
import { isNodeOptionFailure } from './pool/node-option-failure.js';
import { describeWorkerCount } from './worker-count-line.js';
import { describeUnmerged } from './features/unmerged-metrics.js';
import { launcherPidOf } from './launched-by.js';
import { describeKilledDescendants, describeLeftRunning, kPidsInLine } from '../worker/end-descendants.js';
import { isPaused } from '../worker/process-table.js';
import { describeCancelledRestarts, describeInterrupted, describeNotReplaced, describeRefilled, describeVacant } from '../control/stop-counts.js';
import { describeEnvChanges, type EnvChanges } from '../control/env-changes.js';
import { isOutsideKillSignal, kGroupHangupHow, killedFromOutside, stoppedFromOutside, kUnforgivenHangupAdvice, kUnforgivenHangupHow } from './pool/outside-kill.js';
import { kMaxGroupHangups } from './pool/slot.js';
import { isOnSteeredPort } from './pool/silent-steer.js';
import { describeHeapFigures, describeHeapPressure, kGcNearLimit, type HeapPressure } from './pool/heap-pressure.js';
import { plural } from '../plural.js';

/** Who stops a process: the words of the silent and unresponsive lines for a worker in state T or t (H311). */
const kPausedBy = 'kill -STOP or a debugger; kill -CONT resumes it';

/**
 * Of a crash after the worker served: no failed start, and restarted with no limit counting it
 * (restart-policy.ts). Before: "having served: a crash, counted toward no restart limit" (H240).
 */
const kServedCrash = 'it had served, so it is no failed start and its restart counts toward no limit';

/**
 * Of a crash after the worker served, within the startup window (H366): its slot backs off,
 * and what ends it. Before: the served crash's words and a restart after 100 ms every time.
 */
function unstableCrashText(unstableCrashes: number, restartDelayMs: number | undefined, startupWindow: string): string {
  const wait = restartDelayMs === undefined ? 'restarting with backoff' : `restarting in ${wholeMs(restartDelayMs)} ms`;
  const crashes = unstableCrashes === 1 ? `1 crash within ${startupWindow} of ready` : `${unstableCrashes} crashes within ${startupWindow} of ready in a row`;
  return `it had served, so it is no failed start and counts toward no limit; ${wait}: ${crashes} (restart.startupWindowMs), the backoff doubling until a worker stays ready longer`;
}

/**
 * Of a crash after the worker served, past the startup window but before `stableAfterMs`, whose
 * restart waits longer than the first (H449): the wait, and what resets it. Before: the served
 * crash's words and a restart after 100 ms every time.
 */
function growingBackoffText(restartAttempt: number, restartDelayMs: number, stableAfter: string): string {
  return `it had served, so it is no failed start and counts toward no limit; restarting in ${wholeMs(restartDelayMs)} ms: ${restartAttempt} restarts in a row with no worker ready ${stableAfter} (restart.stableAfterMs), the backoff doubling until one stays ready that long`;
}

/** `1 s`, `1.5 s`, `800 ms`: the startup window as the unstable crash line says it. */
function windowText(ms: number): string {
  return ms >= 1_000 && ms % 1_000 === 0 ? `${ms / 1_000} s` : formatElapsed(ms);
}

/**
 * What used up the time kept for a worker's `_destroy` before it began (`workerDestroyTimeout`'s
 * `shortenedBy`, H350), and what to do.
 */
const kShortenedBy = {
  init: "the stop came while the worker was still starting, and waited for its _init() to finish until after the drain's end. Keep _init() shorter than shutdownTimeoutMs, or give it a deadline of its own",
  blocked:
    "the worker's event loop was held past the end of its drain (synchronous code in a request handler, a message handler or a 'shutdown' listener, or a machine too busy to run it). Code that blocks the event loop delays every stop",
} as const;

/** At most one `storeFull` line per this many ms. */
const kStoreFullLogIntervalMs = 60_000;

/**
 * Said of a signal the primary did not send during a stop. Not "clusterkit did not send it": the
 * orphan watchdog in the worker is clusterkit's, and SIGKILLs a worker whose channel closed
 * (its own `process.disconnect()`) and whose stop overran (tester t20).
 */
const kUnknownSignalSource =
  "the primary did not send it; likely sources: clusterkit's orphan watchdog in the worker (it kills a worker whose channel to the primary closed, as by a process.disconnect() in its code, and whose stop then overran), code in the worker killing itself (as in a shutdown listener), kill -9, or the OOM killer";

/** `countReason`: why `workerCount: 'auto'`/`'max'` came to the count it did, said as the start begins. */
export function attachPrimaryLogging(primary: ClusterPrimary, logger: Logger = createLineLogger(), countReason?: string): void {
  if (countReason !== undefined) primary.on('initialize', () => logger.info({ workers: primary.options.workerCount }, describeWorkerCount(primary.options.workerCount, countReason)));
  // A named worker's name and roles too (H351: docs/named-workers.md said logs show the name;
  // no line did): `workerName`, not `name`, which is pino's logger name (the JSON line's own
  // field). Roles comma-joined, as CLUSTERKIT_ROLES carries them (a role has no comma).
  const ids = (worker: WorkerHandle) => ({
    workerId: worker.id,
    workerPid: worker.pid,
    slot: worker.slot,
    ...(worker.name === undefined ? {} : { workerName: worker.name }),
    // Defensive: an event emitted by hand (tests, a user's own emit) may carry a handle without roles.
    ...(worker.roles === undefined || worker.roles.length === 0 ? {} : { workerRoles: worker.roles.join(',') }),
  });
  /** The error of a worker still starting, said in the one line of its failed start; cleared at ready or exit. */
  const startupErrors = new Map<number, Error>();
  const logError = (worker: WorkerHandle, error: Error) => {
    // A hook's error already names the worker.
    const message = error instanceof RemoteError && error.messageType === '_destroy' ? error.message : `worker ${worker.id} error: ${error.message}`;
    logger.error({ ...ids(worker), err: error }, message);
  };

  primary.on('workerFork', ({ worker }) => logger.debug(ids(worker), `worker ${worker.id} forked`));
  // A worker writing in a loop into a full store would log a line per write: the first
  // refusal is logged, then at most one line a minute, with how many were refused since.
  let storeFullLoggedAt = -Infinity;
  let storeFullSince = 0;
  primary.on('storeFull', ({ worker, error }) => {
    storeFullSince++;
    const now = performance.now();
    if (now - storeFullLoggedAt < kStoreFullLogIntervalMs) return;
    const more = storeFullSince > 1 ? ` (${storeFullSince} refusals since the last such line)` : '';
    logger.warn({ ...ids(worker), err: error, refused: storeFullSince }, `worker ${worker.id}: ${error.message}${more}`);
    storeFullLoggedAt = now;
    storeFullSince = 0;
  });
  // Once per primary (H523): the workers' series a scrape left out for want of prom-client, and what to do.
  primary.on('metricsDropped', (event) => logger.warn({ reason: event.reason, workers: event.workers, series: event.series }, describeUnmerged(event, event.error)));
  primary.on('workerReady', ({ worker }) => {
    logger.info(ids(worker), `worker ${worker.id} ready`);
    const error = startupErrors.get(worker.id);
    startupErrors.delete(worker.id);
    if (error) logError(worker, error);
  });
  /**
   * Workers the primary kills (SIGKILL) with the reason its exit line gives: the heartbeat found
   * them unresponsive, or they wrote what the primary cannot read on their channel. Weak: no
   * exit may follow (the process was already gone).
   */
  const killing = new WeakMap<WorkerHandle, { why: string; fields: Record<string, unknown> }>();
  primary.on('workerError', ({ worker, error }) => {
    if (error instanceof ChannelCorruptError) {
      const why = error.reason === 'bulk-lost' ? 'its messages waited for bytes that never came on its bulk pipe' : `its ${error.reason.startsWith('bulk-') ? 'bulk pipe' : 'IPC channel'} carried what the primary cannot read`;
      killing.set(worker, { why: `${why} (${error.reason}, the error above)`, fields: { reason: error.reason } });
    }
    // Node refusing its options is told as it exits, the failed start its exit line says (H253).
    if (worker.readyAt === undefined && (worker.state !== 'exited' || isNodeOptionFailure(error))) startupErrors.set(worker.id, error);
    else logError(worker, error);
  });
  /**
   * Workers that cut requests off during their stop (`workerRequestsCut`, told before the exit):
   * a plain script's own cleanup may exit with code 0 all the same, and its exit line must not
   * say it stopped cleanly. Entries go with their handles.
   */
  const cutInStop = new WeakSet<WorkerHandle>();
  primary.on('workerRequestsCut', ({ worker, reason }) => {
    if (reason !== 'unexpected-exit') cutInStop.add(worker);
  });
  /**
   * Workers whose own stop overran (`workerDestroyTimeout`, told just before the exit): one not
   * ready yet did start, and its stop, not its start, failed (H238). What overran, as said.
   */
  const overranStop = new WeakMap<WorkerHandle, string>();
  /** Killed workers whose exit line was written: their `workerCrash` needs no second line. */
  const killedByPrimary = new WeakSet<WorkerHandle>();
  /** Workers a forced stop killed (`shutdownForced`): its line said them, and the exit follows. */
  const forcedKills = new WeakSet<WorkerHandle>();
  /**
   * A crash's plain exit line, held for the `workerCrash` emitted right after it (same turn):
   * that line says it all, with the exit's code and signal (newcomer t76 #4: two WARN lines per
   * crash). Written at the end of the turn when no crash line took it (a retired slot, a closed pool).
   */
  const heldExitLines = new Map<WorkerHandle, Record<string, unknown>>();
  primary.on('workerExit', ({ worker, code, signal, expected, killed, killedFor, isStopUnfinished, isEndedUnstarted, isGroupHangup, isChannelBacklogged, backlogOf, stopSignal, lostRequests, isLowerBound, resetConnections, beforeTakeover }) => {
    if (forcedKills.has(worker)) return;
    const fields = { ...ids(worker), code, signal };
    // What the primary's kill cut, on the kill's own line as on a crash's (H367).
    // A SIGKILL leaves the worker no count at its exit: what it cut is as its last report said.
    const cut = killed && lostRequests !== undefined ? describeLost(lostRequests, isLowerBound, resetConnections, signal === 'SIGKILL') : '';
    const lost = cut ? `; ${cut}` : '';
    const lostFields = lost ? { lostRequests, ...(resetConnections === undefined ? {} : { resetConnections }) } : {};
    // A kill no event told of before (H519: a worker that closed its channel and lingered read as killed from outside).
    const kill = killing.get(worker) ?? (killed && killedFor !== undefined ? killReason(killedFor) : undefined);
    if (kill !== undefined && !expected && worker.readyAt !== undefined) {
      killedByPrimary.add(worker);
      const how = signal === 'SIGKILL' ? 'was killed (SIGKILL)' : `${describeExit(code, signal, worker.pid)} as it was killed`;
      logger.warn({ ...fields, ...kill.fields, ...lostFields }, `worker ${worker.id} ${how} by the primary: ${kill.why}${lost}`);
      return;
    }
    const startupError = startupErrors.get(worker.id);
    startupErrors.delete(worker.id);
    // One that never became ready and exits with a failure during a stop failed to start: not a failed stop.
    const failedBeforeReady = worker.readyAt === undefined && (!expected || startupError !== undefined || (signal === null && code !== 0));
    const overran = overranStop.get(worker) ?? (startupError instanceof RemoteError && startupError.messageType === '_destroy' ? startupError.message.replace(/^.*?: /, '') : undefined);
    if (expected && worker.readyAt === undefined && overran !== undefined && !(code === 0 && signal === null)) {
      logger.warn(fields, `worker ${worker.id} did not stop cleanly: its stop came while it was still starting, and ${overran}; it ${describeExit(code, signal, worker.pid)}`);
    } else if (isEndedUnstarted === true) {
      logger.info(fields, `worker ${worker.id} stopped before it was ready: its stop came before its code started (ended by SIGTERM)`);
    } else if (failedBeforeReady && isGroupHangup === true && startupError === undefined) {
      // A group's SIGHUP that asked the primary for a reload too (retest t72 N2): told as what it was, not as an error of the script.
      logger.warn({ ...fields, isGroupHangup }, `worker ${worker.id} could not start: ${describeGroupHangup(recordOf(worker), primary.options.restart !== false)}`);
    } else if (failedBeforeReady) {
      logger.error(stopSignal === undefined ? fields : { ...fields, stopSignal }, `worker ${worker.id} could not start: ${startFailure(worker, startupError, code, signal, stopSignal)}`);
    } else if (!expected && stopSignal !== undefined && code === 0 && signal === null) {
      // It said why it went: the signal, not just `code=0` (H275).
      logger.warn({ ...fields, stopSignal }, `worker ${worker.id} exited unexpectedly: it ${stoppedFromOutside(stopSignal)} and exited with code 0`);
    } else if (!expected && beforeTakeover !== undefined) {
      // A replacement gone before its takeover: no crash line follows, so this one says what a crash's does (H360).
      const { readyMs, unseenMs, lostRequests, isLowerBound, resetConnections, error } = beforeTakeover;
      const cut = describeLost(lostRequests ?? 0, isLowerBound, resetConnections);
      const of = error === undefined ? '' : `, of ${describeUncaughtError(error)}`;
      logger.warn(
        { ...fields, readyMs, ...(unseenMs === undefined ? {} : { unseenMs }), ...(lostRequests === undefined ? {} : { lostRequests }), ...(resetConnections === undefined ? {} : { resetConnections }), ...(error === undefined ? {} : { error: error.code ?? error.name }) },
        `worker ${worker.id} exited unexpectedly: it ${describeExit(code, signal, worker.pid)} ${readyFor(readyMs, unseenMs)}${of}${cut ? `; ${cut}` : ''}. ` +
          "It had not taken over its slot yet (a reload's or a memory replacement, serving beside the worker it was to replace), so it is not restarted: the replacement failed",
      );
    } else if (!expected && (code !== 0 || signal !== null)) {
      heldExitLines.set(worker, fields);
      queueMicrotask(() => {
        if (heldExitLines.delete(worker)) logger.warn(fields, `worker ${worker.id} exited unexpectedly`);
      });
    } else if (!expected) {
      logger.warn(fields, `worker ${worker.id} exited unexpectedly`);
    } else if (isStopUnfinished && isChannelBacklogged === true && backlogOf === 'worker') {
      logger.warn(
        fields,
        `worker ${worker.id} did not stop cleanly: it exited with code 0 before the primary heard that its stop finished, while the primary was still reading a backlog of the worker's own messages ` +
          `(its IPC channel was backed up to its exit): its notice that the stop finished may be unread behind them, or lost at the exit, so what ended it cannot be told. ` +
          `A worker that sends many messages without waiting (raw process.send, in its cleanup too) backs its channel up: send fewer, or wait for process.send()'s callback before sending more`,
      );
    } else if (isStopUnfinished && isChannelBacklogged === true) {
      logger.warn(
        fields,
        `worker ${worker.id} did not stop cleanly: it exited with code 0 before the primary heard that its stop finished, with its IPC channel backed up to its exit ` +
          `(it was still reading a backlog of the primary's messages): its notice may have been lost behind a backlog of its own messages, so what ended it cannot be told. ` +
          `A worker that sends many messages without waiting (raw process.send) backs its channel up: send fewer, or wait for process.send()'s callback before sending more`,
      );
    } else if (isStopUnfinished) {
      logger.warn(
        fields,
        `worker ${worker.id} did not stop cleanly: it exited with code 0 before its stop finished, in a way that skips Node's 'exit' event (process.reallyExit(), a native addon's exit()) in code of the worker`,
      );
    } else if (code === 0 && signal === null && cutInStop.has(worker)) {
      logger.warn(fields, `worker ${worker.id} did not stop cleanly: it exited with code 0, but with requests still open, cut off (the line above)`);
    } else if (code === 0 && signal === null) {
      // Before it was ready, the line says how it ended: a summary's "(the lines above say how)" counts on it (H222).
      logger.info(fields, worker.readyAt === undefined ? `worker ${worker.id} stopped before it was ready: it exited with code 0 once asked to stop` : `worker ${worker.id} stopped`);
    } else if (signal === 'SIGKILL') {
      // Who killed it: the primary (counted killed) at the stop's timeout, or for what it wrote
      // on its channel during the stop (the reason the guard gave); or someone else (failed).
      if (killed && kill !== undefined) logger.warn({ ...fields, ...kill.fields, ...lostFields }, `worker ${worker.id} was killed (SIGKILL) by the primary during its stop, before it finished stopping: ${kill.why}${lost}`);
      else if (killed) logger.warn({ ...fields, ...lostFields }, `worker ${worker.id} was killed (SIGKILL) by the primary at ${stopTimeoutName(recordOf(worker)?.stopTimeoutSetBy)} before it finished stopping${lost}${stopTimeoutAdvice(worker)}`);
      else logger.warn(fields, `worker ${worker.id} was ended by SIGKILL during its stop, before it finished stopping; ${kUnknownSignalSource}`);
    } else if (worker.readyAt === undefined) {
      // Still starting when its stop came, and ended by a signal (one sent to the whole process
      // group reaches it before it handles signals): no stop of a serving worker, and no failed start.
      // A group's SIGHUP that came first is said as such: the primary sends none (retest t73 P6).
      const how = isGroupHangup === true ? `as its stop came, it ${kGroupHangupHow}` : `it ${describeExit(code, signal, worker.pid)}`;
      logger.warn(isGroupHangup === true ? { ...fields, isGroupHangup } : fields, `worker ${worker.id} was stopped before it was ready: ${how}`);
    } else {
      logger.warn(fields, `worker ${worker.id} did not stop cleanly: it ${describeExit(code, signal, worker.pid)}`);
    }
  });
  // A crash before serving, past the startup window: its wait once grown, in the words (retest t49: only in the fields).
  const unservedWait = (restartDelayMs: number | undefined, restartAttempt: number | undefined): string => {
    const policy = primary.options.restart;
    if (policy === false || restartAttempt === undefined || restartDelayMs === undefined || restartAttempt <= 1) return '';
    return `; restarting in ${wholeMs(restartDelayMs)} ms: ${restartAttempt} exits of its slot in a row, the backoff doubling until a worker stays ready ${windowText(policy.stableAfterMs)} (restart.stableAfterMs)`;
  };
  // What the served crash line says: unstable within the window, a grown backoff past it (H449), else the plain words.
  const servedText = (unstableCrashes: number | undefined, restartDelayMs: number | undefined, restartAttempt: number | undefined): string => {
    const policy = primary.options.restart;
    if (unstableCrashes !== undefined) return unstableCrashText(unstableCrashes, restartDelayMs, windowText(policy === false ? 0 : policy.startupWindowMs));
    if (policy !== false && restartAttempt !== undefined && restartDelayMs !== undefined && restartAttempt > 1) return growingBackoffText(restartAttempt, restartDelayMs, windowText(policy.stableAfterMs));
    return kServedCrash;
  };
  primary.on('workerCrash', ({ worker, code, signal, uptimeMs, readyMs, unseenMs, isStartupFailure, hasServed, restartDelayMs, restartAttempt, unstableCrashes, lostRequests, isLowerBound, resetConnections, error }) => {
    // What its death cut: open as it exited (its own word) or at its last report ($openRequests, a heartbeat answer), and connections it was handed and never took.
    const cut = describeLost(lostRequests ?? 0, isLowerBound, resetConnections, signal === 'SIGKILL');
    const lost = cut ? `; ${cut}` : '';
    if (worker.readyAt === undefined) return;
    // Its kill line said what the kill cut (H367): no second line.
    if (killedByPrimary.has(worker)) return;
    // This line is its exit's too: the exit's own is not written.
    heldExitLines.delete(worker);
    // How the restart policy counts it: one that died soon after ready, before serving anything,
    // never got going (a failed start; the breaker's line follows if it trips); one that served
    // started, and its crash counts toward no limit.
    // A reload's replacement, ready, serving beside it (its minReadyMs): that one takes the slot
    // over, and the restart runs only if it fails (retest t61 M2: the line told of a restart that never came).
    const incoming = recordOf(worker)?.slot.incoming;
    const takesOver = incoming !== undefined && incoming.readyAt !== undefined && incoming.state !== 'exited';
    const takeover = `; the reload's replacement for its slot, worker ${incoming?.id}, is ready and serves beside it: it takes the slot over, with no restart (one runs only if that replacement fails)`;
    const counted = isStartupFailure
      ? `, before it served anything: counted as a failed start (restart.startupWindowMs)${takesOver ? takeover : ''}`
      : takesOver
        ? `${hasServed ? '; it had served, so it is no failed start' : ''}${takeover}`
        : hasServed
          ? `; ${servedText(unstableCrashes, restartDelayMs, restartAttempt)}`
          : unservedWait(restartDelayMs, restartAttempt);
    // Of what, when the worker said (an uncaught error): its output says it too, but far from
    // this line. The field names the error (as the logger does an Error's), the line says it.
    const of = error === undefined ? '' : `, of ${describeUncaughtError(error)}`;
    logger.warn(
      { ...ids(worker), code, signal, uptimeMs, readyMs, ...(unseenMs === undefined ? {} : { unseenMs }), ...(restartDelayMs === undefined || takesOver ? {} : { restartDelayMs }), ...(restartAttempt === undefined || takesOver ? {} : { restartAttempt }), ...(unstableCrashes === undefined ? {} : { unstableCrashes }), ...(lostRequests === undefined ? {} : { lostRequests }), ...(resetConnections === undefined ? {} : { resetConnections }), ...(error === undefined ? {} : { error: error.code ?? error.name }) },
      `worker ${worker.id} ${died(code, signal, error)} ${readyFor(readyMs, unseenMs)}${of}${of ? counted.replace(/^,/, ';') : counted}${lost}`,
    );
  });
  primary.on('workerRestart', ({ previous, worker, delayMs, attempt }) => {
    // After a failed start, its line said it all; the retry is a detail.
    // Unless a group's SIGHUP ended it, whose line promised this start (retest t73: no line came).
    const level = previous.readyAt === undefined && recordOf(previous)?.isGroupHangup !== true ? 'debug' : 'info';
    // A worker that ran an env a failed reload put back (retest t63b: its slot went back to the env from before, unsaid).
    const isOtherEnv = recordOf(previous)?.env !== recordOf(worker)?.env;
    const env = isOtherEnv ? ', with the env in force (the one it replaces ran with the env of a reload that failed, which is not in force)' : '';
    logger[isOtherEnv ? 'info' : level]({ ...ids(worker), previous: previous.id, delayMs, attempt }, `worker ${worker.id} replaces worker ${previous.id}${env}`);
  });
  /** A worker found silent on the tick that kills it: why (undefined for the heap's words), for its unresponsive line. */
  const silenceAtKill = new Map<WorkerHandle, string | undefined>();
  primary.on('workerSilent', ({ worker, silentMs, nearHeapLimit }) => {
    // A process stopped by a signal or a debugger is not blocked: /proc says so (hostile t32 LOW-2, H311).
    const paused = worker.pid !== undefined && isPaused(worker.pid);
    // Its heap near its limit at its last answer: garbage collection, most likely, starves its loop (H394).
    const why = paused ? `its process is stopped (${kPausedBy}), not blocked` : nearHeapLimit ? `${describeHeapFigures(nearHeapLimit)}, ${kGcNearLimit}` : 'its event loop most likely blocked';
    // New connections too when it listens on a port whose connections the primary hands out (round-robin scheduling, H378).
    const passedOver = isOnSteeredPort(worker.clusterWorker) ? 'new connections, roundRobin() and sticky sessions' : 'roundRobin() and sticky sessions';
    // Found silent on the tick that kills it (H585): no "until it answers" for a worker killed now (retest t60).
    const isKilledNow = recordOf(worker)?.isUnresponsive === true;
    const then = isKilledNow ? 'past the heartbeat timeout already, so it is killed now' : `${passedOver} pass it over until it answers`;
    const fields = { ...ids(worker), silentMs, ...(paused ? { paused } : {}), ...heapFields(paused ? undefined : nearHeapLimit) };
    const line = `worker ${worker.id} silent for ${formatElapsed(silentMs)}, ${why}: ${then}`;
    if (!isKilledNow) return logger.warn(fields, line);
    // Its unresponsive line, in the same turn, says it (retest t85: a WARN, an ERROR and a WARN for one hang); the heap's words are that line's own.
    silenceAtKill.set(worker, paused || nearHeapLimit === undefined ? why : undefined);
    queueMicrotask(() => {
      if (silenceAtKill.delete(worker)) logger.warn(fields, line);
    });
  });
  primary.on('workerSilenceEnd', ({ worker, silentMs }) => logger.info({ ...ids(worker), silentMs }, `worker ${worker.id} answers again after ${formatElapsed(silentMs)} silent`));
  primary.on('workerUnresponsive', ({ worker, silentMs, primaryBlockedMs, nearHeapLimit }) => {
    const paused = worker.pid !== undefined && isPaused(worker.pid);
    const pausedText = paused ? ` (its process was stopped: ${kPausedBy})` : '';
    // Its heap near its limit at its last answer (H394): memory, most likely, not a busy loop.
    const pressure = paused ? undefined : nearHeapLimit;
    const heapText = pressure ? `; ${describeHeapPressure(pressure)}` : '';
    // During its stop (H376): the heartbeat's timeout ended it, not the stop's, and the lines say so.
    const { heartbeat } = primary.options;
    const timeoutMs = worker.state === 'stopping' && heartbeat ? heartbeat.timeoutMs : undefined;
    const past = timeoutMs === undefined ? '' : `, past the heartbeat timeout (${formatElapsed(timeoutMs)}), so its stop was not waited for`;
    // The primary's own stall within that silence (H474): said, so the figure is not read as the worker's alone.
    const blockedText = primaryBlockedMs === undefined ? '' : `, ${wholeMs(primaryBlockedMs)} ms of them while the primary itself was blocked`;
    const blockedField = primaryBlockedMs === undefined ? {} : { primaryBlockedMs };
    killing.set(worker, { why: `it did not answer heartbeats for ${wholeMs(silentMs)} ms${blockedText}${pausedText}${past}${heapText}`, fields: { silentMs, ...blockedField, ...(paused ? { paused } : {}), ...(timeoutMs === undefined ? {} : { heartbeatTimeoutMs: timeoutMs }), ...heapFields(pressure) } });
    const isSilenceHeld = silenceAtKill.has(worker);
    const silentWhy = silenceAtKill.get(worker);
    silenceAtKill.delete(worker);
    const silence = !isSilenceHeld ? '' : ` (silent for ${formatElapsed(silentMs)}${silentWhy === undefined ? '' : `, ${silentWhy}`}, past the heartbeat timeout)`;
    if (timeoutMs === undefined) logger.error({ ...ids(worker), silentMs, ...blockedField, ...heapFields(pressure) }, `worker ${worker.id} unresponsive${silence}, killing it${heapText}`);
    else
      logger.error(
        { ...ids(worker), silentMs, ...blockedField, heartbeatTimeoutMs: timeoutMs, ...heapFields(pressure) },
        // Its process stopped (SIGSTOP, a debugger) is no blocked loop (retest t51): the line says which.
        `worker ${worker.id} unresponsive during its stop (silent for ${formatElapsed(silentMs)}, past the heartbeat timeout of ${formatElapsed(timeoutMs)}${paused ? `; its process is stopped: ${kPausedBy}` : ''}), killing it: a ${paused ? 'stopped' : 'blocked'} worker finishes nothing, and its stop would wait for its own timeout${heapText}`,
      );
  });
  primary.on('workerDescendantsKilled', ({ worker, pids, count }) =>
    logger.warn({ ...ids(worker), killedPids: pids.slice(0, kPidsInLine), killedCount: count }, `worker ${worker.id}: ${describeKilledDescendants(pids, undefined, count)}`),
  );
  primary.on('workerDescendantsLeft', ({ worker, processes, count }) =>
    logger.warn(
      { ...ids(worker), leftPids: processes.slice(0, kPidsInLine).map(({ pid }) => pid), leftCount: count },
      `worker ${worker.id}${worker.pid === undefined ? '' : ` (pid ${worker.pid})`}: ${describeLeftRunning(processes, count)}`,
    ),
  );
  primary.on('workerProtocolError', ({ worker, error, dropped, problems }) => {
    const kinds = Object.entries(problems);
    // Of several kinds: each counted, so the line does not read as `dropped` of the last one's kind.
    const mix = kinds.length > 1 ? ` Of the ${dropped} messages dropped, ${kinds.map(([problem, count]) => `${count} ${problem}`).join(', ')}; the above is the last.` : '';
    logger.warn({ ...ids(worker), dropped, problem: error.problem, ...(kinds.length > 1 ? { problems } : {}) }, `${error.message}${mix}`);
  });
  primary.on('workerSlowMessage', ({ worker, readMs, reads, bytes, count, maxMessageBytes, types }) => {
    const more = count > 1 ? ` (${count} times since the last such line)` : '';
    // Its answers to scrapes of its registry, not anything the script sent (hostile tester t61b:
    // the line had the operator look for a process.send() the script never made).
    if (isMetricsAnswers(types)) {
      const inReads = reads > 1 ? ` in ${reads} reads (the largest about ${formatBytes(bytes)})` : ` (about ${formatBytes(bytes)})`;
      logger.warn(
        { ...ids(worker), readMs, reads, bytes, ...(count > 0 ? { count } : {}), types },
        `worker ${worker.id}'s answers to metrics scrapes (primary.metrics(), /metrics) took the primary ${formatElapsed(readMs)} to read${inReads}: nothing else ran in the primary meanwhile${more}. ` +
          'Its metrics registry is large: register fewer series (labels with many values), or scrape less often',
      );
      return;
    }
    const what = reads > 1 ? `messages that took the primary ${formatElapsed(readMs)} to read in ${reads} reads (the largest about ${formatBytes(bytes)})` : `a message that took the primary ${formatElapsed(readMs)} to read (about ${formatBytes(bytes)})`;
    logger.warn(
      { ...ids(worker), readMs, reads, bytes, count, ...(types.length > 0 ? { types } : {}) },
      `worker ${worker.id} sent ${what}: nothing else ran in the primary meanwhile${more}. ` +
        `Messages of many small values parse slowly; send a file path or a store key instead, or lower maxMessageBytes (${formatBytes(maxMessageBytes)}) if workers are not trusted`,
    );
  });
  primary.on('stickyRefused', ({ reason, worker, role, count, limit, limitValue }) => {
    const more = count > 1 ? ` (${count} such connections since the last such line)` : '';
    const fields = { ...(worker ? ids(worker) : {}), reason, count, ...(role === undefined ? {} : { role }), ...(limit === undefined ? {} : { limit, limitValue }) };
    const waiting = `the connections waiting in the primary to be handed to ${worker === undefined ? 'its worker' : `worker ${worker.id}`}`;
    const reached =
      limit === 'openFiles'
        ? `those waiting for all workers reached ${limitValue}, half the primary's open-file limit (ulimit -n): a flood of connections, or workers slow to take them. A client's retry gets through once those are taken; raise ulimit -n if such bursts are legitimate`
        : `${waiting} reached listenSticky({ maxQueued })${limitValue === undefined ? ' (4096 by default)' : ` (${limitValue})`}: a flood of connections, or a worker slow to take them. A client's retry reaches ${worker === undefined ? 'its worker' : `worker ${worker.id}`} once those are taken; raise maxQueued if such bursts are legitimate`;
    const withRole = role === undefined ? '' : ` with role '${role}'`;
    const why =
      reason === 'worker-refused'
        ? `worker ${worker?.id} closed a sticky connection it could not serve (it has no serveSticky() server, or it had stopped); it gets no more sticky connections`
        : reason === 'queue-full'
        ? `sticky connection closed: ${reached}`
        : reason === 'not-received'
        ? `sticky connection closed: worker ${worker?.id}'s process could not take it (Node passed it 4 times, then closed it; Node's SentHandleNotReceivedWarning is about it): most likely the worker is out of file descriptors (ulimit -n). Raise the limit, or close idle connections in the worker (server.headersTimeout, server.requestTimeout)`
        : reason === 'no-sticky-worker'
        ? `sticky connection closed: no ready worker${withRole} serves sticky connections; a worker takes part once it calls this.serveSticky(server), best in _init()`
        : // During a shutdown that is why (hostile t62 F5: connections queued for a worker its stop killed read as a readiness problem).
          `sticky connection closed: no worker${withRole} is ready${primary.state === 'stopping' || primary.state === 'stopped' ? ': the primary is shutting down, and its workers stop' : ''}`;
    logger.warn(fields, `${why}${more}`);
  });
  /** Workers replaced for their memory: their replacement's takeover is said as a crash's restart is (ops t60). */
  const overMemory = new WeakSet<WorkerHandle>();
  primary.on('workerMemoryLimit', ({ worker, rssBytes, limitBytes, inARow, delayMs, action, replacement, replacementStartingMs }) => {
    if (action === 'restart') {
      // What was the case then, not a guess (H180, H190): a replacement still starting may only
      // be slower than the leak, and become ready a moment later.
      const startingFor = replacementStartingMs === undefined ? '' : ` after ${formatElapsed(replacementStartingMs)}`;
      const why = replacement === 'failed' ? 'its replacement had failed to start' : `its replacement was still starting${startingFor}`;
      const advice =
        replacement === 'failed'
          ? 'The script leaks memory, and its replacement could not start (the warning above says why): fix both'
          : 'The script leaks memory faster than a new worker starts (the replacement may yet become ready): fix the leak, and if workers should start faster, look at what their start-up waits for (readyTimeoutMs)';
      // No other worker serves meanwhile (pm2 tester t53 F2): said, or a 1-worker app's gap of
      // about a second with no listener went unsaid.
      // Ready and heard: a silent one (blocked, stopped) serves nothing either (retest t54).
      const serving = primary.stats().filter((other) => other.id !== worker.id && other.state === 'ready' && !other.isSilent).length;
      const gap = serving === 0 ? ' No other worker is ready: until one is, nothing serves (run 2 workers or more to keep serving through this).' : '';
      // The one line of the hard bound (H163): the limit held nothing while replacements did not come.
      logger.error(
        { ...ids(worker), rssBytes, limitBytes, action, replacement, ...(replacementStartingMs === undefined ? {} : { replacementStartingMs }) },
        `worker ${worker.id} over the memory limit grew by the limit once more while ${why}: RSS ${mib(rssBytes)}, limit ${mib(limitBytes)} (maxMemoryMb). ` +
          `It is stopped without waiting for its replacement, and the slot restarts in place as after a crash, with its backoff and limits (restart.maxStartupFailures).${gap} ` +
          advice,
      );
      return;
    }
    // One line per replacement: from the loop on, it says what the loop means and what to change.
    const loop =
      inARow < kMemoryLoopAt
        ? ''
        : `; ${inARow} replacements in a row, each soon after its worker started (within restart.stableAfterMs): the limit is below what the worker needs, ` +
          `or it leaks memory from the start. It is replaced each time, after a back-off of ${formatElapsed(delayMs)} (restart.backoff); raise the limit (maxMemoryMb; clusterkit run: --max-memory) or fix the leak`;
    logger.warn({ ...ids(worker), rssBytes, limitBytes, inARow, delayMs }, `worker ${worker.id} over the memory limit: RSS ${mib(rssBytes)}, limit ${mib(limitBytes)} (maxMemoryMb)${loop}`);
    overMemory.add(worker);
  });
  primary.on('slotChange', ({ worker, previous, reason }) => {
    if (reason !== 'replace' || previous === undefined || !overMemory.has(previous)) return;
    overMemory.delete(previous);
    logger.info({ ...ids(worker), previous: previous.id }, `worker ${worker.id} replaces worker ${previous.id} (its memory limit)`);
  });
  primary.on('workerDestroyTimeout', ({ worker, timeoutMs, signal, elapsedMs, reservedMs, shortenedBy, openRequests, heldOutputBytes }) => {
    // The service runner's `onWorkerShutdown`, as its worker named it: its user wrote no `_destroy` (H694).
    const hook = `${recordOf(worker)?.destroyHook ?? '_destroy'}()`;
    const what = signal ? `the script's ${signal} listener ran but the process did not exit` : `${hook} did not finish`;
    const fields = {
      ...ids(worker),
      timeoutMs,
      ...(signal ? { signal } : {}),
      ...(elapsedMs !== undefined ? { elapsedMs } : {}),
      ...(reservedMs !== undefined ? { reservedMs } : {}),
      ...(shortenedBy !== undefined ? { shortenedBy } : {}),
      ...(openRequests !== undefined ? { openRequests } : {}),
      ...(heldOutputBytes !== undefined ? { heldOutputBytes } : {}),
    };
    // The time kept for it was used up before it began (H350): said so, not blamed on `_destroy`.
    if (shortenedBy !== undefined && reservedMs !== undefined) {
      overranStop.set(worker, `its ${hook} was left only ${wholeMs(timeoutMs)} ms, as the time kept for it was used up before it began (the line above)`);
      logger.warn(
        fields,
        `worker ${worker.id}: ${hook} was left only ${wholeMs(timeoutMs)} ms of the worker's own deadline, not the ${wholeMs(reservedMs)} ms kept for it, and did not finish in them: ${kShortenedBy[shortenedBy]}; it exits with code 1`,
      );
      return;
    }
    overranStop.set(worker, `${what} within its deadline (the line above)`);
    // The worker's figure, when the primary's clock rules it out (H221): what the primary knows is said instead.
    if (elapsedMs !== undefined) {
      logger.warn(fields, `worker ${worker.id} says ${what} within ${wholeMs(timeoutMs)} ms, its own deadline, but the primary had asked it to stop only ${wholeMs(elapsedMs)} ms before (by the primary's clock): the figure is not taken as given; it exits with code 1`);
      return;
    }
    // Requests were still open at the deadline (the line above): the listener's server.close() was
    // most likely waiting for them, and "end the process once the cleanup is done" sent a user with
    // that very listener to fix correct code (newcomer t39 M1, H399). What the primary knows instead.
    if (signal !== undefined && openRequests !== undefined) {
      logger.warn(
        fields,
        `worker ${worker.id}: the script's ${signal} listener ran but the process did not exit within ${wholeMs(timeoutMs)} ms, the worker's own deadline, ` +
          `most likely because its cleanup was still waiting for the ${plural(openRequests, 'request')} still open then, cut off (the line above: server.close() waits for open requests to end); ` +
          `it exits with code 1. ${raiseStopTimeout(recordOf(worker)?.stopTimeoutSetBy)} if requests take longer, or have the listener end long requests (streams, long polls) as it closes the server; a listener that ends the process once its servers have closed (server.close(() => process.exit(0))) is not at fault`,
      );
      return;
    }
    // Its output waited for a reader that took nothing (a full pipe): a Node process does not end
    // before it is written, so the listener was most likely not at fault (retest t57 R6, H553).
    if (signal !== undefined && heldOutputBytes !== undefined) {
      logger.warn(
        fields,
        `worker ${worker.id}: the script's ${signal} listener ran but the process did not exit within ${wholeMs(timeoutMs)} ms, the worker's own deadline, ` +
          `most likely because ${formatBytes(heldOutputBytes)} of its output still waited for their reader (a full pipe, a paused terminal, a slow log shipper), and a Node process does not end before its output is written; ` +
          `it exits with code 1, that output lost. Have its output read (what reads clusterkit run's stdout), or write less as it stops: the listener itself is most likely not at fault`,
      );
      return;
    }
    // What to do, for a plain script's listener (newcomer t31 L1: a PM2-style SIGINT listener that
    // never exits failed every reload and stop, and the line said only what happened), and for
    // _destroy(): what sets its time, the call's own timeoutMs or the option (the line gave neither).
    const advice = signal
      ? `. The listener must end the process once its cleanup is done (server.close(() => process.exit(0))), or be left out: clusterkit stops the worker gracefully without it`
      : `. ${raiseStopTimeout(recordOf(worker)?.stopTimeoutSetBy)} if ${hook} needs longer (the worker's own deadline comes before the stop's timeout, to leave time for its exit), or have it finish sooner`;
    logger.warn(fields, `worker ${worker.id}: ${what} within ${wholeMs(timeoutMs)} ms, the worker's own deadline; it exits with code 1${advice}`);
  });
  // One line per worker, so a reload or scale-down that takes gradualDrainMs longer says why.
  // Its exit dropped output it had written: a stop that reads graceful lost its last lines (H540).
  primary.on('workerOutputLost', ({ worker, bytes }) => {
    logger.warn(
      { ...ids(worker), bytes },
      `worker ${worker.id} exited with ${formatBytes(bytes)} of its output (stdout, stderr) not yet taken by their reader: its last lines are lost. ` +
        'The reader was slow or stopped (a full pipe, a paused terminal, a slow log shipper): read the output faster, or write less as the worker stops',
    );
  });
  primary.on('workerDrain', ({ worker, connections, spreadMs }) => {
    if (connections === 0) return;
    // Shorter than the option: half the time left to the worker's deadline (shutdownTimeoutMs).
    const why = spreadMs < primary.options.gradualDrainMs ? 'gradualDrainMs, at most half of shutdownTimeoutMs' : 'gradualDrainMs';
    const text = `worker ${worker.id} drains gradually: it releases its ${plural(connections, 'open connection')} one at a time over ${formatElapsed(spreadMs)} (${why}), then stops`;
    logger.info({ ...ids(worker), connections, spreadMs }, text);
  });
  primary.on('workerRequestsCut', ({ worker, openRequests, timeoutMs, reason, signal, isLowerBound, resetConnections, messageTypes, givenUp, requestersExited, shortenedBy, heldMs, elapsedMs }) => {
    const requests = plural(openRequests, 'request');
    // The stop was held before its drain (H360): said, with the time since the ask, not "raise the timeout".
    const held = shortenedBy !== undefined && heldMs !== undefined && elapsedMs !== undefined && timeoutMs !== undefined ? describeHeld(shortenedBy, heldMs, timeoutMs) : undefined;
    const types = (messageTypes ?? []).map((type) => `"${type}"`).join(', ');
    const handlers = plural(openRequests + (givenUp ?? 0), 'message handler');
    const abandoned = describeAbandoned(openRequests, givenUp ?? 0, requestersExited ?? 0);
    if (held !== undefined && (reason === 'deadline' || reason === 'handlers')) {
      const what = reason === 'deadline' ? `cut off ${requests} still open` : `abandoned ${handlers} still running`;
      const of = reason === 'deadline' ? '' : ` (of ${types}: ${abandoned})`;
      logger.warn(
        { ...ids(worker), openRequests, reason, ...(messageTypes === undefined ? {} : { messageTypes }), ...(givenUp === undefined ? {} : { givenUp }), ...(requestersExited === undefined ? {} : { requestersExited }), timeoutMs, heldMs, elapsedMs, shortenedBy },
        `worker ${worker.id} ${what} ${wholeMs(elapsedMs)} ms after the primary asked it to stop${of}: ${held.what}; it exits with code 1. ${held.advice}`,
      );
      return;
    }
    const raise = raiseStopTimeout(recordOf(worker)?.stopTimeoutSetBy);
    const text = {
      deadline: `worker ${worker.id} cut off ${requests} still open at its shutdown deadline (${wholeMs(timeoutMs)} ms after its stop began); it exits with code 1. ${raise} if requests take longer`,
      exit: `worker ${worker.id} exited with ${requests} still open: they were cut off (code in the worker exited before they finished: the script's own cleanup, a process.exit() during its stop, or an exit that skips Node's 'exit' event)`,
      closed: `worker ${worker.id} cut off ${requests} during its stop: code in the worker closed their connections before the responses finished (server.closeAllConnections() or socket.destroy() in a 'shutdown' listener or _destroy); it exits with code 1. Leave open connections to clusterkit's drain, which lets them finish`,
      'unexpected-exit': `worker ${worker.id} exited with code 0 on its own with ${isLowerBound ? 'at least ' : ''}${requests} open: they were cut off (open as it exited or at its last report, or handed to it and not taken yet)${resetConnections ? `, and ${describeReset(resetConnections)}` : ''}; code in the worker called process.exit() or let its process end while serving`,
      handlers: `worker ${worker.id} abandoned ${handlers} still running at its shutdown deadline (${wholeMs(timeoutMs)} ms after its stop began), of ${types}: ${abandoned}; it exits with code 1. ${raise} if handlers take longer, or end them on the worker's 'shutdown' event`,
      signal: `worker ${worker.id} was ended by ${signal} during its stop with ${requests} open: they were cut off (open as it last reported, or handed to it and not taken yet); ${kUnknownSignalSource}`,
    }[reason];
    logger.warn({ ...ids(worker), openRequests, reason, ...(messageTypes === undefined ? {} : { messageTypes }), ...(givenUp === undefined ? {} : { givenUp }), ...(requestersExited === undefined ? {} : { requestersExited }), ...(resetConnections === undefined ? {} : { resetConnections }), ...(timeoutMs === undefined ? {} : { timeoutMs }), ...(signal === undefined ? {} : { signal }) }, text);
  });
  primary.on('crashLoop', ({ slot, name, failures, reason, error }) => {
    // The error's message says why in full (the last failure itself, then the hint): a CLI user
    // has no `cause` to open.
    const text = `${error.message.charAt(0).toLowerCase()}${error.message.slice(1)}`;
    logger.error({ slot, ...(name === undefined ? {} : { workerName: name }), failures, reason, err: error }, text);
  });
  primary.on('crashLoopRefill', ({ slots }) =>
    logger.info(
      { slots },
      `starting ${slots.length === 1 ? `worker slot ${slots[0]}` : `worker slots ${slots.join(', ')}`} again with the reload's code, given up in a crash loop before it, with a fresh crash-loop budget; the reload ends once ${slots.length === 1 ? 'it' : 'they'} stayed up the startup window`,
    ),
  );
  primary.on('shutdown', ({ signal, timeoutMs, requestedBy, starting }) => {
    logger.info({ signal, timeoutMs }, `shutting down${shutdownCause(signal === undefined ? requestedBy : 'signal', launcherPidOf(primary), primary.workers.length)}`);
    if (starting > 0) logger.info({ starting }, describeStartingAtShutdown(starting, timeoutMs, primary.options.handleSignals));
  });
  primary.on('shutdownComplete', (report) => logReport(logger, report, {}, 'shutdown complete'));
  primary.on('shutdownForced', ({ signal, firstSignal, killed, openRequests }) => {
    // This line says the kills and what they cut, in all: the process exits now, and a worker's
    // own exit line would come or not as the exit races it (retest t60: 0, 1 or 2 of 2), and said
    // "at the shutdown timeout" before (ops t60). None is written.
    for (const worker of killed) forcedKills.add(worker);
    const open = openRequests === undefined ? '' : `, ${plural(openRequests, 'request')} still open`;
    logger.error({ signal, firstSignal, killed: killed.length, openRequests }, `${describeForcedStop(signal, firstSignal)} forced the stop: ${plural(killed.length, 'worker')} killed${open}`);
  });
  primary.on('reload', ({ workers, requestedBy, env }) => logger.info({ workers }, `rolling reload started${reloadCause(requestedBy)}${env === undefined ? '' : envClause(env)}`));
  primary.on('reloadComplete', ({ replaced, retired, retiredByStopWorker, stopped, refilled = 0, refillsFailed, vacant = 0, vacantCrashed }) => {
    // Slots not replaced (H191: scaled away; H574: no worker at their turn), each said; and the
    // slots given up in a crash loop it started again (newcomer t76: a reload that brought them
    // all back said `replaced=0` and nothing else), of which those that failed again (H517).
    const clauses = [
      ...(retired === 0 ? [] : [describeNotReplaced(retired, retiredByStopWorker)]),
      ...(vacant === 0 ? [] : [describeVacant(vacant, vacantCrashed)]),
      ...(refilled === 0 ? [] : [describeRefilled(refilled, refillsFailed)]),
    ];
    const fields = {
      replaced,
      ...(retired === 0 ? {} : { retired }),
      ...(retiredByStopWorker === undefined ? {} : { retiredByStopWorker }),
      ...(vacant === 0 ? {} : { vacant, ...(vacantCrashed === undefined ? {} : { vacantCrashed }) }),
      ...(refilled === 0 ? {} : { refilled }),
      ...(refillsFailed === undefined ? {} : { refillsFailed }),
    };
    logReport(logger, stopped, fields, `rolling reload complete${clauses.length === 0 ? '' : `: ${plural(replaced, 'worker')} replaced, ${clauses.join('; ')}`}`);
  });
  primary.on('reloadFailed', ({ error }) => {
    // An operator's stop during a reload is no failure to alert on: said at warn, as what happened.
    if (error instanceof ReloadError && error.isShutdown) logger.warn({ err: error }, `rolling reload stopped: ${error.message}`);
    // A newer save under --watch (H388): no failure of the new code, and its reload follows.
    // Its field is the outcome, not the ReloadError's code (ERR_RELOAD_FAILED): a log alert on
    // that code would fire at each save of a burst (pm2 tester t53), as the metric does not.
    else if (error instanceof ReloadError && error.isSuperseded) logger.info({ outcome: 'superseded' }, `rolling reload superseded: ${error.message}`);
    else logger.error({ err: error }, `rolling reload failed: ${error.message}`);
  });
  primary.on('scale', ({ from, to }) => {
    if (from === to) {
      // Said, so a scale to the target it has is not read as all of them serving (hostile t79), as `clusterkit scale` says it (H284).
      const errored = primary.givenUpSlots().length;
      const note = errored === 0 ? '' : `; ${errored} of them errored (given up in a crash loop): fix the code, then a reload starts ${errored === 1 ? 'it' : 'them'} again`;
      logger.info({ from, to, ...(errored === 0 ? {} : { givenUp: errored }) }, `scale to ${plural(to, 'worker')}: already ${from}, nothing to do${note}`);
    } else logger.info({ from, to }, `scaling from ${from} to ${plural(to, 'worker')}`);
  });
  primary.on('scaleComplete', ({ from, to, stopped, supersededBy, removedByStopWorker }) => {
    if (from === to) return;
    if (supersededBy !== undefined) {
      logger.info({ from, to, supersededBy }, `scaling from ${from} to ${plural(to, 'worker')} superseded: the later scale to ${plural(supersededBy, 'worker')} removed new workers of it before they were ready`);
      return;
    }
    if (removedByStopWorker !== undefined) {
      // Not "before it was ready" (hostile t86 N6, H755): one stopped from a workerReady listener had become ready.
      const removed = removedByStopWorker === 1 ? '1 new worker was' : `${removedByStopWorker} new workers were`;
      logger.info(
        { from, to, removedByStopWorker, target: primary.targetWorkers },
        `scaling from ${from} to ${plural(to, 'worker')} complete, but ${removed} stopped by stopWorker() while the scale was starting ${removedByStopWorker === 1 ? 'it' : 'them'}, removing ${removedByStopWorker === 1 ? 'its slot' : 'their slots'}: the target is now ${primary.targetWorkers}`,
      );
      return;
    }
    // A scale-up stops nothing: its line carries no stop counts.
    if (to > from) logger.info({ from, to }, `scaling from ${from} to ${plural(to, 'worker')} complete`);
    else logReport(logger, stopped, { from, to }, `scaling from ${from} to ${plural(to, 'worker')} complete`);
  });
  primary.on('reloadJoined', ({ queued }) =>
    logger.info(
      { queued },
      queued
        ? 'reload requested while a rolling reload is under way that forked new workers already (or another is queued after it): queued after it (one more rolling reload starts when it ends, and loads the code on disk then; later requests join that one)'
        : 'reload requested while a rolling reload is under way: joined to it (it ends with that reload)',
    ),
  );
  primary.on('reloadWaiting', ({ waitMs, windowMs }) =>
    logger.info({ waitMs, windowMs }, `rolling reload: the old workers have stopped; waiting ${formatElapsed(waitMs)} more, until the new workers have stayed up for the ${windowText(windowMs)} startup window (restart.startupWindowMs)`),
  );
}

/**
 * `shutdown complete graceful=2 failed=0 killed=0`: a warning when a worker did not stop
 * cleanly, which says how many requests were cut off, if any, or when the primary reset
 * connections it had accepted (`connectionsReset`, H358).
 */
function logReport(logger: Logger, report: ShutdownReport, fields: object, message: string): void {
  const { restartsCancelled = 0 } = report;
  if (restartsCancelled === 0) return logCounts(logger, report, fields, message);
  // Said after the counts (H454): `shutdown complete: 2 restarts waiting out their back-off were cancelled`.
  const said = (text: string) => `${text}${text === message ? ': ' : '; '}${describeCancelledRestarts(restartsCancelled)}`;
  const withCancelled: Logger = {
    debug: (object, text) => logger.debug(object, text),
    info: (object, text = message) => logger.info({ ...object, restartsCancelled }, said(text)),
    warn: (object, text = message) => logger.warn({ ...object, restartsCancelled }, said(text)),
    error: (object, text) => logger.error(object, text),
  };
  logCounts(withCancelled, report, fields, message);
}

function logCounts(logger: Logger, report: ShutdownReport, fields: object, message: string): void {
  const { connectionsReset = 0 } = report;
  // A shutdown's report has it (read once, at the stop); a reload's or a scale's is counted here.
  const killedReset = report.killedConnectionsReset ?? connectionsResetByKills(report.killed);
  const counts = {
    ...fields,
    graceful: report.graceful.length,
    failed: report.failed.length,
    killed: report.killed.length,
    ...(connectionsReset > 0 ? { connectionsReset } : {}),
    ...(killedReset > 0 ? { killedConnectionsReset: killedReset } : {}),
  };
  const requestsCut = report.requestsCut > 0 ? `, ${plural(report.requestsCut, 'request')} cut off` : '';
  // Reset before any worker took them: by node:cluster in the primary, or in the kernel's backlog as a listening socket closed (H358).
  const reset = connectionsReset > 0 ? `, ${plural(connectionsReset, 'connection')} reset before any worker took ${connectionsReset === 1 ? 'it' : 'them'}` : '';
  const cut = `${requestsCut}${reset}${killedReset > 0 ? `, ${describeKilledResets(killedReset, report.killed.length)}` : ''}`;
  if (report.notStarted !== undefined) {
    // Each worker once (H210): one killed before it was ready is in `killed` alone, said as such.
    const unclean = counts.failed + counts.killed > 0 ? `${plural(counts.failed + counts.killed, 'worker')} did not stop cleanly` : '';
    const notReady = report.notStarted.length;
    const before = notReady === 0 ? '' : `${plural(notReady, 'worker')} stopped before ${notReady === 1 ? 'it was' : 'they were'} ready (the lines above say how)`;
    const fieldsOut = { ...counts, notStarted: notReady, ...(requestsCut === '' ? {} : { requestsCut: report.requestsCut }) };
    if (report.interrupted === undefined) {
      // A scale-down that removed workers not ready yet (H211): a stop of theirs is no failure.
      const text = `${message}: ${[before, unclean].filter((part) => part !== '').join('; ')}${cut}`;
      if (unclean === '' && cut === '') logger.info(fieldsOut, text);
      else logger.warn(fieldsOut, text);
      return;
    }
    // After an interrupted start the run's exit code is 1 (shutdownExitCode): the line says why, whatever the counts.
    // Workers that were ready, then stopped with it (hostile t66, H660: a shutdown() from a workerReady
    // listener said "no worker had been forked yet" beside graceful=1).
    const graceful = counts.graceful > 0 ? `${plural(counts.graceful, 'worker')} stopped gracefully` : '';
    // And beside workers not ready yet, as `clusterkit stop` says them (retest t67: one ready and stopped, one starting: the line left it out).
    const head = [before, graceful].filter((part) => part !== '').join(', ');
    const what = head !== '' ? `, ${head}` : unclean !== '' ? '' : ', no worker had been forked yet';
    logger.warn(fieldsOut, `${message}: ${describeInterrupted(report.interrupted)}${what}${unclean === '' ? '' : `; ${unclean}`}${cut}`);
  } else if (counts.failed + counts.killed === 0 && cut === '') logger.info(counts, message);
  else if (counts.failed + counts.killed === 0 && requestsCut === '') logger.warn(counts, `${message}: every worker stopped cleanly${reset}`);
  else logger.warn(requestsCut === '' ? counts : { ...counts, requestsCut: report.requestsCut }, `${message}: ${plural(counts.failed + counts.killed, 'worker')} did not stop cleanly${cut}`);
}

/**
 * What asked for the shutdown, after "shutting down" (t30 L-E: a `clusterkit stop` gave no cause,
 * H292); nothing for a signal, which its `signal=` field names.
 */
function shutdownCause(requestedBy: ShutdownRequester | undefined, launcherPid: number | undefined, liveWorkers: number): string {
  switch (requestedBy) {
    case 'launcher':
      // Its channel closed: the launcher exited or was killed (kill -9), and the apps stop with it (H337).
      return `: its launcher (clusterkit run${launcherPid === undefined ? '' : `, pid ${launcherPid}`}) is gone, and the apps it started stop with it`;
    case 'control':
      return ': clusterkit stop asked for it (the control socket)';
    case 'call':
      return ": shutdown() was called in the primary's code";
    case 'no-worker-left':
      return ': no worker is left (every slot failed too often)';
    case 'failed-start':
      // A primary _init() that threw forked none: no stop of workers to announce (H427).
      return liveWorkers === 0 ? ': the start failed; no worker is running, so none is stopped' : ': the start failed; the workers that did start are stopped';
    default:
      return '';
  }
}

/** A reload with a new env (H336): the variables it changes, adds and removes, by name only (their values may be secrets). */
function envClause(env: EnvChanges): string {
  if (env.changed.length === 0) return '; the env is given again, unchanged';
  return `; the new workers start with the updated env (${describeEnvChanges(env, 'log')})`;
}

/** What asked for a reload, after `rolling reload started` (newcomer t31 L4: a SIGHUP's or `clusterkit reload`'s said nothing). */
function reloadCause(requestedBy: ReloadRequester): string {
  switch (requestedBy) {
    case 'signal':
      return ': SIGHUP asked for it';
    case 'control':
      return ': clusterkit reload asked for it (the control socket)';
    case 'watch':
      return ': a change under --watch asked for it';
    case 'schedule':
      return ': its schedule asked for it (cronRestart)';
    default:
      return ": reload() was called in the primary's code";
  }
}

/** A kill's reason as the kill line says it after "by the primary: " (H519). */
function killReason(error: Error): { why: string; fields: Record<string, unknown> } {
  const { clause, advice } = splitKillReason(error);
  return { why: advice === '' ? clause : `${clause}. ${advice.replace(/\.$/, '')}`, fields: {} };
}

/**
 * How a ready worker died on its own: a signal the primary did not send reads as a kill, not as
 * a crash (newcomer t25: a kill -9 read "crashed", the signal only in a trailing field).
 */
function died(code: number | null, signal: NodeJS.Signals | null, error: unknown): string {
  // Its code, when no uncaught error says more: the line is the exit's too (newcomer t76 #4).
  if (error !== undefined) return 'crashed';
  if (signal === null) return `crashed (it exited with code ${code})`;
  // Its own fatal error (V8 out of memory, process.abort(), a segfault): no sender to look for (H296).
  if (isSelfFatalSignal(signal)) return diedOfFatalSignal(signal);
  return killedFromOutside(signal);
}

/**
 * A worker still loading killed by a SIGHUP sent to the whole process group, which the primary
 * got too (`WorkerExitEvent.isGroupHangup`), as a clause after "worker 3 could not start: ",
 * with what comes next: a reload's replacement is forked again, a slot's worker restarted.
 */
function describeGroupHangup(record: WorkerRecord | undefined, restarts: boolean): string {
  const isReplacement = record !== undefined && record.slot.current !== record;
  const next = isReplacement
    ? 'not counted as a failed start, and the reload starts a new worker in its slot'
    : restarts
      ? 'not counted as a failed start, and started again at once'
      : 'restarts are off (restart: false), so its slot is not started again';
  return (
    `it ${kGroupHangupHow}: it was still loading, before it listened for SIGHUP, and Node's default for SIGHUP ends a process. ` +
    // With restarts off nothing is forgiven a second time: no count to give (hostile t75 F6: it contradicted itself).
    `No fault of its script: ${next}${!isReplacement && !restarts ? '' : ` (${kMaxGroupHangups} times in a row at most; after that, such a death is a failed start)`}`
  );
}

/** Why a worker could not start, as a clause after "worker 3 could not start: ". */
function startFailure(worker: WorkerHandle, error: Error | undefined, code: number | null, signal: NodeJS.Signals | null, stopSignal?: NodeJS.Signals): string {
  if (error instanceof RemoteError && error.messageType === '_init') {
    // The service runner and the CLI say what happened to the user's module in its own words.
    const summary = error.data?.summary;
    return typeof summary === 'string' ? summary : initFailureClause(error.remoteName, error.remoteMessage, error.remoteStack);
  }
  if (error instanceof WorkerStartupError) return `it ${error.message.replace(/^Worker \d+(?: \(pid [^)]*\))? /, '')}`;
  if (error) return worker.pid === undefined ? `it could not be spawned: ${error.message}` : error.message;
  // Heard by the primary too, past what its slot forgives: said so, not "from outside clusterkit" (hostile t75 F2).
  if (signal === 'SIGHUP' && recordOf(worker)?.isUnforgivenHangup === true) return `it ${kUnforgivenHangupHow} before it was ready. ${kUnforgivenHangupAdvice}`;
  if (isOutsideKillSignal(signal)) return `it ${killedFromOutside(signal)} before it was ready`;
  // It handled a stop signal no stop of ours sent, and exited on it (H273).
  if (stopSignal !== undefined && code === 0 && signal === null) return `it ${stoppedFromOutside(stopSignal)} before it was ready`;
  // describeExit: a fatal signal of its own reads "died of SIGABRT (...)", not as a kill (H296).
  if (signal) return `it ${describeExit(code, signal, worker.pid)} before it was ready`;
  // Exit code 0 is no error: no thrown error or message in its output to point at (H431: a
  // bare process.exit(0) printed nothing, and the line sent the user to read its output).
  if (code === 0) return 'it exited with code 0 before it was ready: its script ended (process.exit(0), or nothing left to keep it running) without listening or becoming ready';
  return `it exited with code ${code} before it was ready (its output says why)`;
}

/**
 * Whose replies the abandoned handlers cost: requesters still waiting get none (counted cut
 * off), those that had given up (a timeout, an abort: H241) or exited (killed, or stopped
 * first: H274) lost nothing more. `exited` is a part of `givenUp`.
 */
function describeAbandoned(waiting: number, givenUp: number, exited: number): string {
  // One handler reads in the singular (t30 L-F: "their requesters" for one, H292).
  const noReply = (count: number): string => (count === 1 ? 'gets no reply' : 'get no reply');
  if (givenUp === 0) return waiting === 1 ? `its requester ${noReply(1)}` : `their requesters ${noReply(waiting)}`;
  const timedOut = givenUp - exited;
  const one = givenUp === 1;
  const why =
    exited === 0
      ? `had already given up (${one ? 'its request' : 'their requests'} timed out or ${one ? 'was' : 'were'} aborted)`
      : timedOut === 0
        ? `had already exited (killed, or stopped before it)`
        : `had already given up: ${exited} exited (killed, or stopped before it), ${timedOut} timed out or aborted`;
  const noneLost = `so no reply is lost with ${one ? 'it' : 'them'}`;
  if (waiting === 0) return `${one ? 'its requester' : 'their requesters'} ${why}, ${noneLost}`;
  return `the ${waiting === 1 ? 'requester' : 'requesters'} of ${waiting} ${noReply(waiting)}; ${one ? 'that' : 'those'} of the other ${givenUp} ${why}, ${noneLost}`;
}

function mib(bytes: number): string {
  return `${(bytes / (1024 * 1024)).toFixed(1)} MiB`;
}


/**
 * `. Its stop had 500 ms: give stopWorker() a longer timeoutMs if it needs longer`: how long the
 * stop the primary's SIGKILL ended had, and what sets it (hostile t69: the line gave neither).
 */
function stopTimeoutAdvice(worker: WorkerHandle): string {
  const record = recordOf(worker);
  if (record?.killedAtStopTimeoutMs === undefined) return '';
  if (record.silentThroughStopMs !== undefined) {
    return `. It was silent through its whole stop (unheard for ${formatElapsed(record.silentThroughStopMs)}, since before its stop began, a heartbeat ping unanswered): its event loop most likely blocked, which a longer timeout would not have helped; look for a busy loop or a long synchronous call in its code`;
  }
  const raise = raiseStopTimeout(record.stopTimeoutSetBy);
  return `. Its stop had ${wholeMs(record.killedAtStopTimeoutMs)} ms: ${raise.charAt(0).toLowerCase()}${raise.slice(1)} if it needs longer`;
}

/**
 * `at least 3 requests cut off (...) and 9 more open connections reset (...)`: what a worker's death cut,
 * "at least" when the count is a lower bound, with the idle connections it reset (a keep-alive
 * client's next request on one fails); '' when it cut nothing known (H228).
 */
function describeLost(lostRequests: number, isLowerBound: boolean | undefined, resetConnections: number | undefined, isLastReport = false): string {
  const requests = lostRequests > 0 ? `${isLowerBound ? 'at least ' : ''}${plural(lostRequests, 'request')} cut off (open as it exited or at its last report, or handed to it and not taken yet)` : '';
  if (!resetConnections) return requests;
  const reset = describeReset(resetConnections, requests ? 'more ' : '', isLastReport);
  return requests ? `${requests} and ${reset}` : reset;
}

/**
 * What held a worker's stop before its drain began, leaving the drain under half of its time
 * (`workerRequestsCut`'s `shortenedBy`, H360), and what to do: the timeout was not what was short
 * (retest t36 N5: `cut off 2 requests ... (0 ms after its stop began) ... Raise the
 * shutdownTimeoutMs option` for a 'shutdown' listener that held the loop 2.5 s).
 */
function describeHeld(shortenedBy: 'init' | 'blocked', heldMs: number, timeoutMs: number): { what: string; advice: string } {
  const left = heldMs >= timeoutMs ? `past its shutdown deadline (${wholeMs(timeoutMs)} ms after the ask), so its drain had no time` : `so its drain had only ${wholeMs(timeoutMs - heldMs)} ms of the ${wholeMs(timeoutMs)} until its shutdown deadline`;
  if (shortenedBy === 'init') {
    return {
      what: `the stop came while it was still starting, and its drain began only ${wholeMs(heldMs)} ms after the ask, once its _init() finished, ${left}`,
      advice: 'Keep _init() shorter than shutdownTimeoutMs, or give it a deadline of its own',
    };
  }
  return {
    what:
      `its event loop was held for ${wholeMs(heldMs)} ms after the ask before its drain could begin (synchronous code running as the stop came, as in a request or message handler, ` +
      `or in a 'shutdown' listener, or a machine too busy to run it), ${left}`,
    advice: "Code that blocks the event loop delays every stop: keep long synchronous work out of 'shutdown' listeners and request and message handlers",
  };
}

/**
 * Types of clusterkit's that carry what the script gave (a relayed message, a store value, an
 * error): a slow read of one of them is the script's doing.
 */
const kScriptContentTypes: ReadonlySet<string> = new Set(['$relay', '$relayed', '$store', '$storeChange', '$crash', '$initError', '$destroyFailed']);

/**
 * Whether slow reads carried the worker's answers to metrics scrapes and otherwise only
 * clusterkit's own small notices (a pong read with them): nothing the script sent (H618).
 */
function isMetricsAnswers(types: readonly string[]): boolean {
  return types.includes('$metrics') && types.every((type) => type.startsWith('$') && !kScriptContentTypes.has(type));
}


/**
 * `9 open connections reset (idle keep-alive connections: a request already sent on one is lost too)`.
 * `isLastReport`: counted by the worker's last report, as for a SIGKILL, which leaves it no count at
 * its exit: at least that many, idle only then, and a hung worker's clients kept sending on them
 * (ops tester t60: `4 open connections reset (idle keep-alive connections ...)`, `lostRequests=0`,
 * for 2 requests lost).
 */
function describeReset(connections: number, more = '', isLastReport = false): string {
  const counted = `${connections} ${more}open connection${connections === 1 ? '' : 's'} reset`;
  if (!isLastReport) return `${counted} (idle keep-alive connections: a request already sent on one is lost too)`;
  return `at least ${counted}, with no request on ${connections === 1 ? 'it' : 'them'} at its last report: a request sent on one since (as to a hung worker) is lost too, and in no count`;
}

/** A near-limit heap's figures as a line's fields (H394): none otherwise. */
function heapFields(pressure: HeapPressure | undefined): { heapUsedBytes?: number; heapLimitBytes?: number } {
  return pressure === undefined ? {} : { heapUsedBytes: pressure.heapUsedBytes, heapLimitBytes: pressure.heapLimitBytes };
}

/**
 * What a shutdown waits for when workers are still starting (H423): a ClusterWorker stops only
 * once its `_init()` ends (a `clusterkit run` script still loading is ended at once), so the
 * stop may be silent until the timeout. "May": the primary cannot tell which case it is.
 */
export function describeStartingAtShutdown(starting: number, timeoutMs: number, handlesSignals: boolean): string {
  const them = starting === 1 ? 'it' : 'them';
  const force = handlesSignals ? '; Ctrl-C again (a second SIGINT or SIGTERM) kills every worker at once' : '';
  return (
    `${plural(starting, 'worker')} ${starting === 1 ? 'is' : 'are'} still starting (not ready yet): a worker may stop only once its start-up code ends (a ClusterWorker's _init(); a clusterkit run script stops at once), ` +
    `so the shutdown may wait up to ${formatElapsed(timeoutMs)} for ${them}, then kills ${them}${force}`
  );
}
