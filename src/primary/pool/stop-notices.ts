/**
 * The messages a worker sends while it stops: `$stopping` (the requests open as its stop
 * begins, before any code of the user's runs), `$drain` (how many requests its tracked servers
 * still have open, so a forced stop can say what it cut), `$sync` (a round trip behind its
 * servers' close, so no connection is handed to it after it exits), `$requestsCut` (it cut
 * requests off at its own deadline, or exited with them open), `$handlersCut` (message handlers
 * still ran at its deadline, abandoned), `$scriptCleanup` (a plain script
 * stops through its own signal listeners), `$destroyFailed` (its `_destroy`, or a plain
 * script's cleanup, missed the worker's own deadline, or threw; it exits 1 next) and `$stopped`
 * (the stop ran to its end; without it an exit with code 0 is a failed stop, stop-worker.ts).
 *
 * Only a worker the primary asked to stop (`$shutdown` sent) sends the notices (a worker
 * stopping on its own, after a signal sent to it alone, does not: nobody waits for its stop).
 * From any other worker they are protocol errors, dropped and counted: a running worker that
 * claims its `_destroy` timed out must not be reported as exiting. Each that ends or judges the
 * stop is accepted once (`$stopped`, `$requestsCut`, `$destroyFailed`: a repeated one was
 * logged each time, 12.5 MB of lines), and checked against what the worker said before: it
 * cannot claim more requests cut than it ever reported open in its stop (`stopRequestsSeen`:
 * counted as that many), nor a stop that ran to its end while its last report had requests
 * open and it said none was cut (a forged `$stopped` before an exit that skips 'exit' read as
 * graceful). Every count above `kMaxOpenRequests` is dropped (`out-of-range`): a forged `$drain`
 * of 2^53 - 1 once raised `stopRequestsSeen` so far that a forged `$requestsCut` went into the
 * report whole. Rare messages: the checks cost nothing on the message path.
 */
import { capitalize } from '../../capitalize.js';
import { escapeControlChars } from '../../control/control-chars.js';
import { RemoteError } from '../../errors.js';
import {
  isDestroyFailedPayload,
  hasPlausibleOpenRequests,
  isDrainPayload,
  type DrainPayload,
  type DestroyShortenedBy,
  isNoPayload,
  isRequestsCutPayload,
  isHandlersCutPayload,
  isScriptCleanupPayload,
  isStopSignalPayload,
  isStoppingPayload,
  kDestroyFailedNotice,
  kDrainNotice,
  kRequestsCutNotice,
  kHandlersCutNotice,
  kScriptCleanupNotice,
  kStopSignalNotice,
  kStoppedNotice,
  kStoppingNotice,
  kSyncRequest,
  isUserRequest,
} from '../../messaging/system-types.js';
import type { PrimaryContext } from '../primary-context.js';
import { whenClusterStopsAccepting } from './stop-worker.js';
import { boundReceivedError } from '../../messaging/remote-cause.js';
import type { WorkerRecord } from './worker-record.js';

/**
 * How far a `$destroyFailed`'s deadline may exceed the time since the primary asked the worker
 * to stop: a worker that got the same signal as the primary (Ctrl-C) may have begun its own stop
 * a little before the ask came (its signal grace is 1 s).
 */
const kDestroyClaimSlackMs = 1_000;

