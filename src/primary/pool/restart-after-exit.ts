/**
 * What happens to a slot when its worker exits unexpectedly: a restart after the backoff delay
 * the restart policy decides, or, past its limits, the crash-loop breaker retires the slot.
 * Workers stopped on purpose, retired slots and a closed pool are left alone.
 */
import { CrashLoopError, WorkerExitedError } from '../../errors.js';
import { describeUncaughtError } from './crash-notice.js';
import { lookForSender } from './outside-kill.js';
import { typeScriptLoaderHint, workersLoaderHint } from './loader-hint.js';
import { isNodeOptionFailure, workerNodeOptions } from './node-option-failure.js';
import { readyFor } from './ready-for.js';
import { toError } from '../../to-error.js';
import { decideRestart, isStartupFailure, type EndedWorker, type RestartDecision } from './restart-policy.js';
import type { PoolContext, WorkerPool } from './worker-pool.js';
import { splitKillReason, type WorkerRecord } from './worker-record.js';
import type { UnreplacedExit } from '../primary-events.js';
import { loadingStepsFor } from './loading-advice.js';
import { oneLine } from '../features/given-up-stats.js';

/** Called when the current worker of `record.slot` exited; `wasReady`: it had been serving. */
export function restartAfterExit(pool: WorkerPool, context: PoolContext, record: WorkerRecord, wasReady: boolean): void {
  const slot = record.slot;
  if (slot.isRetired || pool.isClosed) return;
  if (record.stopRequested && !record.isStoppedOverMemory) return;
  // Counted at the exit, not at the restart: a slot that backs off or gives up crashed all the same.
  if (!record.isStoppedOverMemory) slot.crashes++;
  const uptimeMs = (record.exitSeen?.at ?? Date.now()) - record.startedAt;
  // Stability is time spent ready, not since the fork: a slow _init is no stable run. Counted
  // up to the start of a stall of the primary's that hid when it died (H486).
  const { readyMs, unseenMs } = record.readySpan();
  const ended: EndedWorker = { wasReady, readyMs, ...(unseenMs > 0 ? { unseenMs } : {}), hasServed: record.hasServed, isCleanExit: record.hasExitedCleanly() };
  const readyText = readyFor(readyMs, unseenMs);
  if (record.isStoppedOverMemory) {
    // Stopped over its memory hard bound while its replacement was not ready (H163): restarted
    // in place as after a crash, backoff and crash-loop limits included. Its stop, not a crash,
    // ended it: `workerExit` said how, and its line why.
    decideAndRestart(pool, context, record, ended, new WorkerExitedError(record.exitDescription(), `after the primary stopped it over the memory limit (maxMemoryMb), ${readyText}`));
    return;
  }
  // Decided before the crash is told, so that its line and event say the wait (H366); the same
  // decision is acted on below. One that was never ready is decided there (its cause may retire it at once).
  const policy = context.options.restart;
  // Killed while loading by a SIGHUP sent to the whole process group, which the primary got too
  // (retest t72 N2): no fault of its script and no failed start. Restarted at once, and the
  // crash-loop breaker does not count it.
  const collateral: RestartDecision | undefined = record.isGroupHangup && !record.stopRequested && policy !== false ? { restart: true, delayMs: 0, attempt: slot.history.attempt + 1, history: slot.history } : undefined;
  const decided: RestartDecision | undefined = collateral ?? (policy !== false && wasReady ? decideRestart(slot.history, ended, policy, Date.now()) : undefined);
  if (record.exitCode !== 0 || record.signal) {
    const startupFailure = policy !== false && collateral === undefined && isStartupFailure(ended, policy);
    const lostRequests = record.lostRequests();
    context.emit('workerCrash', {
      worker: record.handle,
      code: record.exitCode,
      signal: record.signal,
      uptimeMs,
      readyMs,
      ...(unseenMs > 0 ? { unseenMs } : {}),
      isStartupFailure: startupFailure,
      hasServed: record.hasServed,
      ...(decided?.restart ? { restartDelayMs: decided.delayMs, restartAttempt: decided.attempt, ...(decided.unstableCrashes === undefined ? {} : { unstableCrashes: decided.unstableCrashes }) } : {}),
      ...(lostRequests === undefined ? {} : { lostRequests, ...lostBounds(record) }),
      ...(record.uncaughtError === undefined ? {} : { error: record.uncaughtError }),
    });
  } else {
    // Code 0 is no crash (no `workerCrash`), but a process.exit(0) while serving reset its
    // clients all the same: its lost requests are told as a crash's are, as cut off.
    const lostRequests = record.lostRequests();
    if (lostRequests) context.emit('workerRequestsCut', { worker: record.handle, openRequests: lostRequests, reason: 'unexpected-exit', ...lostBounds(record) });
  }
  // Of what, when it said (`$crash`): the crash-loop error's "Last crash" then names the error and where it was thrown.
  const of = record.uncaughtError === undefined ? '' : `, of ${describeUncaughtError(record.uncaughtError)}`;
  // A signal from outside (a kill, or a stop signal it exited on) is said as such, with whom to look for (H275).
  const outside = record.uncaughtError === undefined ? record.outsideSignal() : undefined;
  // Killed by the primary for a reason it told (its channel, the heartbeat): that reason, which its output need not show (H510).
  const killed = record.primaryKillReason();
  const cause = wasReady
    ? killed
      ? killedAfterReady(record, readyText, killed)
      : new WorkerExitedError(record.exitDescription(), `${readyText}${of}`, outside && { how: outside.how, outsideSignal: outside.signal, advice: `${lookForSender(outside.signal)}.` })
    : record.startupFailure(loadingStepsFor(context.options.loadingSteps, record.env), workersLoaderHint(context.options, record.env));
  decideAndRestart(pool, context, record, ended, cause, decided);
}

