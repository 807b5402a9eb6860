/**
 * Events of `ClusterPrimary`. Every listener gets one payload object. Worker events start with
 * `worker`. Events observe; hooks (`_init`, `_destroy`) change behaviour.
 */
import type { Address } from 'node:cluster';
import type { CrashLoopError, CrashLoopReason, ProtocolError, ProtocolProblem, RemoteError, StoreFullError, StoreWatchLimitError } from '../errors.js';
import type { UncaughtError } from '../messaging/system-types.js';
export type { UncaughtError };
import type { MessageType, PayloadOf, ReplyOf } from '../types.js';
import type { StoreChange } from './features/shared-store.js';
import type { WorkerHandle } from './pool/worker-handle.js';
import type { HeapPressure } from './pool/heap-pressure.js';

/** A message from a worker, as seen by `workerMessage` listeners. */
export type WorkerMessageEvent<ToPrimary> = {
  [K in MessageType<ToPrimary>]: {
    readonly worker: WorkerHandle;
    readonly type: K;
    readonly payload: PayloadOf<ToPrimary, K>;
    /** True for `send` (a reply is expected), false for `notify`. */
    readonly isRequest: boolean;
    /** True when a `_onMessage_<type>` method handles it. */
    readonly hasHandler: boolean;
    /**
     * Answer a request that has no handler method. Call it synchronously inside the listener,
     * with the reply or a promise of it. Without a method or a `respondWith`, the sender gets
     * `NoHandlerError`.
     */
    respondWith(reply: ReplyOf<ToPrimary, K> | Promise<ReplyOf<ToPrimary, K>>): void;
  };
}[MessageType<ToPrimary>];

export interface WorkerExitEvent {
  readonly worker: WorkerHandle;
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** True when the primary asked it to stop (stop, shutdown, reload, replacement). */
  readonly expected: boolean;
  /**
   * True when the primary killed it with SIGKILL: at a stop's timeout, or for not answering
   * heartbeats, or for what it wrote on its IPC channel. A SIGKILL with `killed` false came from
   * outside clusterkit (`kill -9`, the kernel's OOM killer).
   */
  readonly killed: boolean;
  /**
   * With `killed`: why the primary killed it, when it knows: `WorkerChannelClosedError` (its
   * channel closed without an exit for a second), `ChannelCorruptError` (what it wrote on its
   * channel), `WorkerUnresponsiveError` (the heartbeat; H717). The same reason a failed start's
   * or a crash loop's summary gives (H510, H519).
   */
  readonly killedFor?: Error;
  /**
   * With `killed`, for a worker that was ready: the requests the kill cut off as far as the
   * primary knows, as `WorkerCrashEvent.lostRequests` counts them (open at its last report, and
   * connections handed to it it never took), with `isLowerBound` and `resetConnections` as
   * there (H367). Absent when nothing is known cut, or when the worker said itself what its stop
   * cut (`workerRequestsCut`). A kill during a stop counts them in the stop's `requestsCut` too.
   */
  readonly lostRequests?: number;
  /** With `lostRequests`: as `WorkerCrashEvent.isLowerBound`. */
  readonly isLowerBound?: true;
  /** With `lostRequests`: as `WorkerCrashEvent.resetConnections`, the idle connections the kill reset besides. */
  readonly resetConnections?: number;
  /**
   * True when it exited with code 0 during a stop the primary asked for, without having said
   * that its stop ran to its end: code in the worker ended the process before then, in a way
   * that skips Node's 'exit' event (`process.reallyExit()`, a native addon's `exit()`). Its stop
   * is `failed`, and the requests known open then count as cut off (`workerRequestsCut`,
   * `reason: 'exit'`).
   */
  readonly isStopUnfinished: boolean;
  /**
   * With `isStopUnfinished`: its IPC channel was backed up up to its exit (it was still reading
   * a backlog of the primary's messages, up to a second before), so the notice that its stop
   * ended may have been queued behind it and lost at the exit: what ended it cannot be told
   * (H218). Absent otherwise.
   */
  readonly isChannelBacklogged?: boolean;
  /**
   * With `isChannelBacklogged`: whose messages were backed up. `'primary'`: the worker was still
   * reading the primary's (H218); `'worker'`: the primary was still reading the worker's own when
   * it exited (a script that flooded its channel in its cleanup), so its notice that its stop
   * ended may be unread behind them, or lost at the exit (H235).
   */
  readonly backlogOf?: 'primary' | 'worker';
  /**
   * True when its stop (any: a shutdown, a reload, a scale-down, `stopWorker()`) came while it
   * was still booting, before its code started (no `$hello` yet), and the primary ended it with
   * SIGTERM: stopped before it was ready, with nothing to drain, its stop `graceful` (H200,
   * H202). Absent otherwise.
   */
  readonly isEndedUnstarted?: boolean;
  /**
   * True when it died of SIGHUP while still loading (not ready yet), and the primary got a SIGHUP
   * of its own within 2 s before (or just after): the signal is taken for one sent to the whole
   * process group (`kill -HUP -<pgid>`, a terminal's hangup; Node cannot tell a signal's sender),
   * which reached the worker before it listened for SIGHUP, and Node's default for SIGHUP ends a
   * process. No fault of its script, and no failed start: a reload starts a new worker in its
   * slot, a restart comes at once, uncounted by the crash-loop breaker. Three in a row per slot
   * at most (no worker of the slot ready between): the next such death is a failed start (a
   * script that signals its own group as it loads). With `expected` (its stop was asked for, and
   * the SIGHUP ended it first): stopped all the same, no restart. Only when the primary handles
   * signals (`handleSignals`). Absent otherwise.
   */
  readonly isGroupHangup?: true;
  /**
   * The stop signal (SIGINT, SIGTERM) the worker said it received when no stop of the primary's
   * had asked it to go: it stopped on its own on a signal from outside clusterkit (`kill`, a
   * process manager, a container runtime, its own code), and its exit with code 0 is told so
   * (H273, H275). Absent otherwise, and for a stop the primary asked for.
   */
  readonly stopSignal?: 'SIGINT' | 'SIGTERM';
  /**
   * Set on an unexpected exit of a ready worker that had not taken over its slot yet: a reload's
   * or a `maxMemoryMb` replacement, serving beside the worker it replaces (during `minReadyMs`).
   * No `workerCrash` follows (it is not restarted: the replacement fails, `reloadFailed`), so
   * its exit says what a crash does, as `WorkerCrashEvent`'s fields (H360): `readyMs`,
   * `lostRequests`, `isLowerBound`, `resetConnections`, `error`.
   */
  readonly beforeTakeover?: UnreplacedExit;
}

