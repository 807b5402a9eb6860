/**
 * Feeds a primary's lifecycle events into an `EventLog`, for the control socket's `events`
 * request. One small object per event, no I/O: as cheap as the events themselves.
 */
import { trackLastReload } from './last-reload.js';
import type { ClusterPrimary } from '../primary/cluster-primary.js';
import type { PrimaryEvents } from '../primary/primary-events.js';
import type { WorkerHandle } from '../primary/pool/worker-handle.js';
import type { AnyMessageMap } from '../types.js';
import { ChannelCorruptError, ReloadError } from '../errors.js';
import { EventLog } from './event-log.js';

type Events = PrimaryEvents<AnyMessageMap>;

/** Starts recording `primary`'s events; returns the log and a function that stops recording. */
export function recordClusterEvents(primary: ClusterPrimary, log = new EventLog()): { log: EventLog; stop: () => void } {
  const worker = (handle: WorkerHandle) => ({ workerId: handle.id, pid: handle.pid, slot: handle.slot, ...(handle.name === undefined ? {} : { name: handle.name }) });
  // What a death cut, recorded once (H367): from the kill's exit when the primary killed it, else from the crash.
  const cut = (handle: WorkerHandle, lostRequests: number | undefined, resetConnections: number | undefined) => {
    if (lostRequests || resetConnections) log.append({ type: 'workerRequestsCut', ...worker(handle), openRequests: lostRequests ?? 0, ...(resetConnections ? { resetConnections } : {}) });
  };
  const cutAtKill = new WeakSet<WorkerHandle>();
  const listeners = {
    workerFork: ({ worker: handle }) => log.append({ type: 'workerFork', ...worker(handle) }),
    workerReady: ({ worker: handle }) => log.append({ type: 'workerReady', ...worker(handle) }),
    workerExit: ({ worker: handle, code, signal, expected, killed, isStopUnfinished, isGroupHangup, lostRequests, resetConnections, beforeTakeover }) => {
      if (killed && (lostRequests || resetConnections)) {
        cutAtKill.add(handle);
        cut(handle, lostRequests, resetConnections);
      }
      log.append({ type: 'workerExit', ...worker(handle), code, signal, expected, ...(killed ? { killedByPrimary: true } : {}), ...(isStopUnfinished ? { stopUnfinished: true } : {}), ...(isGroupHangup ? { groupHangup: true } : {}) });
      // A replacement gone before its takeover has no workerCrash: what it cut is recorded as a crash's is (H360).
      if (beforeTakeover?.lostRequests) log.append({ type: 'workerRequestsCut', ...worker(handle), openRequests: beforeTakeover.lostRequests });
    },
    workerRestart: ({ previous, worker: handle, delayMs, attempt }) =>
      log.append({ type: 'workerRestart', ...worker(handle), previousId: previous.id, delayMs, attempt }),
    workerUnresponsive: ({ worker: handle, silentMs, primaryBlockedMs, nearHeapLimit }) =>
      log.append({ type: 'workerUnresponsive', ...worker(handle), silentMs, ...(primaryBlockedMs === undefined ? {} : { primaryBlockedMs }), ...(nearHeapLimit ?? {}) }),
    workerMemoryLimit: ({ worker: handle, rssBytes, limitBytes, action }) =>
      log.append({ type: 'workerMemoryLimit', ...worker(handle), rssBytes, limitBytes, ...(action === 'restart' ? { restartedInPlace: true } : {}) }),
    workerDestroyTimeout: ({ worker: handle, timeoutMs, signal, elapsedMs, reservedMs, shortenedBy }) =>
      log.append({
        type: 'workerDestroyTimeout',
        ...worker(handle),
        timeoutMs,
        ...(signal ? { signal } : {}),
        ...(elapsedMs !== undefined ? { elapsedMs } : {}),
        ...(reservedMs !== undefined ? { reservedMs } : {}),
        ...(shortenedBy !== undefined ? { shortenedBy } : {}),
      }),
    // A crash's lost requests (workerCrash.lostRequests) are logged as what they are: requests cut off by its exit,
    // with the idle connections it reset besides (H367: a kill that cut none but reset 12 recorded nothing).
    workerCrash: ({ worker: handle, lostRequests, resetConnections }) => {
      if (!cutAtKill.has(handle)) cut(handle, lostRequests, resetConnections);
    },
    // Handlers whose requesters had all given up cut no request (H241): nothing to record.
    workerRequestsCut: ({ worker: handle, openRequests, timeoutMs }) => {
      if (openRequests > 0) log.append({ type: 'workerRequestsCut', ...worker(handle), openRequests, ...(timeoutMs === undefined ? {} : { timeoutMs }) });
    },
    workerProtocolError: ({ worker: handle, error, dropped }) => log.append({ type: 'workerProtocolError', ...worker(handle), dropped, error: error.message }),
    stickyRefused: ({ reason, worker: handle, role, count }) =>
      log.append({ type: 'stickyRefused', ...(handle ? worker(handle) : {}), reason, ...(role === undefined ? {} : { role }), count }),
    workerSlowMessage: ({ worker: handle, readMs, reads, bytes, count }) => log.append({ type: 'workerSlowMessage', ...worker(handle), readMs, reads, bytes, count }),
    workerOutputLost: ({ worker: handle, bytes }) => log.append({ type: 'workerOutputLost', ...worker(handle), bytes }),
    workerDrain: ({ worker: handle, connections, spreadMs }) => log.append({ type: 'workerDrain', ...worker(handle), connections, spreadMs }),
    // Only the errors that end the worker and that no other event explains: its exit says SIGKILL, this says why.
    workerError: ({ worker: handle, error }) => {
      if (error instanceof ChannelCorruptError) log.append({ type: 'workerChannelCorrupt', ...worker(handle), error: error.message });
    },
    crashLoop: ({ slot, name, failures, error, remainingSlots }) =>
      log.append({ type: 'crashLoop', slot, ...(name === undefined ? {} : { name }), failures, remainingSlots, error: error.message }),
    reload: ({ workers }) => log.append({ type: 'reload', workers }),
    reloadComplete: ({ replaced, retired, retiredByStopWorker, stopped, refilled, refillsFailed, vacant, vacantCrashed }) =>
      log.append({
        type: 'reloadComplete',
        replaced,
        ...(retired === 0 ? {} : { retired }),
        ...(retiredByStopWorker === undefined ? {} : { retiredByStopWorker }),
        ...(vacant === undefined ? {} : { vacant }),
        ...(vacantCrashed === undefined ? {} : { vacantCrashed }),
        ...(refilled === undefined ? {} : { refilled }),
        ...(refillsFailed === undefined ? {} : { refillsFailed }),
        graceful: stopped.graceful.length,
        failed: stopped.failed.length,
        killed: stopped.killed.length,
        ...(stopped.notStarted === undefined ? {} : { notStarted: stopped.notStarted.length }),
        requestsCut: stopped.requestsCut,
      }),
    reloadFailed: ({ error }) => log.append({ type: 'reloadFailed', error: error.message, ...(error instanceof ReloadError && error.isSuperseded ? { superseded: true } : {}) }),
    reloadJoined: ({ queued }) => log.append({ type: 'reloadJoined', queued }),
    // `clusterkit reload` says the final wait as it begins (H398).
    reloadWaiting: ({ waitMs, windowMs }) => log.append({ type: 'reloadWaiting', waitMs, windowMs }),
    // `clusterkit reload` says the slots it starts again, and waits for (H528).
    crashLoopRefill: ({ slots }) => log.append({ type: 'crashLoopRefill', slots: [...slots] }),
    scale: ({ from, to }) => log.append({ type: 'scale', from, to }),
    scaleComplete: ({ from, to, stopped }) =>
      log.append({
        type: 'scaleComplete',
        from,
        to,
        graceful: stopped.graceful.length,
        failed: stopped.failed.length,
        killed: stopped.killed.length,
        ...(stopped.notStarted === undefined ? {} : { notStarted: stopped.notStarted.length }),
        requestsCut: stopped.requestsCut,
      }),
    shutdown: ({ signal }) => log.append({ type: 'shutdown', ...(signal ? { reason: signal } : {}) }),
    shutdownForced: ({ signal, firstSignal, killed, openRequests }) =>
      log.append({ type: 'shutdownForced', reason: signal, killed: killed.length, ...(openRequests === undefined ? {} : { openRequests }), ...(firstSignal === undefined ? {} : { firstSignal }) }),
  } satisfies { [E in keyof Events]?: (payload: Parameters<Events[E]>[0]) => void };
  const entries = Object.entries(listeners) as Array<[keyof Events, (payload: never) => void]>;
  const emitter = primary as unknown as { on(event: string, listener: (payload: never) => void): void; off(event: string, listener: (payload: never) => void): void };
  for (const [event, listener] of entries) emitter.on(event, listener);
  // The last reload, for `status` (H529).
  const untrackReload = trackLastReload(primary);
  return {
    log,
    stop: () => {
      entries.forEach(([event, listener]) => emitter.off(event, listener));
      untrackReload();
    },
  };
}