/**
 * A ready worker the primary killed for `reason` (H510): `worker 3 (pid 42) was killed by SIGKILL
 * 2.0 s after it became ready: it did not answer heartbeats for 10000 ms, so the primary killed
 * it (SIGKILL)`, as a crash loop's "Last crash" and status's last failure say it.
 */
function killedAfterReady(record: WorkerRecord, readyText: string, reason: Error): WorkerExitedError {
  const { clause, advice } = splitKillReason(reason);
  return new WorkerExitedError(record.exitDescription(), `${readyText}: ${clause}`, { cause: reason, advice: advice === '' ? 'The primary killed it.' : advice });
}

/**
 * What the unexpected exit of a ready worker that had not taken over its slot (a replacement
 * during `minReadyMs`) cut, as a crash tells it (`WorkerExitEvent.beforeTakeover`): no crash
 * follows, and its line said only that it exited (retest t36 N3, H360). Undefined for any other exit.
 */
export function beforeTakeover(record: WorkerRecord, wasReady: boolean): UnreplacedExit | undefined {
  if (!wasReady || record.stopRequested || record.slot.current === record || record.readyAt === undefined) return undefined;
  const lostRequests = record.lostRequests();
  const { readyMs, unseenMs } = record.readySpan();
  return {
    readyMs,
    ...(unseenMs > 0 ? { unseenMs } : {}),
    ...(lostRequests === undefined ? {} : { lostRequests, ...lostBounds(record) }),
    ...(record.uncaughtError === undefined ? {} : { error: record.uncaughtError }),
  };
}

/**
 * How far a worker's death is known to go beyond its `lostRequests()`: whether that count is a
 * lower bound, and the idle connections it reset besides (H228: a crash under keep-alive load
 * said 3 requests cut off where its clients lost 8).
 */
export function lostBounds(record: WorkerRecord): { isLowerBound?: true; resetConnections?: number } {
  const resetConnections = record.resetConnections();
  return { ...(record.isLostCountExact() ? {} : { isLowerBound: true as const }), ...(resetConnections ? { resetConnections } : {}) };
}

/**
 * What the primary's SIGKILL of a ready worker cut (H367): the requests it held as it last
 * reported, the connections handed to it it never took, and its idle connections, as for a
 * crash. Nothing when it said itself what it cut during its stop (`$requestsCut`: told already)
 * or when nothing is known. For `workerExit`'s `killed` fields.
 */