/** What the exit of a replacement that had not taken over its slot cut (`WorkerExitEvent.beforeTakeover`). */
export interface UnreplacedExit {
  readonly readyMs: number;
  /** As `WorkerCrashEvent.unseenMs`. */
  readonly unseenMs?: number;
  readonly lostRequests?: number;
  readonly isLowerBound?: true;
  readonly resetConnections?: number;
  readonly error?: UncaughtError;
}

export interface WorkerCrashEvent {
  readonly worker: WorkerHandle;
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** Time since the fork, ms, up to when the primary saw its exit. */
  readonly uptimeMs: number;
  /**
   * Time it spent ready, ms; 0 if it never became ready. Stability counts from ready. A lower
   * bound when `unseenMs` is set: counted up to the start of the primary's own stall.
   */
  readonly readyMs: number;
  /**
   * Set when the primary itself was stalled (SIGSTOP, a long synchronous hook, a GC pause) or the
   * machine suspended just before it saw this exit: the worker may have died at any point of
   * those `unseenMs` ms, so it was ready from `readyMs` to `readyMs + unseenMs` ms (H486). The
   * backoff is reset only when `readyMs` reaches `restart.stableAfterMs`; a failed start is
   * counted only when `readyMs + unseenMs` is within `restart.startupWindowMs`. Needs the heartbeat (its stall clock).
   */
  readonly unseenMs?: number;
  /**
   * The restart policy counts this exit as a failed start, not a crash of a running worker: it
   * never became ready, or was ready for less than `restart.startupWindowMs` without serving
   * anything. Such exits count toward `maxStartupFailures` in a row. False with `restart: false`.
   */
  readonly isStartupFailure: boolean;
  /**
   * It served (a request on a tracked HTTP server, a connection on a plain TCP one, or a request
   * message; a connection with no request on an HTTP server is none): it started,
   * however soon it died, and its restart counts toward no restart limit. It comes after
   * `restart.backoff.initialMs` when the worker was ready `restart.stableAfterMs` or longer,
   * else after the slot's growing backoff (`restartAttempt`; `unstableCrashes` within
   * `restart.startupWindowMs` of ready, H366, H449).
   */
  readonly hasServed: boolean;
  /**
   * How long the restart that follows waits (ms), as `workerRestart.delayMs` will say: the
   * restart policy's backoff. Absent when the slot is not restarted (the crash-loop breaker,
   * `restart: false`) and for a worker that was never ready (H366).
   */
  readonly restartDelayMs?: number;
  /**
   * The number of the restart that follows since the slot's backoff was last reset (1-based),
   * as `workerRestart.attempt` will say: `restartDelayMs` is `backoff.initialMs` doubled
   * `restartAttempt - 1` times, capped at `backoff.maxMs`. Set with `restartDelayMs` (H449).
   */
  readonly restartAttempt?: number;
  /**
   * Set for a worker that served and died within `restart.startupWindowMs` of ready: such
   * crashes of its slot in a row, this one included (PM2's unstable restarts). Its slot's
   * backoff grows with them (100 ms, 200 ms, 400 ms... up to `backoff.maxMs`) until a worker
   * of the slot stays ready past the window; they count toward no limit (H366).
   */
  readonly unstableCrashes?: number;
  /**
   * The requests the crash cut off, as far as the primary knows: those its tracked servers had
   * open as it exited (it says so from its 'exit' event: an uncaught error, a `process.exit()`),
   * else at its last report (a SIGKILL, an abort, the hang detection's kill): the count it tells
   * as a request begins or ends (at most 100 ms old under traffic, and including a request that
   * blocked its event loop right away) or its last heartbeat answer, whichever is newer; and the
   * connections handed to it that it never took. A lower bound (connections node:cluster still queued for it
   * are not known). Undefined when it tracks no server and was handed no connection unanswered.
   */
  readonly lostRequests?: number;
  /**
   * Set when `lostRequests` is a lower bound, as it is unless the worker counted it as it exited
   * with no idle connection: its last report was older, or requests its clients had already
   * sent on idle keep-alive connections were not read yet (the log line says "at least").
   */
  readonly isLowerBound?: true;
  /**
   * The idle connections its death reset besides (open on its tracked servers, no request known
   * on them), from the same report as `lostRequests`: a keep-alive client's next request on one
   * fails. Absent when that report did not say (older workers).
   */
  readonly resetConnections?: number;
  /**
   * What it died of, when it died of an uncaught exception or an unhandled rejection (`origin`)
   * and said so before its exit: the error's `name`, `message` (at most 1 024 characters),
   * `code`, and `location`, the first stack frame in the user's code (`/srv/api.js:12:7`).
   * The worker's own text, control characters escaped. Absent for other deaths (a signal,
   * `process.exit(1)`, a native crash) and from workers of older versions.
   */
  readonly error?: UncaughtError;
}

export interface WorkerRestartEvent {
  readonly previous: WorkerHandle;
  readonly worker: WorkerHandle;
  readonly delayMs: number;
  /** Restarts of this slot since its backoff was last reset (1 for the first). */
  readonly attempt: number;
}