export function registerStopNotices({ pool, system, emit }: Pick<PrimaryContext, 'pool' | 'system' | 'emit'>): void {
  // Before any of the user's code ran in the stop: what a death right after (a SIGKILL or an
  // abort() in a 'shutdown' listener) cuts, until the drain's reports say fewer.
  system.register(kStoppingNotice, {
    kind: 'notification',
    check: isStoppingPayload,
    inRange: hasPlausibleOpenRequests,
    // Once per stop, first: the drain's reports follow it.
    when: (record) => isAskedToStop(record) && record.stopRequestsSeen === undefined,
    handle: ({ openRequests }, record) => {
      record.openRequests = openRequests;
      record.stopRequestsSeen = openRequests;
    },
  });
  system.register(kStoppedNotice, {
    kind: 'notification',
    check: isNoPayload,
    // Once per stop: a second one is forged, dropped and counted. A worker drained before it
    // says so (its last report: none open), or said what it cut.
    when: (record) => isAskedToStop(record) && !record.hasFinishedStop && (record.requestsCut !== undefined || !record.openRequests),
    handle: (_payload, record) => {
      record.hasFinishedStop = true;
    },
  });
  system.register(kDrainNotice, {
    kind: 'notification',
    check: isDrainPayload,
    inRange: hasPlausibleOpenRequests,
    when: isAskedToStop,
    handle: (payload, record) => {
      // Requests that came during the stop (keep-alive clients): each rise counts more seen.
      const rise = payload.openRequests - (record.openRequests ?? 0);
      if (rise > 0) record.stopRequestsSeen = (record.stopRequestsSeen ?? 0) + rise;
      record.openRequests = payload.openRequests;
      record.whenStoppedAccepting.resolve();
      const start = gradualDrainStart(payload);
      // Once per stop, and only while the drain is still gradual (a shutdown may have hurried it).
      if (start && record.isDrainingGradually && !record.hasSaidDrain) {
        record.hasSaidDrain = true;
        emit('workerDrain', { worker: record.handle, ...start });
      }
    },
  });
  system.register(kRequestsCutNotice, {
    kind: 'notification',
    check: isRequestsCutPayload,
    inRange: hasPlausibleOpenRequests,
    // Once per stop: a second notice (a forged one) must not count the same requests twice.
    when: (record) => isAskedToStop(record) && record.requestsCut === undefined,
    handle: (payload, record) => {
      const { timeoutMs } = payload;
      const held = heldClaim(payload, record, () => system.reportDropped(record, 'out-of-range', kRequestsCutNotice));
      // No more than it ever said were open in its stop (a forged 2^53 once went into the report).
      const seen = record.stopRequestsSeen ?? 0;
      if (payload.openRequests > seen) system.reportDropped(record, 'out-of-range', kRequestsCutNotice);
      const openRequests = Math.min(payload.openRequests, seen);
      if (openRequests === 0) return;
      record.requestsCut = openRequests;
      if (timeoutMs !== undefined) record.requestsCutAtMs = timeoutMs;
      if (timeoutMs !== undefined) emit('workerRequestsCut', { worker: record.handle, openRequests, timeoutMs, reason: 'deadline', ...held });
      else emit('workerRequestsCut', { worker: record.handle, openRequests, reason: isClosedByWorker(payload) ? 'closed' : 'exit' });
    },
  });
  // Handlers still running at its deadline: abandoned, their requesters unanswered (H229). At
  // most as many as the primary's requests to it (its own supervision requests, as the stop's
  // `$shutdown`, aside) still await their replies: a forged count cannot swell the report. The
  // rest ran for requests their callers had given up (timed out, aborted: H241), at most as
  // many as were: told apart, no reply is lost with them, and no request counted cut.
  system.register(kHandlersCutNotice, {
    kind: 'notification',
    check: isHandlersCutPayload,
    when: (record) => isAskedToStop(record) && record.handlersCut === undefined,
    handle: (payload, record) => {
      const { handlers, types, timeoutMs } = payload;
      const held = heldClaim(payload, record, () => system.reportDropped(record, 'out-of-range', kHandlersCutNotice));
      const count = Math.min(handlers, record.endpoint.pendingCountOf(isUserRequest));
      const givenUp = Math.min(handlers - count, record.endpoint.givenUpCount);
      if (handlers > count + givenUp) system.reportDropped(record, 'out-of-range', kHandlersCutNotice);
      if (count + givenUp === 0) return;
      if (count > 0) {
        record.handlersCut = count;
        record.handlersCutAtMs = timeoutMs;
      }
      const messageTypes = types.map(escapeControlChars);
      // Those whose requester exited (killed, or stopped first) are told apart from those timed out or aborted (H274).
      const requestersExited = Math.min(givenUp, record.endpoint.requesterExitedCount);
      emit('workerRequestsCut', {
        worker: record.handle,
        openRequests: count,
        timeoutMs,
        reason: 'handlers',
        messageTypes,
        ...(givenUp > 0 ? { givenUp } : {}),
        ...(requestersExited > 0 ? { requestersExited } : {}),
        ...held,
      });
    },
  });
  system.register(kScriptCleanupNotice, {
    kind: 'notification',
    check: isScriptCleanupPayload,
    when: isAskedToStop,
    handle: ({ signal }, record) => {
      record.cleanupSignal = signal;
    },
  });
  // A stop signal it got that no stop of ours sent: its exit is told as stopped by it (H273, H275).
  system.register(kStopSignalNotice, {
    kind: 'notification',
    check: isStopSignalPayload,
    when: (record) => record.stopSignal === undefined,
    handle: ({ signal }, record) => {
      record.stopSignal = signal;
      // It stops on its own once its grace ends (worker-lifecycle.ts): no new pick goes to it,
      // and a message sent to it from now is refused unsent, which says it did not run there,
      // rather than lost at its exit as "exited before it replied" (retest t53).
      pool.rotation.remove(record);
    },
  });
  // The answer travels behind any connection Node handed the worker before we read its
  // servers' close (see kSyncRequest). Outside a shutdown it goes at once. In a shutdown a
  // worker waits for it before it releases its keep-alive clients, and it goes once every
  // worker stopped accepting: a client released earlier reconnects into a cluster still
  // listening, where Node's cluster queues the connection for a worker that is leaving, then
  // closes it unanswered when the last one leaves (stop-worker.ts, whenClusterStopsAccepting).
  system.register(kSyncRequest, {
    kind: 'request',
    check: isNoPayload,
    handle: (_payload, record) => {
      record.whenStoppedAccepting.resolve();
      return pool.isClosed ? whenClusterStopsAccepting(pool, record) : undefined;
    },
  });
  system.register(kDestroyFailedNotice, {
    kind: 'notification',
    check: isDestroyFailedPayload,
    // Once per stop (the worker exits next): repeated, it was one log line each, without end.
    when: (record) => isAskedToStop(record) && !record.hasSaidDestroyFailed,
    handle: (payload, record) => {
      record.hasSaidDestroyFailed = true;
      record.destroyHook = payload.hook;
      // A claim: told at the exit it announces (code 1), not before (worker-pool.ts, H219).
      if ('timeoutMs' in payload) {
        const { cleanupSignal: signal } = record;
        const { timeoutMs, reservedMs, shortenedBy, heldOutputBytes, serversListening } = payload;
        record.wasListeningAtDeadline = signal !== undefined && serversListening !== undefined;
        // Its deadline began at the primary's ask at the earliest (or at a signal it got a
        // little before): a longer one than the time since is not what happened (H221).
        const elapsedMs = Date.now() - (record.askedToStopAt ?? Date.now());
        const isBeyond = timeoutMs > elapsedMs + kDestroyClaimSlackMs || (reservedMs ?? 0) > elapsedMs + kDestroyClaimSlackMs;
        // The slice kept for `_destroy`, and what used it up when it had under half of it (H350):
        // the worker's figures, said only of a `_destroy` (not a script's listener) and within reason.
        const slice = signal === undefined && !isBeyond && reservedMs !== undefined ? { reservedMs, ...(shortenedBy !== undefined && timeoutMs < reservedMs / 2 ? { shortenedBy } : {}) } : {};
        record.tellDestroyFailed = () => {
          if (isBeyond) system.reportDropped(record, 'out-of-range', kDestroyFailedNotice);
          // The requests its script's listener was most likely waiting for (server.close() waits for them), cut at the deadline (H399).
          const { requestsCut, requestsCutAtMs } = record;
          // Not when a server still listened at the deadline: the listener closed nothing, and is at fault (ops t60).
          const waited = signal !== undefined && serversListening === undefined && requestsCut !== undefined && requestsCutAtMs !== undefined ? { openRequests: requestsCut } : {};
          // Its output its reader took nothing of, which held the script's process (H553).
          const held = signal !== undefined && heldOutputBytes !== undefined ? { heldOutputBytes } : {};
          emit('workerDestroyTimeout', { worker: record.handle, timeoutMs, ...(signal ? { signal } : {}), ...(isBeyond ? { elapsedMs } : {}), ...slice, ...waited, ...held });
        };
        return;
      }
      // Cut as a clusterkit worker cuts it: a script may write its own notices (hostile t64).
      const thrown = boundReceivedError(payload.error);
      const { name, message } = thrown;
      // `messageType` stays `_destroy` (the hook's kind, which listeners test); the message names what ran as it (H694).
      const hook = payload.hook ?? '_destroy';
      const error = new RemoteError('_destroy', record.describe(), thrown, `${capitalize(record.describe())} did not stop cleanly: its ${hook}() threw ${name}: ${message}`);
      record.tellDestroyFailed = () => emit('workerError', { worker: record.handle, error });
    },
  });
}

