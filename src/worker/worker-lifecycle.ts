/**
 * The worker's lifecycle: start (connect, `_init`, ready), and every way it stops: asked by
 * the primary (`$shutdown`), the primary gone (channel closed), or a signal reaching the worker
 * alone. Each stop drains the tracked servers (what is still open at its deadline is cut off
 * and reported), waits for in-flight handlers, runs `_destroy` within its deadline, and exits
 * once queued messages are written; a plain script under `clusterkit run` with its own signal
 * listeners stops through them instead (script-cleanup.ts).
 */
import { notSentWords } from './not-sent-words.js';
import cluster from 'node:cluster';
import type { Server } from 'node:net';
import { deferred } from '../deferred.js';
import { isWorkerDestroyHook } from '../destroy-hook.js';
import { timerDelay } from '../duration.js';
import { ChannelCorruptError, HookTimeoutError, InvalidStateError, NotAWorkerError, PrimaryDisconnectedError } from '../errors.js';
import { bulkPort, openWorkerBulkEnd } from '../messaging/bulk-channel.js';
import { isClusterKitMessage } from '../messaging/envelope.js';
import { serializeError } from '../messaging/serialize-error.js';
import {
  boundInitError,
  isNoPayload,
  isShutdownPayload,
  kArmWatchdogNotice,
  kDestroyFailedNotice,
  kDrainNotice,
  kBulkNotice,
  kCrashNotice,
  kExitingNotice,
  kHandlersCutNotice,
  kMaxCutHandlerTypes,
  kHelloNotice,
  kInitErrorNotice,
  kOpenRequestsNotice,
  kOwnCloseNotice,
  kOutputLostNotice,
  kPingRequest,
  kReadyNotice,
  kRequestsCutNotice,
  kServedNotice,
  kShutdownRequest,
  kStickyNotice,
  kStickyRefusedNotice,
  kStoppedNotice,
  kStoppingNotice,
  kStopSignalNotice,
  kSyncRequest,
  kHangupRequest,
  isHangupReply,
  type HangupReply,
  type DestroyShortenedBy,
} from '../messaging/system-types.js';
import { destroyGraceMs, destroyReserveMs, stopMarginMs } from '../stop-margin.js';
import { toError } from '../to-error.js';
import { settleWithin } from '../wait.js';
import { kPrimaryPidEnv, kShutdownTimeoutEnv, kWatchdogEnv } from '../worker-env.js';
import { channelEndOf, shutdownTimeoutOf, tellOrphaned, tellOrphanStopped } from './orphan-stop.js';
import { onOwnDisconnect, ownDisconnect, watchOwnDisconnect } from './own-disconnect.js';
import { heldOutputBytes, outputWritten } from '../output-written.js';
import { primaryLiveness } from './primary-liveness.js';
import { wholeMs } from '../whole-ms.js';
import { ignoreWorkerSignals } from './worker-signals.js';
import { HealthProbe } from './health-probe.js';
import { reportCrashes } from './crash-report.js';
import { runScriptCleanup, scriptCleanupSignal } from './script-cleanup.js';
import { startOrphanWatchdog, type OrphanWatchdog } from './orphan-watchdog.js';
import { endDescendants, kDescendantsGraceMs } from './end-descendants.js';
import { endDescendantsAtExit } from './descendants-at-exit.js';
import { fillClosedStdio, memoryUsage } from './memory-usage.js';
import { TrackedServers } from './tracked-servers.js';
import type { WorkerContext } from './worker-context.js';
import type { StopReason } from './worker-events.js';

export type WorkerLifecycleState = 'created' | 'starting' | 'ready' | 'stopping' | 'stopped';

/** What the lifecycle takes from the worker's context. */
export type LifecycleContext = Pick<WorkerContext, 'options' | 'endpoint' | 'system' | 'emit' | 'reportError'>;

/** The facade's overridable hooks, and where socket handles sent by the primary go. */
export interface WorkerLifecycleHooks {
  init(): Promise<void>;
  destroy(): Promise<void>;
  /** The worker has a `_destroy` of its own (a subclass's): a stop keeps the last slice of its time for it. */
  hasDestroy(): boolean;
  /** What its `_destroy` runs, as lines name it: `onWorkerShutdown` under the service runner, else `_destroy` (H694). */
  destroyHook(): string;
  /** An IPC message from the primary that carries a handle (a sticky connection's socket). */
  acceptHandle(message: object, handle: unknown): void;
}

/** Time a signalled worker waits for the primary's instruction before stopping on its own. */
const kSignalGraceMs = 1_000;
/** Longest wait for queued messages to be written before the process exits. */
const kExitFlushMs = 1_000;
/** How long a worker waits for the primary's answer about a SIGHUP (it waits up to 0.5 s for its own), in ms. */
const kHangupAnswerMs = 3_000;

/** Least time a worker's own processes get between SIGTERM and SIGKILL at its exit, however late the stop. */
const kMinDescendantsGraceMs = 100;
/** How often the orphan watchdog checks the parent pid. */
const kWatchdogPollMs = 100;

/** When a stop was asked, and how far past its deadline `_destroy` may run for its slice (`#runStop`). */
interface StopTiming {
  /** Release the servers' connections over this time (tracked-server.ts); 0: all at once. */
  readonly spreadMs?: number;
  /** When the stop was asked: the primary's `sentAt` (or the receipt); the stop's start otherwise. */
  readonly askedAt?: number;
  /** How far past the deadline `_destroy` may run to have its whole slice (stop-margin.ts `destroyGraceMs`). */
  readonly graceMs?: number;
}