export interface CrashLoopEvent {
  readonly slot: number;
  readonly name: string | undefined;
  readonly failures: number;
  /** `memory-limit` is no longer emitted: a worker over `maxMemoryMb` is always replaced (`workerMemoryLimit`). */
  readonly reason: CrashLoopReason;
  readonly error: CrashLoopError;
  /** Slots still supervised after this one gave up: 0 means no worker is left to serve. */
  readonly remainingSlots: number;
}

/**
 * What the primary does with a worker over `maxMemoryMb`: `replace`, a replacement first, then
 * a graceful stop (zero downtime); `restart`, a stop without waiting for the replacement, then
 * a restart in place by the crash rules (the hard bound, H163).
 */
export type MemoryLimitAction = 'replace' | 'restart';

/** A memory replacement not waited for at the hard bound: forked and not ready, or it could not start. */
export type MemoryReplacementState = 'starting' | 'failed';

/** `workerMemoryLimit`: a worker over `maxMemoryMb`. */
export interface MemoryLimitEvent {
  readonly worker: WorkerHandle;
  readonly rssBytes: number;
  readonly limitBytes: number;
  /** The slot's memory replacements in a row, each soon after its worker started (0: it ran stably first). */
  readonly inARow: number;
  /** How long the replacement waits (ms): the restart backoff from the third in a row, else 0; 0 for `restart`. */
  readonly delayMs: number;
  readonly action: MemoryLimitAction;
  /**
   * With `restart` only: the state of the replacement it did not wait for, `starting` (forked,
   * not ready yet) or `failed` (it could not start; tried again after three more heartbeats).
   */
  readonly replacement?: MemoryReplacementState;
  /** With `replacement: 'starting'`: how long (ms) it had been starting. Slow, not necessarily stuck: it may yet become ready (H190). */
  readonly replacementStartingMs?: number;
}

/**
 * Why a slot's serving worker changed: `start`, the slot's first worker (the start, a
 * scale-up); `restart`, its worker exited and this one was forked in its place; `replace`, a
 * replacement that started while the old worker served (a rolling reload, a memory-limit
 * replacement) is ready, and listening if the old one was: the old worker now stops.
 */
export type SlotChangeReason = 'start' | 'restart' | 'replace';

/** A slot (a position in the pool, `worker.slot`) is served by another worker. */
export interface SlotChangeEvent {
  readonly slot: number;
  /** The slot's worker name (`fork({ name })`), if any. */
  readonly name: string | undefined;
  /** The worker serving the slot from now on. */
  readonly worker: WorkerHandle;
  /** The worker that served it until now; undefined for the slot's first worker. */
  readonly previous: WorkerHandle | undefined;
  readonly reason: SlotChangeReason;
}

/**
 * What a rolling reload did: `reload()` resolves with it, and `reloadComplete` carries it (its
 * fields are told there). Newcomer t78: `reload()` resolved with nothing, while `shutdown()`
 * resolves with its report and `clusterkit reload` prints one.
 */
export interface ReloadReport {
  /** Workers replaced: their old worker was stopped, their replacement took over. */
  readonly replaced: number;
  /** Slots a scale-down (or `stopWorker()`) removed before their replacement took over, not replaced (H191). */
  readonly retired: number;
  /** Of `retired`, the slots `stopWorker()` removed, not a scale-down (H757); only when there was one. */
  readonly retiredByStopWorker?: number;
  /** How the old workers stopped. */
  readonly stopped: ShutdownReport;
  /** Slots given up in a crash loop that the reload started again (H712); only when there was one. */
  readonly refilled?: number;
  /** Of `refilled`, those that did not stay up the startup window (H517); only when there was one. */
  readonly refillsFailed?: number;
  /** Slots that had no worker running at their turn, started with the new code, not in `replaced` (H574); only when there was one. */
  readonly vacant?: number;
  /** Of `vacant`, the slots whose worker was running as the reload began and crashed or was killed during it; with `vacant`. */
  readonly vacantCrashed?: number;
}

/**
 * How the workers of a shutdown (or of a reload, their old workers) stopped. A worker whose
 * process had exited on its own before the stop (its exit still being read, at most 2 s) is in
 * no list: the stop stopped nothing of it, and its `workerExit` tells how it ended.
 */