/**
 * What held a stop before its drain, as a cut notice says (`heldMs`, `shortenedBy`, H360), with
 * the time since the primary asked the worker to stop by its own clock (`elapsedMs`): nothing
 * when it says none, and nothing (`dropped` called) when it claims a hold longer than that time
 * allows (a second of slack, as for `$destroyFailed`): the cut itself stands.
 */
function heldClaim(
  { heldMs, shortenedBy }: { readonly heldMs?: number; readonly shortenedBy?: DestroyShortenedBy },
  record: WorkerRecord,
  dropped: () => void,
): { heldMs: number; shortenedBy: DestroyShortenedBy; elapsedMs: number } | Record<string, never> {
  if (heldMs === undefined || shortenedBy === undefined) return {};
  const elapsedMs = Date.now() - (record.askedToStopAt ?? Date.now());
  if (heldMs > elapsedMs + kDestroyClaimSlackMs) {
    dropped();
    return {};
  }
  return { heldMs: Math.round(heldMs), shortenedBy, elapsedMs };
}

/**
 * The gradual drain a first `$drain` announces: the open HTTP connections the worker releases
 * one at a time, over `spreadMs` ms (checked, as any input from a worker, by `isDrainPayload`).
 */
function gradualDrainStart({ connections, spreadMs }: DrainPayload): { connections: number; spreadMs: number } | undefined {
  return connections === undefined || spreadMs === undefined ? undefined : { connections, spreadMs };
}

/** The primary asked it to stop (`$shutdown` sent) and it has not exited: its stop's notices may come. */
function isAskedToStop(record: WorkerRecord): boolean {
  return record.isAskedToStop && record.state === 'stopping';
}

/**
 * The worker closed the requests' connections itself during its stop (`closedByWorker: true`,
 * worker-lifecycle.ts), rather than exiting with them open: its line says which. Checked here,
 * the payload's check accepts the field as it accepts any other it does not read.
 */
function isClosedByWorker(payload: object): boolean {
  return (payload as { closedByWorker?: unknown }).closedByWorker === true;
}

