/**
 * Stopping one worker with explicit escalation: ask it (`$shutdown`: it stops accepting work,
 * finishes what it is doing, runs `_destroy` and exits), wait up to the timeout for its exit,
 * then SIGKILL. A stop is complete only at the exit, never at the disconnect: a disconnected
 * worker with an open handle keeps running.
 */
import { timerDelay } from '../../duration.js';
import { settleWithin } from '../../wait.js';
import { kShutdownRequest } from '../../messaging/system-types.js';
import { destroyReserveMs, stopMarginMs } from '../../stop-margin.js';
import type { ShutdownReport } from '../primary-events.js';
import { killWorker, killWorkerNow } from './kill-worker.js';
import { killListed } from '../../worker/end-descendants.js';
import { endIfUnstarted, isEndedUnstartedExit } from './end-unstarted.js';
import type { PoolContext, WorkerPool } from './worker-pool.js';
import type { WorkerRecord } from './worker-record.js';

/** How long a SIGKILLed process may take to be reaped before we stop waiting for it. */
const kKillWaitMs = 5_000;

/**
 * How a stop ended:
 * - `graceful`: cleanly: the worker exited with code 0 on its own, its stop run to the end
 *   (servers drained, `_destroy` finished); or it was still booting, and the stop's SIGTERM
 *   ended it before its code started (end-unstarted.ts);
 * - `failed`: the worker exited on its own within the timeout, but not cleanly: it cut off
 *   requests still open at its own deadline, its `_destroy` missed that deadline or threw, or it
 *   exited with another code or a signal;
 * - `killed`: the primary killed it with SIGKILL (still running at the timeout, a second signal,
 *   or what it wrote on its IPC channel: channel-guard.ts).
 */
export type StopOutcome = 'graceful' | 'failed' | 'killed';

/**
 * Stops `record` within `timeoutMs` (+ the time SIGKILL takes). Concurrent calls share one stop.
 * `spreadMs`: other workers take over, so the worker releases its connections gradually over
 * this time (the primary's `gradualDrainMs`; tracked-server.ts); 0 releases them at once.
 * `shownTimeoutMs`: the timeout a kill at it is said to have reached (a shutdown's own, of which `timeoutMs` is what is left).
 */
export function stopWorker(pool: WorkerPool, record: WorkerRecord, timeoutMs: number, spreadMs = 0, shownTimeoutMs = timeoutMs): Promise<StopOutcome> {
  if (record.stopping && record.isDrainingGradually && spreadMs === 0) {
    // A stop during a reload's or scale-down's gradual drain: the worker releases the
    // connections still waiting for their turn at once (its stop, and deadline, go on).
    record.isDrainingGradually = false;
    if (pool.isClosed) hurryAfterClusterStopsAccepting(pool, record, timeoutMs);
    else if (record.isConnected) askToStop(record, timeoutMs, 0);
  }
  record.stopping ??= runStop(pool, record, timeoutMs, spreadMs, shownTimeoutMs);
  return record.stopping;
}

/**
 * Resolves once no worker accepts connections any more, so that Node's cluster has closed the
 * listening socket (it does when its last worker closes its server): every worker that listens
 * or may yet (still starting), but `except`, closed its servers (`whenStoppedAccepting`) or
 * exited. Only then may a shutdown tell keep-alive clients to go (`Connection: close`): a
 * client told earlier reconnects at once, the primary accepts the connection and queues it for
 * a worker, and when the last worker leaves, Node closes what is queued unanswered: the client
 * loses the request it sent (an RST or a bare FIN). Told after, the client's reconnection is
 * refused before it sends anything. Every wait ends at the workers' exits at the latest.
 */
export function whenClusterStopsAccepting(pool: WorkerPool, except?: WorkerRecord): Promise<void> {
  // A worker still starting may listen yet (its `_init` runs before its stop): it is waited for too.
  const mayAccept = (record: WorkerRecord) => record.isListening || record.readyAt === undefined;
  const waits = [...pool.records].filter((record) => record !== except && mayAccept(record)).map((record) => record.whenStoppedAccepting.promise);
  return Promise.all(waits).then(() => undefined);
}

/**
 * A shutdown during a gradual drain: the hurry (a second `$shutdown`, releasing the rest of the
 * worker's clients at once) waits until the cluster stops accepting (see
 * `whenClusterStopsAccepting`), at most a quarter of the shutdown's timeout: a worker that
 * listens on a server it does not track closes it only at its exit.
 */