export interface ShutdownReport {
  /**
   * Workers that stopped cleanly: within the timeout, their stop ran to the end (servers
   * drained, `_destroy` finished) and they exited with code 0.
   */
  readonly graceful: readonly WorkerHandle[];
  /**
   * Workers that exited on their own within the timeout, but not cleanly: they cut off requests
   * (still open at their own deadline, or ended by their own code: a `process.exit()`, a
   * `server.closeAllConnections()`; see `workerRequestsCut`), their `_destroy` did not finish
   * within that deadline (see `workerDestroyTimeout`) or threw, or they exited with another code
   * or a signal.
   */
  readonly failed: readonly WorkerHandle[];
  /**
   * Workers the primary killed with SIGKILL: still running at the timeout, or killed during
   * their stop for what they wrote on their IPC channel (`ChannelCorruptError`, told before), or
   * by the heartbeat, silent past `heartbeat.timeoutMs` (`workerUnresponsive`, H376).
   */
  readonly killed: readonly WorkerHandle[];
  /**
   * Requests this stop cut off: those still open when a worker reached its own deadline, or
   * that its own code ended unfinished (its stop is then `failed`, see `workerRequestsCut`),
   * and those a killed worker's tracked servers
   * still had open, as it last reported. 0 when every request finished; counted only for
   * servers the workers track (`trackServer()`, every server of a `clusterkit run` script).
   */
  readonly requestsCut: number;
  /**
   * Set on a shutdown that began while `start()` was under way (a stop signal, `shutdown()`
   * or `clusterkit stop` before every initial worker was ready): the start was interrupted, and
   * the primary's signal handling exits 1, as for a start that failed. The initial workers that
   * were not ready then, stopped before they ever were, however they exited (cleanly, by the stop
   * signal that reached the whole process group before the worker could handle it, or of a
   * failed start, said on its own line); in no other list. Each worker is in one list only: one
   * still starting that the primary had to SIGKILL at the timeout is in `killed`, not here (H210;
   * before, in both). Workers not forked yet are in none: the start forks no more. Empty when the
   * shutdown came before any fork (during the primary's `_init`), or when every worker not ready
   * was killed. On `scaleComplete` (no `interrupted` then): the workers the scale-down removed
   * that were not ready yet (a scale-up's, a restart's), stopped before they ever were, out of
   * `graceful` and `failed` likewise; set only when there was one (H211: before, in no count).
   */
  readonly notStarted?: readonly WorkerHandle[];
  /**
   * Set with `notStarted`: what the shutdown interrupted. `'start'`, as above; `'scale'`, a
   * scale-up (`scale()`, `clusterkit scale`): `notStarted` lists the workers it had forked that
   * were not ready yet, out of `graceful` and `failed` likewise. The service had started: the
   * exit code is not raised for it. `'replacement'`: a worker started while the service ran (a
   * rolling reload's, a memory-limit replacement, a restart after an exit, a `fork()`) was not ready yet; it
   * is in `notStarted`, not `graceful`, and the exit code is not raised for it either.
   * `'failed-start'`: no stop interrupted the start, it failed (a slot gave up: `start()`
   * rejects, and says why); the other initial workers not ready yet were stopped before they
   * were, and are in `notStarted` likewise. Set only when there was one.
   */
  readonly interrupted?: 'start' | 'failed-start' | 'scale' | 'replacement';
  /**
   * On `shutdownComplete` (and `shutdown()`'s result): open connections of the `killed` workers
   * that their kills reset, at least (those with no request known on them at each worker's last
   * report; a request sent on one since was lost too), as the `shutdown complete` line's
   * `killedConnectionsReset`. Set only when there was one (retest t61 L7: the line had it, the
   * report did not; H609).
   */
  readonly killedConnectionsReset?: number;
  /**
   * On `shutdownComplete`: connections reset before any worker took them, with node:cluster's
   * round-robin scheduling (the default but on Windows); each client had most likely sent a
   * request, and got ECONNRESET. A shutdown closes the listening sockets first and hands what
   * the primary accepted to the workers before they stop. Counted: those the kernel had
   * completed and the primary not accepted yet as a socket closed (read from the kernel just
   * before, on Linux: clients that connect again at once, as the socket closes), and those the
   * primary had accepted that node:cluster reset because no worker took them before the last
   * worker of their port left (its event loop blocked past the wait, at most 2 s or a quarter of
   * the timeout). Of both, only those whose client was still there: one its client reset or
   * closed its side of lost nothing to the shutdown (H364; in the kernel's backlog, counted one
   * by one from /proc/net/tcp and tcp6, H370). Set only when there was one (H358: before,
   * uncounted, up to one per client under load while the report said `requestsCut: 0`).
   */
  readonly connectionsReset?: number;
  /**
   * On `shutdownComplete`: restarts the shutdown cancelled, of slots whose worker had exited
   * and that were waiting out their back-off delay (`restart.delayMs` and its growth) before
   * forking the next one: no worker of theirs was running to stop, and none will be. Set only
   * when there was one (H454: before, a stop of such a cluster said `0 workers stopped
   * gracefully`, and nothing of the restarts it cancelled).
   */
  readonly restartsCancelled?: number;
}

/**
 * What asked for a shutdown: a stop signal (`handleSignals`, or the launcher's), `clusterkit stop`
 * (the control socket), `shutdown()` called by the app's code, clusterkit itself when no worker
 * is left (every slot failed too often), a start that failed (H292), or the end of the launcher
 * (`clusterkit run` of a config file's apps) that started this app's primary (H337).
 */
export type ShutdownRequester = 'signal' | 'control' | 'call' | 'no-worker-left' | 'failed-start' | 'launcher';

/**
 * What asked for a rolling reload: a SIGHUP to the primary, `clusterkit reload` (the control
 * socket), a `--watch` change, the `cronRestart` schedule (H377), or `reload()` in the primary's
 * code (the default).
 */
export type ReloadRequester = 'signal' | 'control' | 'watch' | 'schedule' | 'call';

/** A second SIGINT or SIGTERM during the shutdown: every worker was killed at once. */
/**
 * How a worker's requests were cut off (`workerRequestsCut`):
 * - `deadline`: still open at the worker's own stop deadline, `timeoutMs` after its stop began
 *   (after the primary asked it to stop); it destroyed their connections and exits with code 1.
 *   With `shortenedBy`, its drain had under half of that time: it began `heldMs` after the ask.
 * - `exit`: code in the worker ended its process during its stop with them open (a
 *   `process.exit()` in a `shutdown` listener or `_destroy`, a plain script's own cleanup).
 * - `closed`: code in the worker closed their connections during its stop before their
 *   responses finished (`server.closeAllConnections()` in a `shutdown` listener, a socket's
 *   `destroy()`); it exits with code 1.
 * - `unexpected-exit`: the worker exited with code 0 on its own, not asked to stop, with them
 *   open as it exited (or as its last heartbeat answer reported, or handed to it and not taken
 *   yet); it is restarted like any worker that exits. A non-zero code or a signal is a crash,
 *   told by `workerCrash.lostRequests` instead.
 * - `signal`: a signal clusterkit did not send (`signal`) ended the worker during its stop, with
 *   them open as it last reported (or handed to it and not taken yet). Where it came from is not
 *   known: code in the worker killing itself (a SIGKILL in a `shutdown` listener), `kill -9`, the
 *   OOM killer. The stop counts as `failed`.
 * - `handlers`: message handlers (`_onMessage_<type>`, `onRequest()`) still ran at the worker's
 *   own stop deadline, `timeoutMs` after its stop began: `openRequests` of them, of
 *   `messageTypes`. Their requesters get no reply (a `WorkerExitedError`); it exits with code 1
 *   and the stop counts as `failed`, as for HTTP requests cut off at the deadline.
 */
export type RequestsCutReason = 'deadline' | 'exit' | 'closed' | 'unexpected-exit' | 'signal' | 'handlers';