export function killLoss(record: WorkerRecord): { lostRequests?: number; isLowerBound?: true; resetConnections?: number } {
  if (record.readyAt === undefined || record.requestsCut !== undefined) return {};
  const unanswered = record.unansweredCutByKill();
  const open = record.lostRequests();
  if (open === undefined && unanswered === 0) return {};
  const lostRequests = (open ?? 0) + unanswered;
  const bounds = lostBounds(record);
  return lostRequests > 0 || bounds.resetConnections ? { lostRequests, ...bounds } : {};
}

/**
 * Restarts the slot of `record` after the backoff delay, or retires it as a crash loop. A restart
 * whose spawn the operating system refuses (E2BIG) counts as one more failed start and is
 * decided again the same way: the slot backs off and gives up, the primary never crashes.
 */
function decideAndRestart(pool: WorkerPool, context: PoolContext, record: WorkerRecord, ended: EndedWorker, cause: Error, decided?: RestartDecision): void {
  const slot = record.slot;
  const policy = context.options.restart;
  if (policy === false) {
    pool.retire(slot, cause);
    return;
  }
  // Node refuses the same options at every fork: one failed start is enough to tell (H253).
  const isBadNodeOption = isNodeOptionFailure(cause);
  const decision =
    decided ??
    (isBadNodeOption
      ? ({ restart: false, reason: 'startup-failures', failures: slot.history.startupFailures + 1, cleanExits: 0, history: slot.history } as const)
      : decideRestart(slot.history, ended, policy, Date.now()));
  slot.history = decision.history;
  if (!decision.restart) {
    const { workerScript, workerArgs, execArgv } = context.options;
    const { env } = pool;
    // The CLI's workers run its bootstrap with the user's script as their first argument.
    const hint = decision.reason === 'startup-failures' && !isBadNodeOption ? typeScriptLoaderHint([workerScript, workerArgs[0]], execArgv, workerNodeOptions(env)) : undefined;
    // Counted before this slot is retired, without it; serving: their worker is ready (a bad
    // deploy may be failing on every slot, none ready yet, and the advice must not say they serve).
    const others = pool.activeSlots().filter((other) => other !== slot);
    const remainingSlots = others.length;
    const servingSlots = others.filter((other) => other.current?.state === 'ready').length;
    const failsStart = slot.isInitial && !slot.firstReady.isSettled;
    const error = new CrashLoopError(slot.index, decision.failures, { cause, reason: decision.reason, hint, windowMs: policy.windowMs, remainingSlots, servingSlots, failsStart, cleanExits: decision.cleanExits });
    pool.giveUp(slot, error);
    context.emit('crashLoop', {
      slot: slot.index,
      name: slot.spec.name,
      failures: decision.failures,
      reason: decision.reason,
      error,
      remainingSlots,
    });
    // No worker is left: the primary runs on with none, holding its process (H504).
    if (remainingSlots === 0) pool.holdWithoutWorkers();
    return;
  }
  const restartNow = (): void => {
    if (slot.isRetired || pool.isClosed || slot.current !== record) return;
    // A reload's replacement is starting for this slot: it, not a second worker, comes next;
    // this restart runs only if the replacement fails (H345: both ran on slot 0 together).
    if (slot.isReplacing) {
      slot.deferRestart(restartNow);
      return;
    }
    slot.restarts++; // before the fork: workerFork's listeners see the new count
    let next: WorkerRecord;
    try {
      next = pool.launch(slot);
    } catch (error) {
      slot.restarts--; // no worker was made
      const failure = toError(error);
      context.reportWarning(failure);
      decideAndRestart(pool, context, record, { wasReady: false, readyMs: 0, hasServed: false }, failure);
      return;
    }
    context.emit('workerRestart', { previous: record.handle, worker: next.handle, delayMs: decision.delayMs, attempt: decision.attempt });
  };
  // What status shows of the slot until a worker of it is ready again (H396).
  const failedAt = Date.now();
  slot.failing = { failures: decision.attempt, failedStarts: decision.history.startupFailures, lastFailure: oneLine(cause.message), failedAt, restartAt: failedAt + decision.delayMs };
  slot.restartTimer = setTimeout(() => {
    slot.restartTimer = undefined;
    // The dead worker's own processes end first (at most kDescendantsGraceMs): a replacement
    // started beside them met them still holding its ports and files (retest t31 L-C, H305).
    if (record.descendantsEnding === undefined) restartNow();
    else void record.descendantsEnding.then(restartNow);
  }, decision.delayMs);
}