function hurryAfterClusterStopsAccepting(pool: WorkerPool, record: WorkerRecord, timeoutMs: number): void {
  // The other workers' stops begin in this same tick (stopAll): they are in the wait.
  void settleWithin(whenClusterStopsAccepting(pool, record), timeoutMs / 4).then(() => {
    if (record.isConnected) askToStop(record, timeoutMs, 0);
  });
}

/** Kills every live worker at once (a second Ctrl-C); returns the records it killed. */
export function killAll(pool: WorkerPool): WorkerRecord[] {
  const records = [...pool.records];
  for (const record of records) {
    pool.markStopping(record);
    record.isKilledToStop = true;
    killWorkerNow(record);
    // The primary exits now: no grace to wait for, its processes go as the worker did.
    killListed(record.descendants ?? []);
  }
  return records;
}

/**
 * Stops `records` at once; the report sorts them by how their stop ended. A worker that never
 * became ready and exited by itself with a failure (it crashed at import, its `_init` threw) is
 * in none of the lists: it failed to start, it was not stopped, and its start failure has its
 * own line. One the primary had to SIGKILL (hung in `_init` past the timeout) counts as killed.
 * Nor is one whose process had exited on its own before the stop (`hasExitedBeforeStop`): its
 * exit has its own line, a crash or an exit, as any other.
 * `isShutdown`: the primary's shutdown, whose report takes in the workers that a reload or a
 * scale-down was still stopping.
 */
export async function stopAll(
  pool: WorkerPool,
  records: readonly WorkerRecord[],
  timeoutMs: number,
  spreadMs = 0,
  isShutdown = false,
  shownTimeoutMs = timeoutMs,
): Promise<ShutdownReport> {
  // A shutdown reports every worker it waits for, those whose stop a reload or scale-down
  // began too (it hurries them, and kills them at its timeout): those leave them out, so each
  // worker's fate is said once.
  if (isShutdown) for (const record of records) record.isInShutdownReport = true;
  const outcomes = await Promise.all(records.map((record) => stopWorker(pool, record, timeoutMs, spreadMs, shownTimeoutMs)));
  // One that exited on its own before its stop (H462) is in no list: the stop stopped nothing of it.
  const reported = (index: number) => (isShutdown || !records[index]!.isInShutdownReport) && !records[index]!.hasExitedBeforeStop;
  const having = (outcome: StopOutcome) =>
    records.filter((record, index) => reported(index) && outcomes[index] === outcome && !(outcome === 'failed' && neverStarted(record))).map((record) => record.handle);
  const requestsCut = records.reduce((sum, record, index) => sum + (reported(index) ? requestsCutBy(record, outcomes[index]!) : 0), 0);
  return { graceful: having('graceful'), failed: having('failed'), killed: having('killed'), requestsCut };
}

/**
 * It exited before it was ever ready: a failed start, not a failed stop. Unless its own stop
 * overran (`overranStop`): that is a stop that did not finish cleanly.
 */
function neverStarted(record: WorkerRecord): boolean {
  return record.readyAt === undefined && record.state === 'exited' && !overranStop(record);
}

/**
 * Asked to stop, it said its stop would not finish (`$destroyFailed`: its cleanup, a script's
 * SIGINT listener or `_destroy`, overran the worker's own deadline, or threw), and exited as
 * that says (not with code 0). Before it was ready too: its code ran, and the stop, not the
 * start, is what failed (hostile t25 H3: it read "could not start" and counted `notStarted`).
 */
export function overranStop(record: WorkerRecord): boolean {
  return record.hasSaidDestroyFailed && record.state === 'exited' && !(record.exitCode === 0 && record.signal === null);
}

/**
 * The requests a stop cut off: those the worker said it cut (`$requestsCut`), and the message
 * handlers it abandoned at its deadline (`$handlersCut`); for a worker that
 * died by a signal before saying so (the primary's SIGKILL at the timeout, or another's kill),
 * what its death cut as far as the primary knows (`WorkerRecord.lostRequests()`: open as it
 * last reported, by its drain or its last heartbeat, and connections handed to it it never took).
 */