export interface WorkerRequestsCutEvent {
  readonly worker: WorkerHandle;
  readonly openRequests: number;
  /**
   * For `deadline` and `handlers`: the time from the primary's ask (the worker's stop, from a
   * worker or primary of an older version) to the worker's own deadline, ms.
   */
  readonly timeoutMs?: number;
  /**
   * For `deadline` and `handlers`, when the drain had under half of its time: what held the
   * stop before its drain began (H360), `'blocked'` (the worker's event loop: synchronous code
   * running as the stop came, as in a request handler, or in a 'shutdown' listener, or a machine
   * too busy to run it) or `'init'` (a stop that came while the worker was starting waited for
   * its `_init`); `heldMs` how long after the primary's ask the drain began (the worker's
   * figure, dropped as `out-of-range` beyond `elapsedMs` and a second); `elapsedMs` the time
   * since the primary asked it to stop when it heard of the cut, by the primary's clock.
   */
  readonly shortenedBy?: 'init' | 'blocked';
  readonly heldMs?: number;
  readonly elapsedMs?: number;
  /** For `signal`: the signal that ended it. */
  readonly signal?: NodeJS.Signals;
  readonly reason: RequestsCutReason;
  /** For `handlers`: the message types of the handlers still running (at most 10), control characters escaped. */
  readonly messageTypes?: readonly string[];
  /**
   * For `handlers`: those of them whose requesters had already given up (their requests timed
   * out, a `MessageTimeoutError`, or were aborted): no reply is lost with them, and they are
   * not in `openRequests` nor counted cut off (H241). Absent when none.
   */
  readonly givenUp?: number;
  /**
   * For `handlers`: of `givenUp`, those whose requester had exited (a relayed `sendTo()` whose
   * sending worker was killed, or stopped before it) rather than timed out or aborted (H274). Absent when none.
   */
  readonly requestersExited?: number;
  /** For `unexpected-exit`: as `WorkerCrashEvent.isLowerBound`, `openRequests` is a lower bound. */
  readonly isLowerBound?: true;
  /** For `unexpected-exit`: as `WorkerCrashEvent.resetConnections`, the idle connections its exit reset besides. */
  readonly resetConnections?: number;
}

export interface ShutdownForcedEvent {
  /** The signal that forced the stop. */
  readonly signal: NodeJS.Signals;
  /**
   * The signal that started the shutdown: the same as `signal` for a second Ctrl-C, another
   * one for SIGINT after SIGTERM; absent when a call or `clusterkit stop` started it.
   */
  readonly firstSignal?: NodeJS.Signals;
  /** The workers killed with SIGKILL. */
  readonly killed: readonly WorkerHandle[];
  /**
   * Requests their tracked servers (`trackServer()`) still had open, as the workers last
   * reported while draining; undefined when no worker tracks a server.
   */
  readonly openRequests: number | undefined;
}

/**
 * Why sticky connections were closed unserved (`stickyRefused`): `no-ready-worker`, no worker
 * was ready; `no-sticky-worker`, workers were ready but none serves sticky connections (none
 * called `serveSticky()`, or none has the listener's `role`); `worker-refused`, the worker it
 * was handed to could not serve it (no `serveSticky()` server, or it had stopped) and closed it;
 * `queue-full`, the primary closed it as `listenSticky({ maxQueued })` connections already
 * waited for the worker chosen for it (a flood, or a worker slow to take them); `not-received`,
 * the worker's process could not take it (out of descriptors, most likely): Node sent it 4 times,
 * then closed it.
 */
export type StickyRefusedReason = 'no-ready-worker' | 'no-sticky-worker' | 'worker-refused' | 'queue-full' | 'not-received';

/** `listenSticky()` connections closed unserved: their clients saw the connection closed with no answer. */
export interface StickyRefusedEvent {
  readonly reason: StickyRefusedReason;
  /** The worker that refused them (`worker-refused`: it gets no more sticky connections), whose queue was full (`queue-full`), or that could not take them (`not-received`). */
  readonly worker?: WorkerHandle;
  /** The listener's `role`, when it has one (`no-sticky-worker`, `no-ready-worker`, `queue-full`). */
  readonly role?: string;
  /** Connections refused for this `reason` since the previous such event (the first refusal: 1). */
  readonly count: number;
  /**
   * `queue-full` only: the limit the latest refusal reached. `maxQueued`: the connections waiting
   * for its worker reached `listenSticky({ maxQueued })`; `openFiles`: those waiting for all
   * workers reached half the primary's open-file limit (`ulimit -n`). `limitValue`: that many connections.
   */
  readonly limit?: 'maxQueued' | 'openFiles';
  readonly limitValue?: number;
}

export interface PrimaryEvents<ToPrimary> {
  initialize: (event: Record<string, never>) => void;
  initializeComplete: (event: Record<string, never>) => void;
  initializeError: (event: { readonly error: Error }) => void;
  destroy: (event: Record<string, never>) => void;
  destroyComplete: (event: { readonly error?: Error }) => void;

