/**
 * The primary's lifecycle event log: a bounded ring buffer of what happened to the cluster
 * (forks, exits, restarts, reloads, scaling), read over the control socket with a cursor so a
 * reader (the dashboard) gets only what is new and learns when it fell behind. Pure: no I/O.
 *
 * The cursor works like a Kafka offset or the `resourceVersion` of a Kubernetes watch: every
 * event gets the next sequence number, and a reader asks for the events after the last one it
 * has. Memory stays bounded whatever the reader does: a reader that is too slow misses the
 * overwritten events and is told how many.
 */

/** Events kept; older ones are overwritten. A crash-looping 64-worker cluster logs ~4 a second. */
export const kEventLogCapacity = 1024;

/** The primary events the log keeps (named as on `ClusterPrimary`). */
export type ClusterEventType =
  | 'workerFork'
  | 'workerReady'
  | 'workerExit'
  | 'workerRestart'
  | 'workerUnresponsive'
  | 'workerMemoryLimit'
  | 'workerDestroyTimeout'
  | 'workerRequestsCut'
  | 'workerProtocolError'
  | 'workerDrain'
  | 'workerChannelCorrupt'
  | 'workerSlowMessage'
  | 'workerOutputLost'
  | 'stickyRefused'
  | 'crashLoop'
  | 'reload'
  | 'reloadComplete'
  | 'reloadFailed'
  | 'reloadJoined'
  | 'reloadWaiting'
  | 'crashLoopRefill'
  | 'scale'
  | 'scaleComplete'
  | 'shutdown'
  | 'shutdownForced';

/**
 * One entry of the log. Fields beyond `seq`, `at` and `type` depend on the type: worker events
 * carry `workerId`, `pid`, `slot` and `name`; the others are listed per field.
 */
export interface ClusterEvent {
  /** Position in the log: 1 for the primary's first event, then +1 each. The read cursor. */
  seq: number;
  /** When it happened, in ms since the epoch. */
  at: number;
  type: ClusterEventType;
  workerId?: number;
  pid?: number;
  slot?: number;
  name?: string;
  /**
   * `workerExit`: exit code (null when killed by a signal), signal, and whether the primary
   * asked for it. `workerRequestsCut`: `openRequests` are the requests cut off.
   */
  code?: number | null;
  signal?: string | null;
  expected?: boolean;
  /** `workerExit`: present (true) when the primary killed it with SIGKILL (`WorkerExitEvent.killed`). */
  killedByPrimary?: boolean;
  /** `workerExit`: present (true) when it exited with code 0 before its stop finished (`WorkerExitEvent.isStopUnfinished`). */
  stopUnfinished?: boolean;
  /** `workerExit`: present (true) when a group's SIGHUP killed it while loading (`WorkerExitEvent.isGroupHangup`). */
  groupHangup?: boolean;
  /** `workerRestart`: the worker it replaces, the backoff delay (ms) and the attempt (1 for the first). */
  previousId?: number;
  delayMs?: number;
  attempt?: number;
  /** `workerUnresponsive`: how long it had been silent, in ms. */
  silentMs?: number;
  /** `workerUnresponsive`: how many of `silentMs` the primary's own event loop was blocked (H474), in ms; missing when it was not. */
  primaryBlockedMs?: number;
  /** `workerUnresponsive` of a worker whose heap was near its limit at its last answer (`nearHeapLimit`, H394): that heap used and limit, in bytes. */
  heapUsedBytes?: number;
  heapLimitBytes?: number;
  /** `workerMemoryLimit`: the RSS that tripped the limit, and the limit, in bytes. */
  rssBytes?: number;
  limitBytes?: number;
  /** `workerMemoryLimit`: present (true) when it was stopped without waiting for its replacement (`action: 'restart'`, H163). */
  restartedInPlace?: boolean;
  /** `reload`: workers to replace. `reloadComplete`: workers replaced. */
  workers?: number;
  replaced?: number;
  /** `reloadComplete`: slots a scale-down removed before their replacement took over (H191). */
  retired?: number;
  /** `reloadComplete`: of `retired`, the slots `stopWorker()` removed (H757); absent when none. */
  retiredByStopWorker?: number;
  /** `reloadComplete`: slots that had no worker at their turn, not replaced (H574); absent when none. */
  vacant?: number;
  /** `reloadComplete`: of `vacant`, the slots whose worker, running as the reload began, crashed or was killed during it; with `vacant`. */
  vacantCrashed?: number;
  /** `reloadComplete`: slots given up in a crash loop that the reload started again; absent when none. */
  refilled?: number;
  /** `reloadComplete`: slots given up in a crash loop that the reload started again and that did not stay up the startup window (H517); absent when none. */
  refillsFailed?: number;
  /** `crashLoopRefill`: the numbers of the slots given up in a crash loop that the reload starts again (H259, H528). */
  slots?: number[];
  /**
   * `reloadComplete`: how the old workers stopped, counted as in `ShutdownReport`;
   * `scaleComplete`: the same for the surplus workers of a scale-down.
   * `shutdownForced`: `killed` workers, and `openRequests` still open when `trackServer()` knew.
   */
  graceful?: number;
  failed?: number;
  killed?: number;
  openRequests?: number;
  /** `workerRequestsCut` of a crash or a kill: the idle keep-alive connections its death reset besides (H367); absent when none. */
  resetConnections?: number;
  /** `scaleComplete`: removed workers that were not ready yet, `reloadComplete`: old workers not ready yet; stopped before they ever were (H211), only when there was one. */
  notStarted?: number;
  /** `reloadComplete`, `scaleComplete`: requests the stopped workers cut off (`ShutdownReport.requestsCut`). */
  requestsCut?: number;
  /**
   * `workerDestroyTimeout`: the time `_destroy` (or a plain script's cleanup: then `signal` is
   * the one it got) had before the worker cut it short, in ms. `workerRequestsCut`: the time
   * the worker's drain had; absent when the process exited with requests open.
   */
  timeoutMs?: number;
  /** `workerDestroyTimeout`: the time since the primary asked the worker to stop, by its clock, when `timeoutMs` is more than it (H221). */
  elapsedMs?: number;
  /** `workerDestroyTimeout`: the slice of the worker's stop kept for `_destroy`, in ms (H350). */
  reservedMs?: number;
  /** `workerDestroyTimeout`: what used that slice up before `_destroy` began, when it had under half of it (H350). */
  shortenedBy?: 'init' | 'blocked';
  /** `workerProtocolError`: messages dropped since the previous such event. */
  dropped?: number;
  /**
   * `workerSlowMessage`: how long reading the worker's channel kept the primary busy (ms), in how many reads, about how much the largest held (bytes), and times since the previous such event.
   * `workerOutputLost`: the bytes of output its exit dropped.
   */
  readMs?: number;
  reads?: number;
  bytes?: number;
  count?: number;
  /** `stickyRefused`: the listener's role, when it has one. */
  role?: string;
  /** `workerDrain`: the open connections a leaving worker releases one at a time, over `spreadMs` ms. */
  connections?: number;
  spreadMs?: number;
  /** `reloadFailed`: a newer watched change cut the reload short (`ReloadError.isSuperseded`); its change's reload follows. */
  superseded?: boolean;
  /** `reloadFailed`, `crashLoop`, `workerProtocolError`, `workerChannelCorrupt` (the worker was killed for it): what went wrong. */
  error?: string;
  /** `crashLoop`: failures counted and slots still supervised. */
  failures?: number;
  remainingSlots?: number;
  /** `scale`, `scaleComplete`: worker count before and wanted. */
  from?: number;
  to?: number;
  /** `shutdown`: the signal that started it, if any. `shutdownForced`: the signal that forced the stop. */
  reason?: string;
  /** `shutdownForced`: the signal that started the shutdown; absent when a call or `clusterkit stop` did. */
  firstSignal?: string;
  /** `reloadJoined`: queued after the reload under way (one more reload follows it), not joined to it (H374). */
  queued?: boolean;
  /** `reloadWaiting`: how long the reload's final wait lasts at most, and the startup window it waits out (`restart.startupWindowMs`, H371, H398). */
  waitMs?: number;
  windowMs?: number;
}