export function requestsCutBy(record: WorkerRecord, outcome: StopOutcome): number {
  // Message handlers it abandoned at its deadline count as requests cut off (H229).
  const handlers = record.handlersCut ?? 0;
  if (record.requestsCut !== undefined) return record.requestsCut + handlers + (record.signal !== null ? record.unacknowledgedHandoffs() : 0);
  if (outcome === 'killed' || record.signal !== null) return (record.lostRequests() ?? 0) + handlers + record.unansweredCutByKill();
  return handlers;
}

/**
 * How an exited worker's stop ended, from how it exited: a worker that exited with a code
 * exited by itself, even when the primary's SIGKILL was already on its way. One the primary
 * SIGKILLed during its stop for what it wrote on its channel (a bad node:cluster message) is
 * killed too, as at the timeout: it was counted `failed` and its line spoke of the timeout.
 */
export function stopOutcome(record: WorkerRecord): StopOutcome {
  if (record.isKilledByPrimary()) return 'killed';
  // Ended by the stop's SIGTERM before its code started: nothing of it was cut short (H202).
  if (isEndedUnstartedExit(record)) return 'graceful';
  // A worker that cut requests off did not stop cleanly, whatever its exit code (a plain
  // script's own cleanup may exit 0 with requests open).
  if (record.requestsCut !== undefined || record.handlersCut !== undefined) return 'failed';
  return record.hasExitedCleanly() && !isStopUnfinished(record) ? 'graceful' : 'failed';
}

/**
 * A ready worker asked to stop (`$shutdown`) that exited with code 0 without saying its stop
 * ran to its end (`$stopped`), and without saying it cut anything: code in it ended the process
 * before the stop finished, in a way that skips Node's 'exit' event, where clusterkit's own
 * report of an early exit runs (`process.reallyExit()`, a native addon's `exit()`). Not graceful.
 * A worker still starting keeps the rule of its exit code; one the primary could not ask over
 * its channel (it had closed it) cannot say, and keeps it too; so does one whose own code closed
 * its channel during the stop, as it said (`$ownClose`: a SIGTERM listener's
 * `process.disconnect()`), which exits 1 when requests were still open (H536).
 */
export function isStopUnfinished(record: WorkerRecord): boolean {
  return record.isAskedToStop && record.readyAt !== undefined && !record.hasFinishedStop && record.requestsCut === undefined && record.ownCloseAt === undefined && record.hasExitedCleanly();
}

/**
 * At the exit of a worker whose stop is unfinished (`isStopUnfinished`): the requests known open
 * then (as its stop began, `$stopping`, then as its drain reported; connections handed to it that
 * it never took) were cut off with its process, as for an early `process.exit()`: counted in its
 * stop's `requestsCut` and told (`workerRequestsCut`, `reason: 'exit'`). Returns whether it was.
 */
export function countUnfinishedStop(record: WorkerRecord, emit: PoolContext['emit']): boolean {
  if (!isStopUnfinished(record)) return false;
  countCutAtExit(record, emit);
  return true;
}

/** The requests known open at its exit, counted in its stop's `requestsCut` and told (`reason: 'exit'`). Returns whether any were. */
function countCutAtExit(record: WorkerRecord, emit: PoolContext['emit'], deadlineMs?: number): boolean {
  const lost = record.lostRequests();
  if (!lost) return false;
  record.requestsCut = lost;
  if (deadlineMs === undefined) {
    emit('workerRequestsCut', { worker: record.handle, openRequests: lost, reason: 'exit' });
    return true;
  }
  // Cut at the worker's own deadline (`countOwnCloseExit`): told as such, as its `$requestsCut` would have.
  record.requestsCutAtMs = deadlineMs;
  emit('workerRequestsCut', { worker: record.handle, openRequests: lost, timeoutMs: deadlineMs, reason: 'deadline' });
  return true;
}

/**
 * At the exit of a worker a signal clusterkit did not send ended during its stop (a SIGKILL in
 * its own `shutdown` listener, `kill -9`, the OOM killer): the requests known open then were cut
 * off with it, told (`workerRequestsCut`, `reason: 'signal'`) as the stop's report counts them
 * (`requestsCutBy`). Nothing when it said what it cut itself: that was told already.
 */
export function countSignalledStop(record: WorkerRecord, signal: NodeJS.Signals, emit: PoolContext['emit']): void {
  if (record.requestsCut !== undefined) return;
  const lost = record.lostRequests();
  if (lost) emit('workerRequestsCut', { worker: record.handle, openRequests: lost, reason: 'signal', signal });
}