  workerFork: (event: { readonly worker: WorkerHandle }) => void;
  workerOnline: (event: { readonly worker: WorkerHandle }) => void;
  workerListening: (event: { readonly worker: WorkerHandle; readonly address: Address }) => void;
  workerReady: (event: { readonly worker: WorkerHandle }) => void;
  workerMessage: (event: WorkerMessageEvent<ToPrimary>) => void;
  workerDisconnect: (event: { readonly worker: WorkerHandle }) => void;
  /** A worker-side failure: its `_init` threw (a `RemoteError`), its process emitted 'error'... */
  workerError: (event: { readonly worker: WorkerHandle; readonly error: Error | RemoteError }) => void;
  workerExit: (event: WorkerExitEvent) => void;
  workerCrash: (event: WorkerCrashEvent) => void;
  workerRestart: (event: WorkerRestartEvent) => void;
  /**
   * The heartbeat found the worker silent past `heartbeat.timeoutMs` (its event loop blocked) and
   * kills it (SIGKILL): a ready worker, or one stopping (H376: its `worker.state` is `'stopping'`;
   * its stop is then `killed`, not waited for until its timeout).
   * `nearHeapLimit` (H394): its last heartbeat answer had its heap at 90 % or more of its limit
   * (`stats().heapLimitBytes`), so the cause is most likely garbage collection running back to
   * back near the heap limit (a leak, or too small a `--max-old-space-size`), not a blocked loop:
   * that answer's heap used and limit, the worker's own word. Missing otherwise.
   * `silentMs` is the wall clock's. `primaryBlockedMs` (H474): how many of those ms the primary's
   * own event loop was blocked (measured, see `PrimaryBlockedError`), when it was: the worker's
   * answers could not be read then, and the heartbeat judged its silence without them (per
   * silence, at most one `timeoutMs` or the stall measured, whichever is longer). Missing when
   * the primary was not blocked.
   */
  workerUnresponsive: (event: { readonly worker: WorkerHandle; readonly silentMs: number; readonly primaryBlockedMs?: number; readonly nearHeapLimit?: HeapPressure }) => void;
  /**
   * Processes a worker the primary killed (SIGKILL: its stop's timeout, the heartbeat, its
   * channel) had started did not end within 1 s of SIGTERM after its exit, and were killed
   * (SIGKILL): their `pids` (the first 1 000), `count` of them. Linux only. A worker that exits
   * by itself ends its processes itself, and says so on its own stderr.
   */
  workerDescendantsKilled: (event: { readonly worker: WorkerHandle; readonly pids: readonly number[]; readonly count: number }) => void;
  /**
   * A worker dead of a signal (one the primary SIGKILLed, or one from elsewhere: it ran no
   * cleanup of its own) left processes running that lead a session of their own (a child started
   * with `detached: true`, one that ran `setsid`, a daemon): clusterkit takes them as meant to
   * outlive the worker and does not end them, but names them, each once in the primary's life:
   * the first 1 000 in `processes` (`{ pid, command }`, the command name as `ps` shows it),
   * `count` of them. Linux only. A worker that exits by itself names them on its own stderr.
   */
  workerDescendantsLeft: (event: { readonly worker: WorkerHandle; readonly processes: readonly { readonly pid: number; readonly command: string }[]; readonly count: number }) => void;
  /**
   * A ready worker became silent (`stats().isSilent`: nothing heard for `silentMs` ms, over two
   * heartbeat intervals, with a ping unanswered; its event loop is most likely blocked), as the
   * heartbeat found at its tick (every `heartbeat.intervalMs`). `roundRobin()`, sticky
   * sessions and, with round-robin scheduling, node:cluster's new connections pass it over
   * while another worker answers, until `workerSilenceEnd`. Once per silence: followed by `workerSilenceEnd` when it answers again, or by
   * `workerUnresponsive` when the heartbeat kills it at `heartbeat.timeoutMs`. `nearHeapLimit`
   * as `workerUnresponsive`'s (H394): its heap was near its limit at its last answer.
   */
  workerSilent: (event: { readonly worker: WorkerHandle; readonly silentMs: number; readonly nearHeapLimit?: HeapPressure }) => void;
  /** A worker reported by `workerSilent` answered a heartbeat ping again, after `silentMs` ms without a word. */
  workerSilenceEnd: (event: { readonly worker: WorkerHandle; readonly silentMs: number }) => void;
  /**
   * A worker's RSS stayed over `maxMemoryMb` for three heartbeats: it is replaced gracefully
   * (the replacement ready first), every time; the slot is never given up for memory. `inARow`:
   * the slot's memory replacements in a row, each within `restart.stableAfterMs` of its worker's
   * start, this one included (0: the worker ran stably first). From 3 on, the limit is below
   * what the worker needs or it leaks from the start, and the replacement starts after
   * `delayMs`, the restart policy's backoff (0 before).
   *
   * `action: 'restart'`: emitted a second time for the same worker, which grew by the limit once
   * more (its RSS at the first replacement plus `limitBytes`) while its replacement was not
   * ready (still starting, or failed): it is stopped without waiting (graceful stop, SIGKILL at
   * `shutdownTimeoutMs`) and its slot restarts in place by the crash rules, as PM2 does.
   */
  workerMemoryLimit: (event: MemoryLimitEvent) => void;
  /**
   * A stopping worker's `_destroy` did not finish within the worker's own deadline, `timeoutMs`
   * (the time `_destroy` had): the worker cut it short and exits with code 1. Its stop counts
   * as `failed`, not `graceful`. With `signal`: a plain script under `clusterkit run` that stops
   * through its own listeners of that signal had not exited `timeoutMs` after they ran. With
   * `elapsedMs`: `timeoutMs` is more than the time since the primary asked it to stop
   * (`elapsedMs`, by the primary's clock, when the notice came), by over a second: the worker's
   * figure, not taken as given (counted as an `out-of-range` protocol error too). The exit with
   * code 1 and the failed stop stand.
   *
   * `reservedMs`: the slice at the end of the worker's stop kept for `_destroy` (the drain and
   * the running handlers end that much sooner: a tenth of the worker's own stop, 100 ms to 1 s,
   * at most half). `_destroy` has at least that unless something held the stop: then
   * `shortenedBy` says what, when it had under half of it: `'init'` (the stop came while the
   * worker was starting, and waited for its `_init` past the drain's end), `'blocked'` (the
   * worker's event loop was held past it: synchronous code in a request handler, a message
   * handler, a 'shutdown' listener). `timeoutMs` is then not a time `_destroy` had to finish.
   *
   * `openRequests` (with `signal`): the requests still open at the worker's deadline, cut off
   * (`workerRequestsCut`, `reason: 'deadline'`, just before): most likely what the script's
   * listener was waiting for (`server.close()` waits for its open requests), not a listener that
   * never ends the process. `heldOutputBytes` (with `signal`): the bytes of its output its reader
   * had not taken at the deadline (a full pipe): a Node process waits for them before it ends, so
   * most likely what held it (H553).
   */
  workerDestroyTimeout: (event: {
    readonly worker: WorkerHandle;
    readonly timeoutMs: number;
    readonly signal?: 'SIGINT' | 'SIGTERM';
    readonly elapsedMs?: number;
    readonly reservedMs?: number;
    readonly shortenedBy?: 'init' | 'blocked';
    readonly openRequests?: number;
    readonly heldOutputBytes?: number;
  }) => void;
  /**
   * A worker that others take over (a reload, a scale-down) began its gradual drain
   * (`gradualDrainMs`): it releases its `connections` open HTTP connections one at a time over
   * `spreadMs` ms (the option, or half the time left before its stop deadline if shorter), then
   * stops. Emitted once per stop, and only when it tracks a server (`trackServer()`).
   */
  workerDrain: (event: { readonly worker: WorkerHandle; readonly connections: number; readonly spreadMs: number }) => void;
  /**
   * A worker cut off `openRequests` requests (HTTP requests in flight; a plain TCP server's
   * connections) of its tracked servers; `reason` says how. During a stop (`deadline`, `exit`,
   * `closed`) the stop counts as `failed` and `ShutdownReport.requestsCut` counts them.
   */
  workerRequestsCut: (event: WorkerRequestsCutEvent) => void;
  /**
   * A worker exited with `bytes` bytes of the output it wrote (stdout, stderr) still held in its
   * process, not yet taken by their reader, when its exit's wait for them ended (within its
   * stop's time, at least 1 000 ms): its exit dropped them, its last lines are lost. The reader
   * was slow or stopped (a full pipe, a paused terminal, a slow log shipper). Emitted once per
   * worker, before its `workerExit`; the default logger writes it as a warning (H540).
   */
  workerOutputLost: (event: { readonly worker: WorkerHandle; readonly bytes: number }) => void;
  /**
   * The worker sent messages that break clusterkit's protocol; they were dropped (counted in
   * `protocolErrors` of `stats()`). At most one event per worker per 10 s: `dropped` counts the
   * messages dropped since the previous one (`misnamed-series`: the samples and metrics left out), `error` describes the latest, and `problems` counts
   * them by problem (`{ 'malformed-frame': 4, 'malformed-record': 4 }`; they sum to `dropped`).
   */
  workerProtocolError: (event: { readonly worker: WorkerHandle; readonly error: ProtocolError; readonly dropped: number; readonly problems: Readonly<Partial<Record<ProtocolProblem, number>>> }) => void;
  /**
   * Reading the worker's IPC channel kept the primary busy `readMs` ms (1 000 or more): in one
   * read, or in `reads` costly reads (10 ms or more each) within 10 s. Messages under
   * `maxMessageBytes` but costly to parse (many small values), sent through `process.send()` or
   * clusterkit's messaging; nothing else ran in the primary meanwhile. `bytes` is about what the
   * largest read held of its message (for JSON, in UTF-16 units), `maxMessageBytes` the
   * primary's limit: lower it if workers may send such messages. At most one event per worker per
   * 10 s; `count` counts the times the worker reached 1 s since the previous one. The costly reads
   * under 1 s that follow an event (within 10 s) are told by the next one, which may hold only
   * those (`count` 0): the `readMs` of the events add up to the time read. The default logger
   * writes it as a warning.
   */
  workerSlowMessage: (event: {
    readonly worker: WorkerHandle;
    readonly readMs: number;
    readonly reads: number;
    readonly bytes: number;
    readonly count: number;
    readonly maxMessageBytes: number;
    /**
     * The types of the messages those reads carried, at most 8 (a reply: the type of the request
     * it answers). `$metrics` with only clusterkit's small notices (a `$ping` answer): the worker's answers to scrapes of its metrics registry
     * (`primary.metrics()`, `/metrics`), a large registry, not anything the script sent. Empty
     * when none was whole yet.
     */
    readonly types: readonly string[];
  }) => void;
  /**
   * `listenSticky()` closed connections unserved (`reason`): no ready worker serves sticky
   * connections, or the worker they were handed to could not serve them. At most one event per
   * listener (per worker for `worker-refused`) per 10 s; `count` counts the connections since
   * the previous one. The default logger writes it as a warning. See docs/sticky-sessions.md.
   */
  stickyRefused: (event: StickyRefusedEvent) => void;
  crashLoop: (event: CrashLoopEvent) => void;
  /**
   * Another worker serves a slot: its first worker, a restart (emitted just before its
   * `workerFork`), or a replacement (a reload's, a memory-limit one) taking over once ready.
   * Worker ids change at every restart; slots do not: follow a slot with this event.
   */
  slotChange: (event: SlotChangeEvent) => void;