/** The answer to an `events` request. */
export interface EventsPage {
  /** The kept events with `seq` greater than the request's `after`, oldest first. */
  events: ClusterEvent[];
  /** The newest `seq` in the log (0 while empty): pass it as `after` next time. */
  last: number;
  /** Events after `after` that were overwritten before this read (0 when none was lost). */
  missed: number;
}

export type ClusterEventInput = Omit<ClusterEvent, 'seq' | 'at'> & { at?: number };

export class EventLog {
  readonly #capacity: number;
  /** Slot `seq % capacity` holds event `seq` while it is among the newest `capacity`. */
  readonly #ring: Array<ClusterEvent | undefined>;
  #last = 0;

  constructor(capacity = kEventLogCapacity) {
    if (!Number.isSafeInteger(capacity) || capacity < 1) throw new RangeError(`An event log needs a positive integer capacity. Received ${capacity}`);
    this.#capacity = capacity;
    this.#ring = new Array<ClusterEvent | undefined>(capacity);
  }

  /** The newest `seq` (0 while empty). */
  get last(): number {
    return this.#last;
  }

  /** Appends an event, overwriting the oldest when full; returns it with its `seq`. */
  append(input: ClusterEventInput): ClusterEvent {
    const seq = ++this.#last;
    const event: ClusterEvent = { ...input, seq, at: input.at ?? Date.now() };
    this.#ring[seq % this.#capacity] = event;
    return event;
  }

  /**
   * The events after `after`. A cursor beyond the newest event (one from an earlier primary
   * with the same name) reads from the start.
   */
  read(after = 0): EventsPage {
    const from = after > this.#last ? 0 : Math.max(0, after);
    const oldest = Math.max(1, this.#last - this.#capacity + 1);
    const first = Math.max(from + 1, oldest);
    const events: ClusterEvent[] = [];
    for (let seq = first; seq <= this.#last; seq++) events.push(this.#ring[seq % this.#capacity]!);
    return { events, last: this.#last, missed: Math.max(0, oldest - from - 1) };
  }
}