/** What held a stop before its drain began, when the drain had under half its time (H360). */
type DrainHeld = { heldMs: number; shortenedBy: DestroyShortenedBy };

/** The part of a stop kept for `_destroy` (`#runDestroy`). */
interface DestroySlice {
  /** Milliseconds at the end of the stop kept for `_destroy` (stop-margin.ts). */
  readonly reserveMs: number;
  /** How far past the deadline `_destroy` may run to have them all, when the stop's own work made it begin late. */
  readonly graceMs: number;
  /** When the drain and the wait for handlers had to end: the deadline less `reserveMs`. */
  readonly drainDeadline: number;
  /** When `_init` ended, for a stop that came while the worker was starting (it waits for it). */
  readonly initEndedAt: number | undefined;
}

/** What `$destroyFailed` says of a `_destroy` cut short (`DestroyFailedPayload`). */
type DestroyTimedOut = { timeoutMs: number; reservedMs: number; shortenedBy?: DestroyShortenedBy };

/**
 * When the primary asked for a stop the worker read at `receivedAt`: the request's `sentAt` when
 * it is plausible (not after the receipt, nor more than the stop's time before it, as a clock
 * stepped meanwhile would make it), the receipt otherwise (an older primary sends none).
 */
function askedAtOf(sentAt: unknown, receivedAt: number, timeoutMs: number): number {
  return typeof sentAt === 'number' && Number.isFinite(sentAt) && sentAt <= receivedAt && receivedAt - sentAt <= timeoutMs ? sentAt : receivedAt;
}

/**
 * What held a stop asked at `askedAt` before its drain began at `startedAt`, when that left the
 * drain under half of its time (to `drainDeadline`): the event loop (`blocked`: held as the stop
 * came, or by the 'shutdown' listeners, which ended at `listenedAt`), or the wait for `_init`
 * after them (`init`), whichever took longer (H360).
 */
function drainHeld(askedAt: number, listenedAt: number, startedAt: number, drainDeadline: number): DrainHeld | undefined {
  const heldMs = startedAt - askedAt;
  if (!(heldMs > (drainDeadline - askedAt) / 2)) return undefined;
  return { heldMs, shortenedBy: startedAt - listenedAt > listenedAt - askedAt ? 'init' : 'blocked' };
}