  /**
   * The shutdown began: `signal` when a signal asked for it, and `requestedBy` what did (the
   * `shutting down` line says it). `starting`: workers not ready yet (a worker's `_init()`, or a
   * script's start, has not finished), which the shutdown waits for up to `timeoutMs`.
   */
  shutdown: (event: { readonly signal?: NodeJS.Signals; readonly timeoutMs: number; readonly requestedBy: ShutdownRequester; readonly starting: number }) => void;
  shutdownComplete: (event: ShutdownReport) => void;
  /** A SIGINT/SIGTERM during the shutdown forced it (`handleSignals`): the process exits right after. */
  shutdownForced: (event: ShutdownForcedEvent) => void;
  /**
   * A rolling reload began: `workers` to replace, and `requestedBy` what asked for it (the
   * `rolling reload started` line says it). `env`, for `reload({ env })` only (H336): the names
   * of the variables whose value the new env changes, adds or removes (`changed`, never their
   * values), and of those, the ones it adds (`added`) and removes (`removed`).
   */
  reload: (event: {
    readonly workers: number;
    readonly requestedBy: ReloadRequester;
    readonly env?: { readonly changed: readonly string[]; readonly added: readonly string[]; readonly removed: readonly string[] };
  }) => void;
  /**
   * The reload finished: `replaced` workers, and how the old ones stopped; `retired`, slots a
   * scale-down removed before their replacement took over, which are not replaced (H191). A shutdown that
   * begins before the last old worker stopped takes its stop over and reports it: the reload
   * then ends with `reloadFailed` (`ReloadError.isShutdown`) instead. `refilled`: the slots given
   * up in a crash loop that the reload started again (`crashLoopRefill`); only when there was one
   * (newcomer t76: a reload that brought a given-up cluster back said `replaced=0` and nothing
   * else). `refillsFailed`: of those, the ones that did not stay up the startup window (H517);
   * only when there was one. `vacant`: slots that had no
   * worker running at their turn (it exited during the reload, its restart still waiting out its
   * back-off, or a scale-up had not started it yet): started with the new code, not counted in
   * `replaced`; only when there was one (H574). `vacantCrashed`: of those, the slots whose worker
   * was running as the reload began, and crashed or was killed during it, not by it; with `vacant`.
   */
  reloadComplete: (event: ReloadReport) => void;
  reloadFailed: (event: { readonly error: Error }) => void;
  /**
   * A reload replaced its workers while slots the crash-loop breaker gave up on were missing
   * (their code crashed while it was broken): once its replacements stayed up the startup window,
   * they start again with the new code and a fresh crash-loop budget, as PM2 restarts its errored
   * processes on a reload (H259). `slots`: the numbers they had. Emitted before `reloadComplete`:
   * the reload ends once each of them was ready and stayed up the startup window, or failed
   * (H517; `reloadComplete`'s `refillsFailed` counts those). A slot that fails again gives up
   * again (`crashLoop`). When the reload replaced no worker (every slot had been given up) and
   * none of them stayed up, nothing serves: the reload fails (`reloadFailed`,
   * `ReloadError.isNothingServing`).
   */
  crashLoopRefill: (event: { readonly slots: readonly number[] }) => void;
  /**
   * `reload()` was called (SIGHUP, `clusterkit reload`, a call) while a reload was under way
   * (H374). `queued: false`: that reload still had slots whose replacement was not forked yet
   * (they load the code on disk now), so the call joined it and settles with it (its
   * `reloadComplete` or `reloadFailed`). `queued: true`: every replacement of that reload was
   * forked already (it waits out the startup window, or its last slot's replacement starts), or
   * it could not apply the call's `env`, so the call waits for one more reload, which starts when
   * that one ends (even if it failed) and settles with it; calls made meanwhile join that queued
   * one. A shutdown rejects a queued call with `ShutdownInProgressError`.
   */
  reloadJoined: (event: { readonly queued: boolean }) => void;
  /**
   * A reload forked every replacement, and now waits until they all have been ready the restart
   * policy's startup window (`restart.startupWindowMs`, H371) before it ends: `waitMs` at most
   * (a replacement that exits meanwhile fails the reload at once). Not emitted when the wait is
   * nil (`minReadyMs` already as long, the window already over).
   */
  reloadWaiting: (event: { readonly waitMs: number; readonly windowMs: number }) => void;
  /** `scale()` began: from the target `from` (given-up slots included, H284) to `to`; equal, it does nothing. */
  scale: (event: { readonly from: number; readonly to: number }) => void;
  /**
   * `scale()` finished: `from` workers to `to`. `stopped`: how the surplus workers of a
   * scale-down stopped, counted as in a shutdown (all empty for a scale-up); a worker whose stop
   * a shutdown took over (it began during the drain) is in `shutdownComplete` instead. Not
   * emitted when the call rejects (a scale-up whose workers could not start: their own lines say why).
   */
  /**
   * `supersededBy`: a scale-up whose new workers a later scale-down removed before they were
   * ready (its count, H201): that scale has the last word, and this one resolves without them.
   * `removedByStopWorker`: how many new workers of a scale-up `stopWorker()` stopped before they
   * were ready (H743), each removing its slot: the target is that much lower than `to`, and the
   * scale resolves once its other new workers are ready.
   */
  scaleComplete: (event: { readonly from: number; readonly to: number; readonly stopped: ShutdownReport; readonly supersededBy?: number; readonly removedByStopWorker?: number }) => void;
  /** A shared-store key changed (from the primary or a worker). */
  storeChange: (event: StoreChange) => void;
  /**
   * A worker's store write or watch was refused by the store's budget (`maxStoreBytes`,
   * `maxStoreKeys`, `maxStoreWatchesPerWorker`): the worker's call rejected with `error`. One event per refusal; the
   * default log line says the first, then at most one line a minute with the count since.
   */
  storeFull: (event: { readonly worker: WorkerHandle; readonly error: StoreFullError | StoreWatchLimitError }) => void;
  /**
   * A scrape (`primary.metrics()`, `/metrics`) left the workers' own metrics out of the
   * exposition (H523): `reason: 'no-prom-client'`, the primary could not load prom-client,
   * whose AggregatorRegistry merges them (a worker's `metricsRegistry` needs none in the worker,
   * but its series need it in the primary). `workers` answered with `series` series of
   * `metricCount` metrics, named in `metrics` (at most 100); `error`, the import's failure. Once
   * per primary, at the first such scrape; `clusterkit_worker_series_dropped_total` counts the
   * series left out at every scrape. The default logger writes a warning.
   */
  metricsDropped: (event: {
    readonly reason: 'no-prom-client';
    readonly workers: number;
    readonly series: number;
    readonly metrics: readonly string[];
    readonly metricCount: number;
    readonly error?: Error;
  }) => void;

  /** Failures that belong to no call: a throwing listener, a failed write... Unheard, it is thrown. */
  error: (error: Error) => void;
}

/** The event names, with the payload each carries. */
export type PrimaryEventPayload<ToPrimary, E extends keyof PrimaryEvents<ToPrimary>> = Parameters<PrimaryEvents<ToPrimary>[E]>[0];