async function runStop(pool: WorkerPool, record: WorkerRecord, timeoutMs: number, spreadMs: number, shownTimeoutMs: number): Promise<StopOutcome> {
  if (record.state === 'exited') return stopOutcome(record);
  // Its process exited on its own before this stop, the verdict on that exit waiting for its
  // channel's end (worker-pool.ts `#onProcessExit`, at most 2 s): nothing is left to stop, and
  // its exit is told as what it was, not as stopped by this stop (H462: a crash then was counted
  // stopped). Unless that verdict takes it into the shutdown (a stop signal to the process group).
  if (record.isProcessGone() && record.finishExit !== undefined) {
    await record.whenExited.promise;
    if (!record.stopRequested) record.hasExitedBeforeStop = true;
    return stopOutcome(record);
  }
  pool.markStopping(record);
  if (record.isConnected) {
    record.isDrainingGradually = spreadMs > 0;
    askToStop(record, timeoutMs, spreadMs);
    // Every stop of a worker still booting ends it now, not at the timeout (H202; end-unstarted.ts).
    endIfUnstarted(record);
  } else {
    record.clusterWorker.process.kill('SIGTERM');
  }
  if (await settleWithin(record.whenExited.promise, timeoutMs)) return stopOutcome(record);
  record.isKilledToStop = true;
  // The shutdown's timeout, as its caller gave it (the wait before the workers' stop used part of it).
  record.killedAtStopTimeoutMs = shownTimeoutMs;
  if (pool.isSilentThroughStop(record)) record.silentThroughStopMs = Date.now() - record.lastHeardAt();
  // The wait for the exit starts once the SIGKILL is sent, after the list of its processes.
  await killWorker(record);
  return (await settleWithin(record.whenExited.promise, kKillWaitMs)) ? stopOutcome(record) : 'killed';
}

/**
 * Sends `$shutdown`. The worker answers after its `_destroy`; the primary waits for the exit
 * itself, so the reply is informational. A second one during a gradual drain (`spreadMs` 0)
 * tells the worker to release the connections still waiting for their turn.
 */
function askToStop(record: WorkerRecord, timeoutMs: number, spreadMs: number): void {
  record.isAskedToStop = true;
  record.askedToStopAt ??= Date.now();
  // When it was sent: the worker counts its own deadline from it, however late it reads it (H360).
  const sentAt = Date.now();
  // The worker keeps the deadline of the first ask (worker-lifecycle.ts `#stopForPrimary`).
  const deadlineMs = timeoutMs - stopMarginMs(timeoutMs);
  record.stopDeadline ??= { at: sentAt + deadlineMs, ms: deadlineMs };
  const payload = spreadMs > 0 ? { timeoutMs, spreadMs, sentAt } : { timeoutMs, sentAt };
  record.endpoint.request(kShutdownRequest, payload, timerDelay(timeoutMs + kKillWaitMs)).catch(() => {});
}

/**
 * A worker whose own code closed its channel during its stop (`$ownClose`) and then exited with
 * code 1 and no signal: its code ended the process with requests still open (the worker makes
 * such an exit 1, H536), and no `$requestsCut` could follow the close. The requests known open
 * (its stop's last report, or the count at the close) are counted cut, as an unfinished stop's
 * (renewcomer retest t56: a SIGTERM listener's `process.disconnect(); process.exit(0)` with 3
 * requests open read "did not stop cleanly" and counted none). Returns whether any was.
 */
export function countOwnCloseExit(record: WorkerRecord, emit: PoolContext['emit']): boolean {
  if (!record.isAskedToStop || record.readyAt === undefined || record.ownCloseAt === undefined || record.requestsCut !== undefined) return false;
  if (record.signal !== null || record.exitCode === 0) return false;
  // An exit 1 at or after the worker's own deadline is its stop cutting what was open there, not
  // an exit of its code's (final retest t57 N2: a SIGTERM listener's `server.close();
  // process.disconnect()` and a request longer than the stop read `reason=exit`, "the script's
  // own cleanup, a process.exit()"). A worker with a `_destroy` ends its drain a slice sooner
  // (stop-margin.ts `destroyReserveMs`): from there on, too.
  const deadline = record.stopDeadline;
  const isAtDeadline = deadline !== undefined && Date.now() >= deadline.at - destroyReserveMs(deadline.ms);
  return countCutAtExit(record, emit, isAtDeadline ? deadline.ms : undefined);
}
