/**
 * Why workers' stops did not finish cleanly, or why the primary killed them, in one clause, when
 * the primary knows one cause for them all: `clusterkit stop` says it on its line instead of
 * sending the user to the cluster's log for it (newcomer t25 N8, H240), or offering two causes
 * where it knew the one (H255). Undefined when the causes differ or are unknown.
 */
import { formatElapsed } from '../../duration.js';
import { heapPressureOf } from './heap-pressure.js';
import { stopTimeoutName } from './stop-timeout-words.js';
import { recordOf, type WorkerHandle } from './worker-handle.js';
import { isStopUnfinished, overranStop } from './stop-worker.js';
import type { WorkerRecord } from './worker-record.js';

export function describeStopFailures(failed: readonly WorkerHandle[]): string | undefined {
  return oneCause(failed, stopFailureCause);
}

/** The words that differ for one worker and several: the clause is said of them all (ops t57 F5: "its ... it exited" of 2 workers). */
interface Words {
  readonly its: string;
  readonly it: string;
  readonly worker: string;
  readonly process: string;
  readonly listener: string;
}

const kOne: Words = { its: 'its', it: 'it', worker: "the worker's", process: 'the process', listener: 'listener' };
const kMany: Words = { its: 'their', it: 'they', worker: "the workers'", process: 'their processes', listener: 'listeners' };

/** Why the primary SIGKILLed the `killed` workers of a stop (`ShutdownReport.killed`), when one reason holds for all. */
export function describeKills(killed: readonly WorkerHandle[]): string | undefined {
  return oneCause(killed, killCause);
}

function oneCause(handles: readonly WorkerHandle[], causeOf: (record: WorkerRecord, words: Words) => string | undefined): string | undefined {
  const words = handles.length > 1 ? kMany : kOne;
  const causes = new Set(handles.map((handle) => {
    const record = recordOf(handle);
    return record === undefined ? undefined : causeOf(record, words);
  }));
  if (causes.size !== 1) return undefined;
  return [...causes][0];
}

/** The first reason the primary had: a kill for the channel or the heartbeat may precede the stop's timeout. */
function killCause(record: WorkerRecord, { its, it }: Words): string | undefined {
  if (record.isKilledForChannel) return `for what ${it} wrote on ${its} IPC channel, which the primary cannot read: see the cluster's log`;
  // Silent past the heartbeat's timeout during its stop, or before it (H376): the timeout, not each one's silence, so one cause holds for several.
  // Its heap near its limit at its last answer (H394): garbage collection, most likely, not a blocked loop.
  // Its process stopped (SIGSTOP, a debugger) when killed: not a blocked loop (chaos tester t51; its log line said so already).
  if (record.isUnresponsive) {
    if (record.unresponsiveAfterMs === undefined) return 'for not answering heartbeats';
    const why = record.wasPausedAtKill ? `${its} process was stopped: kill -STOP or a debugger` : heapPressureOf(record.health) ? `${its} heap near its limit: most likely garbage collection` : `${its} event loop most likely blocked`;
    return `silent past the heartbeat timeout, ${formatElapsed(record.unresponsiveAfterMs)} (${why})`;
  }
  if (record.killedAtStopTimeoutMs !== undefined) {
    // Unheard through the whole stop (newcomer t82 #2): not a stop that needed longer.
    const silent = record.silentThroughStopMs === undefined ? '' : `; silent through ${its} whole stop, ${its} event loop most likely blocked`;
    return `still running at ${stopTimeoutName(record.stopTimeoutSetBy)}, ${formatElapsed(record.killedAtStopTimeoutMs)}${silent}`;
  }
  // Killed to stop, not at the timeout: a second stop signal forced it (stop-worker.ts killAll).
  if (record.isKilledToStop) return 'a second stop signal forced the stop';
  return undefined;
}

function stopFailureCause(record: WorkerRecord, words: Words): string | undefined {
  const { its, it } = words;
  // A script's listener that left its server listening closed nothing: the requests open at the
  // deadline did not hold it, and a longer timeout would not help (ops tester t60).
  if (record.wasListeningAtDeadline && record.cleanupSignal !== undefined) {
    // Within the 200 characters a stop's line takes of a cause (control-outcome.ts causeOf).
    return `the script's ${record.cleanupSignal} ${words.listener} closed no server and did not end ${words.process} by ${words.worker} own deadline, so ${it} exited with code 1; end it with server.close(() => process.exit(0))`;
  }
  // Requests (or message handlers) cut off come first: the stop's own count says how many. Cut
  // at its own deadline, and nothing else wrong, that is the cause (H367: two such workers read
  // "requests cut off, _destroy timed out or threw, a kill, or a non-zero exit").
  if (record.requestsCut !== undefined || record.handlersCut !== undefined) return deadlineCause(record, words);
  if (overranStop(record)) {
    if (record.cleanupSignal !== undefined) return `the script's ${record.cleanupSignal} ${words.listener} ran but did not end ${words.process} within ${words.worker} own deadline, so ${it} exited with code 1`;
    return undefined;
  }
  if (isStopUnfinished(record)) return undefined;
  if (record.signal !== null) return `ended during ${its} stop by ${record.signal}, which the stop did not send`;
  if (record.exitCode !== null && record.exitCode !== 0) return `${it} exited with code ${record.exitCode} during ${its} stop`;
  return undefined;
}

/**
 * A worker that cut requests off (or abandoned message handlers) at its own stop deadline and
 * exited with code 1 for it, with nothing else wrong: its `_destroy` did not fail, and neither a
 * signal nor code in it ended it another way.
 */
function deadlineCause(record: WorkerRecord, { its, it }: Words): string | undefined {
  const { requestsCut, handlersCut, requestsCutAtMs, handlersCutAtMs, cleanupSignal } = record;
  // A script's listener past its deadline with requests still open then: it was most likely
  // waiting for them (server.close() does), so they are the cause (H399).
  const isListenerWaiting = cleanupSignal !== undefined && requestsCut !== undefined && requestsCutAtMs !== undefined && handlersCut === undefined;
  if ((record.hasSaidDestroyFailed && !isListenerWaiting) || record.signal !== null || record.exitCode !== 1) return undefined;
  // Cut another way too (an exit, a close with requests open): no one cause.
  if ((requestsCut !== undefined && requestsCutAtMs === undefined) || (handlersCut !== undefined && handlersCutAtMs === undefined)) return undefined;
  const what = requestsCut !== undefined && handlersCut !== undefined ? 'requests and message handlers' : requestsCut !== undefined ? 'requests' : 'message handlers';
  // Without the deadline's ms: each worker's own differs by the way its stop request took, and one cause is one text.
  return `${what} still open at ${its} shutdown deadline were cut off, so ${it} exited with code 1; raise the shutdown timeout if they take longer`;
}