/** The worker started in this process, if any: there is one per process. */
let activeWorker: object | undefined;
export class WorkerLifecycle {
  readonly #context: LifecycleContext;
  readonly #hooks: WorkerLifecycleHooks;
  #state: WorkerLifecycleState = 'created';
  /** Resolves when `_init` completed; user messages that arrive earlier wait for it. */
  readonly #initialized = deferred<void>();
  /** Set once a stop began; every later stop request shares it. */
  #stopping: Promise<number> | undefined;
  /** Armed by a SIGINT/SIGTERM while running; cleared when the stop begins. */
  #signalTimer: NodeJS.Timeout | undefined;
  readonly #probe = new HealthProbe();
  /** The primary's pid, read at start(): the watchdog compares the current parent with it. */
  #primaryPid = 0;
  #isWatchdogStarted = false;
  #watchdog: OrphanWatchdog | undefined;
  /** The stop, or the orphan's exit, has begun: the watchdog leaves a loop held by it the grace (H205). */
  #isCleanupBegun = false;
  readonly #servers = new TrackedServers(
    () => this.markServed(),
    (openRequests) => this.#tellOpen(openRequests),
  );
  /** Set once `$served` was sent: once per worker life. */
  #hasServed = false;
  /** Set by the first `serveSticky()`; `$sticky` goes then, or right after `$hello` if that was before `start()`. */
  #isSticky = false;
  /** Real SIGINT/SIGTERM this process received: a plain script's listeners have run for those already. */
  readonly #signalsReceived = new Set<NodeJS.Signals>();
  /**
   * Set when the primary asked this worker to stop (`$shutdown`): from then on the stop's
   * notices go to it (it waits for this stop), also for a stop that began on a signal.
   */
  #isAskedToStop = false;
  /** Set once `$stopSignal` was sent: once per worker life. */
  #hasToldStopSignal = false;
  /** Set once `$stopped` was sent: once per stop. */
  #hasToldStopped = false;
  /** When a stop the primary asked for must have exited by (before its SIGKILL); undefined outside one. */
  #exitBy: number | undefined;
  /** Set when the primary is gone: with `orphanWatchdog: false` the worker's processes are left alone. */
  #isOrphaned = false;
  /**
   * The cluster's `shutdownTimeoutMs`, handed down at fork: how long this worker may take to stop
   * once its primary is gone; `destroyTimeoutMs` without it (H397). Read at start().
   */
  #shutdownTimeoutMs: number | undefined;
  /** Requests cut off by this worker's stop, as told (or not) to the primary: an orphan's last line says them. */
  #requestsCut = 0;
  /** The deadline (ms after its stop began) at which its stop cut them, as its `$requestsCut` said; undefined for a cut at an exit. */
  #requestsCutAtMs: number | undefined;
  /** `$ownClose` was written: the primary reads this worker's exit code 0 as a drain that cut nothing (H536). */
  #hasToldOwnClose = false;
  /**
   * Why its stop did not finish cleanly, in a few words, for an orphan's last line: the lines
   * that said it went to a stderr its dead primary no longer reads (H447).
   */
  #stopFailure: string | undefined;

  constructor(context: LifecycleContext, hooks: WorkerLifecycleHooks) {
    this.#context = context;
    this.#hooks = hooks;
    const { system } = context;
    system.register(kPingRequest, {
      kind: 'request',
      check: isNoPayload,
      // The open requests go with each answer: what the primary reports lost if this worker dies.
      handle: () => (this.#servers.size > 0 ? { ...this.#probe.report(), ...this.#openCounts() } : this.#probe.report()),
    });
    system.register(kShutdownRequest, { kind: 'request', check: isShutdownPayload, handle: ({ timeoutMs, spreadMs, sentAt }) => this.#stopForPrimary(timeoutMs, spreadMs, sentAt) });
    system.register(kArmWatchdogNotice, { kind: 'notification', check: isNoPayload, handle: () => this.#startWatchdog() });
  }

  get state(): WorkerLifecycleState {
    return this.#state;
  }

  /** Resolves once `_init` completed. */
  get initialized(): Promise<void> {
    return this.#initialized.promise;
  }

  /** Connects to the primary, runs `_init`, reports ready; exits 1 if `_init` throws. */
  async start(worker: object): Promise<void> {
    if (this.#state !== 'created') throw new InvalidStateError(`start() can be called once; this worker is ${this.#state}.`);
    const clusterWorker = cluster.worker;
    if (!cluster.isWorker || !clusterWorker || typeof process.send !== 'function') throw new NotAWorkerError();
    // Every worker a ClusterPrimary forks is told its pid (spawn-worker.ts); a process a worker
    // started inherits the variable, so its parent must be that pid too (a primary nested in a worker).
    if (process.env[kPrimaryPidEnv] !== String(process.ppid)) throw new NotAWorkerError('other');
    if (activeWorker) throw new InvalidStateError('Only one ClusterWorker can run in a process, and one already started.');
    activeWorker = worker;
    this.#state = 'starting';
    this.#primaryPid = process.ppid;
    const { endpoint, emit, options } = this.#context;
    this.#shutdownTimeoutMs = shutdownTimeoutOf(process.env[kShutdownTimeoutEnv]);
    // Code that ran before (a module that closed its stdout at import) may have left 0 to 2 free:
    // the descriptors opened below (the bulk pipe, the watchdog thread's event loop) would take them.
    fillClosedStdio();
    if (process.env[kWatchdogEnv] === 'early') this.#startWatchdog();
    this.#listen();
    endpoint.notify(kHelloNotice, undefined);
    this.#openBulk();
    // Ahead of `$ready` on the channel: a worker that serves sticky from `_init` gets
    // connections as soon as the primary reads it is ready, not later.
    if (this.#isSticky) endpoint.notify(kStickyNotice, undefined);
    // Before any code of the worker's runs: a close it makes itself is not its primary's death (H516).
    watchOwnDisconnect();
    // Said before the close, while the channel is open: the exit code of its drain then tells the
    // primary what the drain cut (H536). Not for kill(): the process exits with the close.
    onOwnDisconnect((by) => {
      // Also in a stop the primary asked for (a SIGTERM listener's `server.close(); process.disconnect()`):
      // the stop's `$stopped` cannot follow the close, and its exit code says how it ended.
      if (by !== 'process.disconnect()' && by !== 'cluster.worker.disconnect()') return;
      this.#hasToldOwnClose = true;
      // With what is open now: the primary's count if it dies before its drain could say more.
      this.#tellPrimary(kOwnCloseNotice, this.#servers.size > 0 ? this.#openCounts() : undefined);
      this.#context.endpoint.flushNow();
      // An exit of the worker's code with requests open cut them: exit code 0 would tell the
      // primary nothing was. Set here, not at the 'disconnect' event: a `process.exit(0)` in the
      // same tick as the close never lets that event come (newcomer tester t56).
      process.once('exit', (code) => {
        if (!code && this.#servers.size > 0 && this.#servers.pendingRequests > 0) process.exitCode = 1;
      });
    });
    clusterWorker.on('disconnect', () => this.#onPrimaryDisconnect());
    // What it dies of, if it dies of an uncaught error: the primary's crash line and crash-loop error say it.
    // With the requests open then: a crash soon after traffic began is not told with its last heartbeat's count.
    reportCrashes((crash) => this.#tellPrimary(kCrashNotice, this.#servers.size > 0 ? { ...crash, ...this.#openCounts() } : crash));
    process.once('exit', () => this.#tellExiting());
    process.once('exit', () => this.#endDescendants());
    if (options.handleSignals) {
      process.on('SIGINT', this.#onSignal);
      process.on('SIGTERM', this.#onSignal);
      ignoreWorkerSignals(() => this.#askHangup());
    }
    emit('initialize', {});
    try {
      await this.#hooks.init();
    } catch (error) {
      await this.#failInit(error);
      return;
    }
    emit('initializeComplete', {});
    // A stop that began while `_init` ran (a signal, the primary's stop, or H217's end of a
    // script's import at a stop) leaves it not ready: no `$ready`, or the primary announces a
    // worker that is on its way out, and a reload stops the old one for it (hostile t29 M1, H273).
    const isStopBegun = this.#state !== 'starting';
    if (!isStopBegun) this.#state = 'ready';
    this.#initialized.resolve();
    if (isStopBegun) return;
    const { rss, heapUsed, heapTotal } = memoryUsage();
    endpoint.notify(kReadyNotice, { pid: process.pid, memory: { rss, heapUsed, heapTotal } });
  }

  /**
   * The worker served (a request or connection on a tracked server, a user request message):
   * tells the primary once per life (`$served`), so a crash after it is not taken for a failed
   * start. Costs a boolean test after the first call.
   */
  markServed(): void {
    // Before start() there is no channel yet: the first request after it is the one to say.
    if (this.#hasServed || this.#state === 'created') return;
    this.#hasServed = true;
    this.#tellPrimary(kServedNotice, undefined);
    // Written now, before the handler runs: a handler that aborts the process (SIGKILL, abort(),
    // a native crash) in this tick would take an end-of-tick flush with it, and its death would
    // count as a failed start. Once per worker life, so the write costs nothing per request.
    this.#context.endpoint.flushNow();
  }

  /**
   * `serveSticky()` was called: tells the primary once per life (`$sticky`), so `listenSticky()`
   * hands this worker connections; before `start()` there is no channel yet, start() tells it.
   */
  markSticky(): void {
    if (this.#isSticky) return;
    this.#isSticky = true;
    if (this.#state !== 'created') this.#tellPrimary(kStickyNotice, undefined);
  }

  /** A sticky connection reached this worker and it could not serve it (it closed it): the primary hands it no more. */
  refuseSticky(): void {
    this.#tellPrimary(kStickyRefusedNotice, undefined);
  }

  /** Drains `server` when the worker stops. */
  trackServer(server: Server): void {
    this.#servers.add(server);
  }

  #listen(): void {
    const { endpoint } = this.#context;
    process.on('message', (message: unknown, handle: unknown) => {
      if (!isClusterKitMessage(message)) return;
      if (handle === undefined) endpoint.receive(message);
      else this.#hooks.acceptHandle(message, handle);
    });
  }

  /**
   * The bulk pipe (messaging/bulk-channel.ts), when the primary gave this worker one: read from
   * now on, written once the primary has read `$bulk` (it reads the pipe from the start).
   */
  #openBulk(): void {
    const end = openWorkerBulkEnd();
    if (end === undefined) return;
    const { endpoint } = this.#context;
    let hasFailed = false;
    // Frames already on the IPC channel name bytes that will never come, so nothing after them
    // can be read (EBADF: user code closed the descriptor; EPIPE or a close: a process given it
    // shut it down). Say so and go, rather than leave the primary to take the wedged channel for
    // a blocked event loop.
    const fail = (detail: string) => {
      if (hasFailed || !process.connected || this.#state === 'stopped') return;
      hasFailed = true;
      this.#context.reportError(new ChannelCorruptError('this worker', 'bulk-failed', Number.POSITIVE_INFINITY, undefined, { detail: detail.slice(0, 200) }));
      void this.#exit(1);
    };
    // EPIPE, ECONNRESET and a close also come as the primary goes, a moment before the IPC
    // channel's disconnect, which is what the worker acts on then: a second later it has come,
    // or the primary still listens and only the bulk pipe broke.
    const failSoon = (detail: string) => setTimeout(() => fail(detail), 1_000).unref();
    end.on('error', (error: NodeJS.ErrnoException) => {
      const detail = `${error.code ?? error.name}: ${error.message}`;
      if (error.code === 'EPIPE' || error.code === 'ECONNRESET') failSoon(detail);
      else fail(detail);
    });
    end.once('close', () => failSoon('the pipe closed'));
    endpoint.readBulk();
    end.on('data', (chunk: Buffer) => endpoint.receiveBulk(chunk));
    endpoint.setBulk(bulkPort(end));
    endpoint.notify(kBulkNotice, undefined);
  }

  async #stopForPrimary(timeoutMs: number, spreadMs = 0, sentAt?: unknown): Promise<void> {
    // A second request during a gradual drain is the primary's shutdown: hand no more clients
    // over one by one (nobody takes them over), release them all now. The first stop goes on.
    if (this.#stopping && spreadMs === 0) this.#servers.releaseAll();
    // The worker's own deadline comes before the primary's SIGKILL, by a quarter of the time
    // (at most 2 s: the request's delivery, late timers on a busy machine and the exit come out
    // of it): a `_destroy` that overruns is cut short here, reported ($destroyFailed) and the
    // worker exits 1, so the primary can tell a hung hook from a hung process. The last slice of
    // it is `_destroy`'s own (#runStop), so the SIGKILL never comes while `_destroy` has time left.
    // Counted from when the primary sent the request, whose SIGKILL comes `timeoutMs` after that:
    // an event loop held as the stop came read it late, and a deadline counted from the receipt
    // came after the SIGKILL, and its lines said the stop began when it was read (H360).
    const askedAt = askedAtOf(sentAt, Date.now(), timeoutMs);
    const margin = stopMarginMs(timeoutMs);
    const deadline = askedAt + timeoutMs - margin;
    this.#isAskedToStop = true;
    // A stop that began on a signal and already ended: it has not said so to the primary yet.
    if (this.#state === 'stopped') this.#tellStopped();
    const exitCode = await this.#stop('primary', deadline, { spreadMs, askedAt, graceMs: destroyGraceMs(timeoutMs) });
    // The reply to $shutdown is queued once this handler returns; exit after it is written. A
    // flooded channel may take longer than the usual bound to write `$stopped`, without which
    // the stop reads as failed: it may take until half the margin before the primary's SIGKILL.
    this.#exitBy = askedAt + timeoutMs - margin / 2;
    const flushMs = Math.max(kExitFlushMs, this.#exitBy - Date.now());
    setImmediate(() => void this.#exit(exitCode, flushMs));
  }

  /** `$stopped`: the stop the primary asked for ran to its end; the process exits next. */
  #tellStopped(): void {
    if (this.#hasToldStopped || !this.#isAskedToStop) return;
    this.#hasToldStopped = true;
    this.#tellPrimary(kStoppedNotice, undefined);
  }

  /** Drains, waits for in-flight handlers, runs `_destroy`; resolves with the exit code to use. */
  #stop(reason: StopReason, deadline: number, timing: StopTiming = {}): Promise<number> {
    this.#stopping ??= this.#runStop(reason, deadline, timing);
    return this.#stopping;
  }

  async #runStop(reason: StopReason, deadline: number, { spreadMs = 0, askedAt = Date.now(), graceMs }: StopTiming): Promise<number> {
    // The last slice of the stop is kept for `_destroy` (stop-margin.ts): the drain and the wait
    // for running handlers end that much before the deadline. They had it all before, and one
    // request that outlasted the stop left `_destroy` 1 ms: a pool never closed, a buffer never
    // flushed, and a line that blamed `_destroy` for it (H350). A worker without a `_destroy` of
    // its own (a plain script under `clusterkit run`) gives its requests the whole stop.
    // A tenth of the whole stop, from when it was asked: a stop read late keeps the same slice,
    // and what the late read took comes out of the drain (H360).
    const reserveMs = this.#hooks.hasDestroy() ? destroyReserveMs(deadline - askedAt) : 0;
    const drainDeadline = deadline - reserveMs;
    this.#beginCleanup();
    const wasStarting = this.#state === 'starting';
    this.#state = 'stopping';
    clearTimeout(this.#signalTimer);
    // Stop notices go to a primary that asked for this stop, and so waits for it (stop-notices.ts):
    // also one that asks while a stop begun on a signal runs.
    const tell = (type: string, payload: unknown) => {
      if (type === kRequestsCutNotice) {
        const { openRequests, timeoutMs } = payload as { openRequests: number; timeoutMs?: number };
        this.#requestsCut += openRequests;
        if (timeoutMs !== undefined) this.#requestsCutAtMs = timeoutMs;
      }
      if (this.#isAskedToStop) this.#tellPrimary(type, payload);
    };
    // What is open now, written before any code of the user's runs: a worker that kills itself
    // in a 'shutdown' listener (SIGKILL, abort()) is counted with these, not with the requests
    // of its last heartbeat answer (0 if they came since). The drain's reports update it.
    if (this.#servers.size > 0) {
      tell(kStoppingNotice, { openRequests: this.#servers.pendingRequests });
      this.#context.endpoint.flushNow();
    }
    // Code in the worker may end the process before this stop does: a `process.exit(0)` in a
    // 'shutdown' listener (at once or later, while `_init` still runs too) or in `_destroy` (a
    // library's own cleanup). Exit code 0 would then read as a clean stop while its open
    // requests were reset: said from the 'exit' event (whose messages are written
    // synchronously), and exit code 0 made 1 (another code stays). Set before 'shutdown' is
    // emitted; a plain script's cleanup has its own (script-cleanup.ts).
    let isScriptCleanup = false;
    process.once('exit', (code) => {
      if (this.#state === 'stopped' || isScriptCleanup) return;
      const cut = this.#servers.cutByWorker(this.#servers.openRequests);
      if (cut) tell(kRequestsCutNotice, cut);
      if (!code) process.exitCode = 1;
    });
    // Code in the worker may also close its clients' connections mid-response (a 'shutdown'
    // listener's `server.closeAllConnections()`): counted from here on, told as cut off below.
    this.#servers.countClosedResponses();
    this.#context.emit('shutdown', { reason, deadlineMs: deadline });
    // Its synchronous listeners ran: a loop they held, as one held when the stop came, is what
    // left the drain no time, not the timeout, and the cut's line says so (retest t36 N5, H360).
    const listenedAt = Date.now();
    if (wasStarting) await this.#initialized.promise;
    const startedAt = Date.now();
    const held = drainHeld(askedAt, listenedAt, startedAt, drainDeadline);
    const signal = scriptCleanupSignal(this.#onSignal);
    if (signal) {
      isScriptCleanup = true;
      const isDelivered = this.#signalsReceived.has(signal);
      // As below: in a shutdown, keep-alive clients are told to go once the cluster stopped accepting.
      const beforeRelease = reason === 'primary' && spreadMs === 0 ? () => this.#syncWithPrimary(Date.now() + (deadline - Date.now()) / 4) : undefined;
      const code = await runScriptCleanup({ signal, isDelivered, startedAt, deadline, servers: this.#servers, tell, isStopped: () => this.#state === 'stopped', spreadMs, beforeRelease });
      if (code !== 0) this.#stopFailure = `its own ${signal} listener had not ended the process by its deadline (${wholeMs(Math.max(0, deadline - startedAt))} ms)`;
      this.#finishStop();
      this.#tellStopped();
      return code;
    }
    // Released all at once (nobody may take the clients over: a shutdown), the keep-alive
    // clients wait for the primary's word that every worker stopped accepting (stop-notices.ts):
    // a client told to go earlier reconnects into a cluster still listening, and Node's cluster
    // closes that connection unanswered when its last worker leaves. At most a quarter of the time.
    const beforeRelease = reason === 'primary' && spreadMs === 0 ? () => this.#syncWithPrimary(Date.now() + (drainDeadline - Date.now()) / 4) : undefined;
    // A gradual drain says, in its first `$drain`, how many connections it releases and over
    // what time: the primary logs it, so a reload that takes that long says why.
    let drainStart = spreadMs > 0 ? this.#servers.gradualDrain(drainDeadline, spreadMs) : undefined;
    const report = (openRequests: number) => {
      tell(kDrainNotice, drainStart ? { openRequests, ...drainStart } : { openRequests });
      drainStart = undefined;
    };
    const cut = await this.#servers.drain(drainDeadline, report, spreadMs, beforeRelease);
    // Requests cut off at the deadline make the stop unclean: said to the primary, and exit 1.
    // So do responses that code in the worker ended unfinished by closing their connections
    // (the drain ends once every connection closed: none can come after it).
    const closed = this.#servers.closedResponses;
    if (cut > 0) tell(kRequestsCutNotice, { openRequests: cut + closed, timeoutMs: Math.max(0, drainDeadline - askedAt), ...held });
    else if (closed > 0) tell(kRequestsCutNotice, { openRequests: closed, closedByWorker: true });
    if (this.#servers.size > 0) await this.#syncWithPrimary(drainDeadline);
    const handlersCut = await this.#waitForHandlers(drainDeadline, askedAt, held, tell);
    // What the drain last reported is written before `_destroy`, whose code may end the process.
    this.#context.endpoint.flushNow();
    const slice = { reserveMs, graceMs: graceMs ?? destroyGraceMs(deadline - askedAt), drainDeadline, initEndedAt: wasStarting ? startedAt : undefined };
    const error = await this.#runDestroy(deadline, tell, slice);
    this.#stopFailure = error
      ? `_destroy: ${oneLine(error.message)}`
      : handlersCut
        ? 'message handlers were still running at its deadline'
        : closed > 0
          ? `its own code closed ${closed} response${closed === 1 ? '' : 's'} unfinished`
          : undefined;
    this.#finishStop();
    this.#tellStopped();
    return error || cut > 0 || closed > 0 || handlersCut ? 1 : 0;
  }

  /**
   * Waits for the message handlers still running, until the deadline. Those still running then
   * are abandoned as requests are cut off: their requesters get no reply, so the primary is told
   * how many and of which types (`$handlersCut`) and the worker exits 1. It exited 0 before, its
   * stop `graceful`, with nothing said (H229). Returns whether any was abandoned.
   */
  async #waitForHandlers(deadline: number, askedAt: number, held: DrainHeld | undefined, tell: (type: string, payload: unknown) => void): Promise<boolean> {
    const { endpoint } = this.#context;
    if (await settleWithin(endpoint.idle().then(() => true), deadline - Date.now())) return false;
    const { count, types } = endpoint.runningHandlers();
    if (count === 0) return false;
    tell(kHandlersCutNotice, { handlers: count, types: types.slice(0, kMaxCutHandlerTypes), timeoutMs: Math.max(0, deadline - askedAt), ...held });
    return true;
  }

  #finishStop(): void {
    this.#probe.stop();
    this.#servers.stopReporting();
    this.#state = 'stopped';
  }

  /**
   * Runs `_destroy` until the stop's deadline: the time left, which is at least the slice kept
   * for it (`reserveMs`) unless something held the stop past its drain's deadline; when the
   * stop's own work after the drain (cutting connections, the round trip with the primary, a
   * late timer) made it begin a little late, it still has the whole slice, running that much
   * past the deadline, at most `graceMs` (H360: it had 217 of its 225 ms). A `_destroy`
   * cut short is told with the time it had, the slice kept for it, and, when it had under half of
   * that, what used it up (`shortenedBy`): the stop waited for `_init` to end (`initEndedAt`,
   * after the drain's deadline), or the event loop was held (H350). It runs however little time
   * is left: a cleanup that needs none (a synchronous flush) still gets done.
   */
  async #runDestroy(deadline: number, tell: (type: string, payload: unknown) => void, slice: DestroySlice): Promise<Error | undefined> {
    const { emit } = this.#context;
    emit('destroy', {});
    let failure: Error | undefined;
    let timedOut: DestroyTimedOut | undefined;
    const hook = this.#hooks.destroyHook();
    try {
      const beganAt = Date.now();
      const endsAt = Math.max(deadline, Math.min(beganAt + slice.reserveMs, deadline + slice.graceMs));
      const budget = Math.max(1, endsAt - beganAt);
      const finished = await settleWithin(this.#hooks.destroy().then(() => true), budget);
      if (!finished) {
        failure = new HookTimeoutError(hook, budget);
        const { reserveMs, drainDeadline, initEndedAt } = slice;
        const shortenedBy = budget < reserveMs / 2 ? (initEndedAt !== undefined && initEndedAt > drainDeadline ? 'init' : 'blocked') : undefined;
        timedOut = { timeoutMs: budget, reservedMs: reserveMs, ...(shortenedBy ? { shortenedBy } : {}) };
      }
    } catch (error) {
      failure = toError(error, `${hook}() threw`);
    }
    emit('destroyComplete', failure ? { error: failure } : {});
    const named = isWorkerDestroyHook(hook) ? { hook } : {};
    if (failure) tell(kDestroyFailedNotice, { ...(timedOut ?? { error: this.#context.endpoint.fitError(serializeError(failure)) }), ...named });
    return failure;
  }

  /** A round trip behind the servers' close: see `kSyncRequest` (connections handed over late). */
  async #syncWithPrimary(deadline: number): Promise<void> {
    const { endpoint } = this.#context;
    if (!endpoint.channel.isConnected) return;
    await endpoint.request(kSyncRequest, undefined, Math.max(1, deadline - Date.now())).catch(() => {});
  }

  /**
   * `$exiting`: the requests open as the process exits outside a stop the primary asked for
   * (a `process.exit()`, a crash): the primary's count is otherwise its last heartbeat's, up to
   * a second old. Written synchronously, from 'exit' (exit-flush.ts). A stop says what it cut
   * its own way (`$requestsCut`).
   */
  #tellExiting(): void {
    if (this.#isAskedToStop || this.#servers.size === 0) return;
    this.#tellPrimary(kExitingNotice, this.#openCounts());
  }

  /**
   * What a death now would cut on the tracked servers: the requests open, and the idle
   * connections it would reset with them (a request already sent on one is lost too, unseen):
   * the primary's crash line says both (H228).
   */
  #openCounts(): { openRequests: number; idleConnections: number } {
    return { openRequests: this.#servers.pendingRequests, idleConnections: this.#servers.idleConnections };
  }

  /**
   * At the exit: the worker's own processes go with it (descendants-at-exit.ts). Their grace
   * comes out of the stop's time: what is left before the primary's SIGKILL (which lists them
   * first and ends them after: kill-worker.ts), at most `kDescendantsGraceMs`, so a stop takes
   * no longer than its timeout; a crash waits for them at most that second.
   */
  #endDescendants(): void {
    if (this.#isOrphaned && !this.#context.options.orphanWatchdog) return;
    const left = this.#exitBy === undefined ? kDescendantsGraceMs : this.#exitBy - Date.now();
    endDescendantsAtExit(Math.max(kMinDescendantsGraceMs, Math.min(kDescendantsGraceMs, left)));
  }

  /**
   * `$openRequests`, written now, not at the end of the tick: the request that changed the count
   * may block the event loop for good in its handler, right after this (tracked-servers.ts).
   */
  #tellOpen(openRequests: number): void {
    if (this.#state === 'created' || this.#state === 'stopped') return;
    this.#tellPrimary(kOpenRequestsNotice, { openRequests, idleConnections: this.#servers.idleConnections });
    this.#context.endpoint.flushNow();
  }

  /** A notice to the primary that may be lost: the channel can be gone (the primary died). */
  #tellPrimary(type: string, payload: unknown): void {
    try {
      this.#context.endpoint.notify(type, payload);
    } catch {
      // No primary to tell.
    }
  }


  async #failInit(error: unknown): Promise<void> {
    this.#context.emit('initializeError', { error: toError(error, '_init() threw') });
    try {
      const { endpoint } = this.#context;
      endpoint.notify(kInitErrorNotice, endpoint.fitError(boundInitError(serializeError(error))));
    } catch {
      // The channel is gone; the primary sees the exit instead.
    }
    await this.#exit(1);
  }

  /** Exits once queued messages and the output (stdout, stderr) are written, or `flushMs` passed. */
  async #exit(code: number, flushMs = kExitFlushMs): Promise<never> {
    const until = Date.now() + flushMs;
    await settleWithin(this.#context.endpoint.drain(), flushMs);
    // The lines the worker wrote last (a burst in its stop) go out too, within the same bound (t56),
    // and in a stop the primary asked for never past the exit due before its SIGKILL (`#exitBy`):
    // a reader that takes nothing (a full pipe) made a stop that ran to its deadline wait out the
    // 1 s floor into the kill, read "killed at the shutdown timeout" (H540).
    const outputBy = this.#exitBy === undefined ? until : Math.min(until, this.#exitBy);
    await settleWithin(outputWritten(), Math.max(0, outputBy - Date.now()));
    // What is still held is dropped by the exit: said, not lost silently while its stop reads graceful.
    const held = heldOutputBytes();
    if (held > 0) {
      this.#tellPrimary(kOutputLostNotice, { bytes: held });
      this.#context.endpoint.flushNow();
    }
    process.exit(code);
  }

  /**
   * The channel closed: the primary is gone, or code closed it (the worker's, or the primary's,
   * which then runs on: H516). Either way no stop can be asked any more: run `_destroy`,
   * bounded, and exit.
   */
  #onPrimaryDisconnect(): void {
    if (this.#state === 'stopped') return;
    // Read first: a dying primary's state changes from one moment to the next.
    const end = channelEndOf(ownDisconnect(), primaryLiveness(this.#primaryPid));
    // Node's own listener exits the process right after this event unless the disconnect was
    // planned; claim it as planned so _destroy gets its bounded chance first.
    if (cluster.worker) cluster.worker.exitedAfterDisconnect = true;
    this.#isOrphaned = true;
    // Before the listeners of primaryDisconnect, which may hold the loop with work of their own.
    this.#beginCleanup();
    const { endpoint, emit, options } = this.#context;
    // A request sent after this, or still queued, was never written: not "before it replied" (newcomer t64).
    endpoint.close((type, queuedBehind, isAfterClose, isNotice) =>
      new PrimaryDisconnectedError(notSentWords(type, isAfterClose === true || queuedBehind !== undefined, isNotice)),
    );
    // The cluster's shutdown timeout, as a stop the primary asked for would have: before, the
    // worker's destroyTimeoutMs (1.5 s), which cut requests the cluster gives 10 s (H397).
    const timeoutMs = this.#shutdownTimeoutMs ?? options.destroyTimeoutMs;
    const orphanedAt = Date.now();
    const deadline = orphanedAt + timeoutMs;
    // Said on the worker's own stderr (and in `clusterkit run`'s log files, whose writer is gone):
    // the primary's lines about its workers died with it (orphan-stop.ts).
    const wasStopping = this.#stopping !== undefined;
    tellOrphaned({ end, primaryPid: this.#primaryPid, openRequests: this.#servers.size > 0 ? this.#servers.pendingRequests : undefined, timeoutMs, isDefault: this.#shutdownTimeoutMs === undefined, wasStopping });
    emit('primaryDisconnect', {});
    // An orphan's own children would be orphans too, and nobody is left to stop them: told to
    // go (SIGTERM) once `_destroy` had its chance to stop them its own way, killed if still
    // there a second later (end-descendants.ts).
    let isExiting = false;
    let hasToldStopped = false;
    // `code`: the stop's exit code; none when the timer below ended a stop still running.
    const tellStopped = (code?: number, isOwnExit = false) => {
      if (hasToldStopped) return;
      hasToldStopped = true;
      // A stop begun before the close cut at its own deadline, not at the orphan's time (final retest t57 N2).
      const cutAtMs = wasStopping ? this.#requestsCutAtMs : undefined;
      tellOrphanStopped({ elapsedMs: Date.now() - orphanedAt, timeoutMs: cutAtMs ?? timeoutMs, requestsCut: this.#requestsCut, isOverrun: code === undefined, failed: code !== undefined && code !== 0, failure: this.#stopFailure, isOwnExit });
    };
    // After `$ownClose`, the primary reads this exit: 0 only when the stop ended in time and cut no
    // request (H536). Otherwise (the primary gone, or not told) nobody counts by it: 0, as before.
    const exitCode = (code?: number) => (!this.#hasToldOwnClose || (code === 0 && this.#requestsCut === 0) ? 0 : 1);
    const exit = (code?: number) => {
      if (isExiting) return;
      isExiting = true;
      tellStopped(code);
      if (!options.orphanWatchdog) process.exit(exitCode(code));
      void endDescendants(process.pid).then(() => process.exit(exitCode(code)));
    };
    setTimeout(() => exit(), timerDelay(timeoutMs + 250)).unref();
    this.#stop('primary-disconnected', deadline).then((code) => exit(code), () => exit(1));
    // A script that stops through its own signal listener ends the process itself (script-cleanup.ts).
    process.once('exit', (code) => tellStopped(code, !isExiting));
  }

  /** SIGINT/SIGTERM: wait for the primary's instruction; stop on our own if none comes. */
  readonly #onSignal = (signal: NodeJS.Signals): void => {
    // Delivered to the script only if it listened then: a SIGTERM that comes while the script is
    // still being imported (a stop ending a booting worker, end-unstarted.ts) reached no
    // listener of its, and its cleanup must still run its listener once it has one.
    if (process.listeners(signal).some((listener) => listener !== this.#onSignal)) this.#signalsReceived.add(signal);
    if (this.#state !== 'ready' && this.#state !== 'starting') return;
    if (this.#signalTimer) return;
    this.#tellStopSignal(signal);
    this.#signalTimer = setTimeout(() => {
      this.#stop('signal', Date.now() + this.#context.options.destroyTimeoutMs).then((code) => this.#exit(code));
    }, kSignalGraceMs);
    this.#signalTimer.unref();
  };

  /**
   * `$stopSignal`, written now: the primary did not send this signal by a stop of its own, and
   * the exit with code 0 that follows would read as unexplained (H273, H275). Not for a stop the
   * primary asked for (it knows), once per life.
   */
  #tellStopSignal(signal: NodeJS.Signals): void {
    if (this.#isAskedToStop || this.#hasToldStopSignal || (signal !== 'SIGINT' && signal !== 'SIGTERM')) return;
    this.#hasToldStopSignal = true;
    this.#tellPrimary(kStopSignalNotice, { signal });
    this.#context.endpoint.flushNow();
  }

  /** What the primary did with a SIGHUP of its own near this worker's (H291). */
  #askHangup(): Promise<HangupReply> {
    const { system, endpoint } = this.#context;
    return system.request('primary', endpoint, kHangupRequest, undefined, isHangupReply, kHangupAnswerMs);
  }

  #startWatchdog(): void {
    const { options } = this.#context;
    if (!options.orphanWatchdog || this.#isWatchdogStarted || this.#state === 'stopped') return;
    this.#isWatchdogStarted = true;
    // Code that ran before (a module that closed its stdout at import) may have left 0 to 2
    // free: the thread's event loop would take them, and libuv aborts closing one (retest t58: a
    // reload's workers died of SIGABRT at shutdown).
    fillClosedStdio();
    // A responsive orphan's own exit takes its stop (the cluster's shutdown timeout, H397) and its processes' grace (end-descendants.ts).
    this.#watchdog = startOrphanWatchdog({ parentPid: this.#primaryPid, pollMs: kWatchdogPollMs, graceMs: (this.#shutdownTimeoutMs ?? options.destroyTimeoutMs) + 100 + kDescendantsGraceMs });
    if (this.#isCleanupBegun) this.#watchdog.cleanupBegun();
  }

  #beginCleanup(): void {
    this.#isCleanupBegun = true;
    this.#watchdog?.cleanupBegun();
  }
}

/** An error's message on one line, at most 200 characters: it ends a log line. */
function oneLine(message: string): string {
  const flat = message.replace(/\s+/g, ' ').trim();
  return flat.length > 200 ? `${flat.slice(0, 199)}…` : flat;
}
