/**
 * `ClusterPrimary`: the primary process's object. Subclass it, override `_init`/`_destroy`, and
 * add `_onMessage_<type>` methods for the messages workers send.
 */
import type { AddressInfo } from 'node:net';
import { dirname } from 'node:path';
import { EventEmitter } from 'eventemitter3';
import { checkNoNotifyOptions } from '../messaging/notify-options.js';
import { InvalidArgumentError, InvalidOptionError, receivedClause, ShutdownInProgressError, WorkerExitedError } from '../errors.js';
import { assertUserType } from '../messaging/envelope.js';
import { routeUserMessage, type RoutedMessage } from '../messaging/route.js';
import { normalizeSendOptions, normalizeTimeoutOptions } from '../messaging/send-options.js';
import { safeEmitter } from '../safe-emit.js';
import type { AnyMessageMap, BroadcastResult, HandlerSlots, MessageMapOf, MessageType, PayloadArg, ReplyOf, SendOptions } from '../types.js';
import { knownOptions, kSafeIntegerRule, readingArgument, workerNameArgument } from '../validate.js';
import { ClusterMetrics, kDefaultScrapeTimeoutMs } from './features/cluster-metrics.js';
import { observeOutcomes, OutcomeCounts } from './features/outcome-counts.js';
import { listenHealth, type HealthListener, type HealthOptions } from './features/listen-health.js';
import { healthMinimumWarnings, trackHealthMinimum } from './features/health-minimum.js';
import { listenSticky, type StickyListener, type StickyOptions } from './features/listen-sticky.js';
import { registerRelay } from './features/relay.js';
import { serveStore } from './features/serve-store.js';
import type { SharedStore } from './features/shared-store.js';
import { collectStats, type WorkerStats } from './features/worker-stats.js';
import { collectFailing, collectGivenUp, type FailingSlotStats, type GivenUpSlotStats } from './features/given-up-stats.js';
import { registerLifecycle, type PrimaryState } from './lifecycle/primary-lifecycle.js';
import { broadcast } from './pool/broadcast.js';
import { pickWorker, resolveWorker } from './pool/resolve-worker.js';
import type { StopOutcome } from './pool/stop-worker.js';
import type { WorkerHandle } from './pool/worker-handle.js';
import type { WorkerRecord } from './pool/worker-record.js';
import { createPrimaryContext, type PrimaryContext } from './primary-context.js';
import type { PrimaryEvents, ReloadReport, ReloadRequester, ShutdownReport, ShutdownRequester, WorkerMessageEvent } from './primary-events.js';
import { createLineLogger, type Logger } from '../logger.js';
import { givenLogger, reportLoggerFailuresWith } from '../guarded-logger.js';
import { attachPrimaryLogging } from './primary-logging.js';
import { attachPrimaryHookLogging } from './primary-hook-logging.js';
import { checkWorkerScript } from './check-worker-script.js';
import { autoWorkerCount } from './pool/cpu-limit.js';
import { perCpuReason } from './worker-count-line.js';
import { normalizeForkOptions, normalizePrimaryInput, type ForkOptions, type NormalizedPrimaryOptions, type PrimaryOptions } from './primary-options.js';

import { openPrimaryControlSocket } from '../control/primary-control-socket.js';
import { takeRuntimeDirWarning } from '../control/runtime-dir.js';
import { workerEnvOption } from './worker-env-option.js';
import { checkNoExtraArguments, extraArgumentError } from '../extra-arguments.js';
import { loadOs } from '../builtins.js';

/** The values `shutdown()`'s `requestedBy` takes (H292). */
const kShutdownRequesters: ReadonlySet<unknown> = new Set<ShutdownRequester>(['signal', 'control', 'call', 'no-worker-left', 'failed-start', 'launcher']);
/** The values `reload()`'s `requestedBy` takes. */
const kReloadRequesters: ReadonlySet<unknown> = new Set<ReloadRequester>(['signal', 'control', 'watch', 'call', 'schedule']);

/**
 * Handler methods a primary may define for the messages of `ToPrimary`. `start()` checks them;
 * `implements PrimaryHandlers<ToPrimary>` reports a mismatch at the method itself.
 */
export type PrimaryHandlers<ToPrimary> = HandlerSlots<ToPrimary, WorkerHandle>;

/** `send(worker, type, payload?, options?)`: the payload may be left out when its type is void. */
export type SendArgs<M, K extends keyof M> = [...PayloadArg<M, K>, options?: SendOptions];

export class ClusterPrimary<
  ToWorker extends MessageMapOf<ToWorker> = AnyMessageMap,
  ToPrimary extends MessageMapOf<ToPrimary> = AnyMessageMap,
> extends EventEmitter<PrimaryEvents<ToPrimary>> {
  readonly #context: PrimaryContext;
  readonly #store: SharedStore;
  readonly #metrics: ClusterMetrics;
  /** Why `workerCount` came to its count, for `clusterkit show`. */
  readonly #countReason: string;
  /** The logger its lines go to; undefined for `logger: false`. */
  readonly #lines: Logger | undefined;
  /** `options`, as the user reads it: made at the first read. */
  #options: NormalizedPrimaryOptions | undefined;
  /** The health endpoint open (`listenHealth`), for `clusterkit show`. */
  #healthAddress: (AddressInfo & { readonly minReady: number; readonly role: string | undefined }) | undefined;

  /**
   * @throws InvalidOptionError naming the first invalid option.
   * @example new MyPrimary({ workerScript: new URL('./worker.js', import.meta.url), workerCount: 4 })
   */
  constructor(options?: PrimaryOptions) {
    super();
    // A subclass without a constructor of its own passes on every argument (retest t81).
    if (arguments.length > 1) checkNoExtraArguments(`new ${new.target === ClusterPrimary ? 'ClusterPrimary' : new.target.name}()`, arguments, ['options']);
    // Reloads, requests cut and connections reset are counted for /metrics whether or not the app listens (H375).
    const outcomes = new OutcomeCounts();
    const events = safeEmitter(this as unknown as EventEmitter, 'primary');
    const { options: normalized, askedWorkerCount: asked } = normalizePrimaryInput(options);
    const context = createPrimaryContext(normalized, observeOutcomes(events, outcomes), {
      init: () => this._init(),
      destroy: () => this._destroy(),
      onUserMessage: (record, type, payload, isRequest) => this.#onUserMessage(record, type, payload, isRequest),
    });
    this.#context = context;
    registerLifecycle(this, context.lifecycle);
    registerRelay(context);
    this.#store = serveStore(context);
    this.#metrics = new ClusterMetrics(context, this.#store, outcomes);
    // Lines say which service they are about, as under `clusterkit run` (`[api] ...`).
    const { logger, serviceName, maxWorkers } = context.options;
    // 'auto' and 'max' come to a count the caller did not write: said with why, as the runner does.
    const countReason = asked === undefined || asked === 'auto' || asked === 'max' ? perCpuReason(autoWorkerCount(), maxWorkers, asked === undefined ? '"auto", by default' : `"${asked}"`) : undefined;
    this.#countReason = countReason ?? 'the "workerCount" option';
    this.#lines = logger === false ? undefined : (logger ?? createLineLogger(serviceName === undefined ? undefined : { name: serviceName }));
    // The given logger's own failure (guarded as normalized, H727): on 'error', else a process warning, never to its lines.
    if (logger) reportLoggerFailuresWith(logger, (error) => events.reportUnlogged(error));
    if (this.#lines !== undefined) {
      const lines = this.#lines;
      attachPrimaryLogging(this as unknown as ClusterPrimary, lines, countReason);
      attachPrimaryHookLogging(this as unknown as ClusterPrimary, lines);
      // Warnings with no 'error' listener: a WARN line of its own log, not a process warning.
      events.sayWarningsWith(
        (error) => lines.warn({ err: error }, error.message),
        (message, code) => lines.warn({ code }, message),
      );
    }
  }

  /** The normalized options, frozen; `logger` is the object given (clusterkit writes through a guard of it). */
  get options(): NormalizedPrimaryOptions {
    // H727 left its internal guard here (retest: `options.logger !== myLogger`); the guard stays inside.
    this.#options ??= Object.freeze({ ...this.#context.options, logger: givenLogger(this.#context.options.logger) });
    return this.#options;
  }

  get state(): PrimaryState {
    return this.#context.lifecycle.state;
  }

  /** Live workers (starting, ready or stopping), in fork order. */
  get workers(): WorkerHandle[] {
    return [...this.#context.pool.records].map((record) => record.handle);
  }

  /**
   * The shared store, owned by the primary: workers read and change it with `worker.store`.
   * Changes from either side emit `storeChange`.
   */
  get store(): SharedStore {
    return this.#store;
  }

  /** The live worker with this cluster id, if any. */
  workerById(id: number): WorkerHandle | undefined {
    if (arguments.length > 1) checkNoExtraArguments('workerById()', arguments, ['id']);
    return this.#context.pool.record(id)?.handle;
  }

  /**
   * The live worker forked with this name (`fork({ name })`), if any; names survive restarts.
   * @throws InvalidArgumentError for a name no worker can have (not a string, empty, over 128
   *   characters, with a character `fork({ name })` refuses).
   */
  workerByName(name: string): WorkerHandle | undefined {
    if (arguments.length > 1) checkNoExtraArguments('workerByName()', arguments, ['name']);
    return this.#context.pool.recordByName(workerNameArgument(name, "workerByName()'s name"))?.handle;
  }

  /**
   * Runs `_init`, forks `workerCount` workers and resolves with them once all are ready (at
   * once, with none, for `workerCount: 0`).
   * Rejects (after stopping what it started) if `_init` throws or the workers cannot start.
   */
  start(this: ClusterPrimary<ToWorker, ToPrimary> & PrimaryHandlers<ToPrimary>): Promise<WorkerHandle[]> {
    const self = this as ClusterPrimary<ToWorker, ToPrimary>;
    const { options, lifecycle } = self.#context;
    try {
      checkNoExtraArguments('start()', arguments, []);
    } catch (error) {
      return Promise.reject(error);
    }
    if (lifecycle.state === 'created') {
      try {
        checkWorkerScript(options.workerScript, options.cwd);
      } catch (error) {
        return Promise.reject(error);
      }
    }
    const name = options.serviceName;
    if (name === undefined || lifecycle.state !== 'created') return lifecycle.start();
    // The socket first: a name already in use fails the start before anything is forked.
    const source = {
      script: options.workerScript,
      targetWorkers: () => self.targetWorkers,
      settings: () => ({ scriptArgs: options.workerArgs, countReason: self.#countReason, health: self.#healthAddress, envNames: Object.keys(self.#context.pool.env) }),
      exitsOnStop: options.handleSignals,
    };
    return openPrimaryControlSocket(self as unknown as ClusterPrimary, name, source).then((socket) => {
      // An XDG_RUNTIME_DIR that is ignored is said once, as `clusterkit run` says it (H393, H384).
      const warning = takeRuntimeDirWarning();
      if (warning !== undefined) self.#lines?.warn({ variable: 'XDG_RUNTIME_DIR', controlDirectory: dirname(socket.path) }, warning);
      return lifecycle.start().catch((error: unknown) => {
        socket.close();
        throw error;
      });
    });
  }

  /** Adds workers (new slots) and resolves with their handles once they are ready. */
  fork(options?: ForkOptions): Promise<WorkerHandle[]> {
    try {
      checkNoExtraArguments('fork()', arguments, ['options']);
      return this.#context.lifecycle.fork(normalizeForkOptions(options));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * The ready worker least recently picked under `tag` (a rotation: each tag rotates on its own,
   * `'default'` when left out). With `role` (a filter), only workers forked with that role
   * (`fork({ roles: [role] })`) are picked. A silent worker (`stats().isSilent`: its event loop
   * most likely blocked) is skipped while another eligible worker is not silent; when every
   * eligible worker is silent, one of them is picked as usual.
   * @throws NoWorkerAvailableError when no worker (with that role) is ready.
   * A new tag starts at the worker least recently started at, so tags that come and go (a tag
   * per request, more tags than the 1024 rotations kept) still spread over the workers.
   * @throws InvalidArgumentError for a `tag` that is not a string or is longer than 1024
   *   characters, a `role` no worker can have.
   * @example primary.roundRobin({ tag: 'uploads', role: 'io' })
   */
  roundRobin(options: { tag?: string; role?: string } = {}): WorkerHandle {
    if (arguments.length > 1) checkNoExtraArguments('roundRobin()', arguments, ['options']);
    return pickWorker(this.#context.pool, knownOptions(options, ['tag', 'role'], 'options')).handle;
  }

  /**
   * Sends a request to one worker; resolves with its `_onMessage_<type>` method's return value.
   * Rejects with MessageTimeoutError, RemoteError, NoHandlerError, WorkerExitedError (with
   * `queuedBehind` set, 0 for a worker that had exited or lost its channel: it did not run),
   * NotSerializableError, or ShutdownInProgressError after `shutdown()` (see docs/errors.md).
   */
  send<K extends MessageType<ToWorker>>(worker: WorkerHandle | number, type: K, ...args: SendArgs<ToWorker, K>): Promise<ReplyOf<ToWorker, K>> {
    try {
      if (args.length > 2) checkNoExtraArguments('send()', args, kSendArguments, 2);
      // Indexed, not destructured: V8 then elides the rest array on this hot path.
      const { timeoutMs, signal } = normalizeSendOptions(args[1] as SendOptions | undefined);
      return this.#target(worker, type).endpoint.request(type, args[0], timeoutMs, signal) as Promise<ReplyOf<ToWorker, K>>;
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * Sends a message to one worker without waiting for a reply.
   * @throws NotSerializableError, WorkerExitedError, NoWorkerAvailableError at once;
   *   ShutdownInProgressError after `shutdown()`, or to a worker that is stopping (a shutdown, a
   *   scale-down, a reload's old worker): it takes no new message, as `send()` is refused.
   * @throws InvalidArgumentError at once for an argument after the payload: a notification
   *   takes no options (no timeout, no signal: `send()` has them).
   */
  notify<K extends MessageType<ToWorker>>(worker: WorkerHandle | number, type: K, ...args: PayloadArg<ToWorker, K>): void {
    if (args.length > 1) checkNoNotifyOptions(args as unknown[]);
    this.#target(worker, type).endpoint.notify(type, args[0]);
  }

  /**
   * Sends a request to every ready worker; resolves with one settled result per worker (none
   * ready: `[]`). Rejects with ShutdownInProgressError once `shutdown()` has begun.
   */
  broadcast<K extends MessageType<ToWorker>>(type: K, ...args: SendArgs<ToWorker, K>): Promise<Array<BroadcastResult<WorkerHandle, ReplyOf<ToWorker, K>>>> {
    const [payload, options] = args as unknown as [unknown, SendOptions | undefined];
    const extra = args.length > 2 ? extraArgumentError('broadcast()', args, ['type', 'payload', 'options'], 1) : undefined;
    if (extra !== undefined) return Promise.reject(extra);
    // Not `[]`, a broadcast that "succeeded" to no worker (newcomer t64, retest t64 during the shutdown): refused as send() is.
    const state = this.#context.lifecycle.state;
    if (state === 'stopped') return Promise.reject(new ShutdownInProgressError(`The primary has shut down; "${String(type)}" was not broadcast, and nothing can be sent to its workers.`));
    if (state === 'stopping') return Promise.reject(new ShutdownInProgressError(`The primary is shutting down; "${String(type)}" was not broadcast: its workers are stopping and take no new messages.`));
    return broadcast(this.#context, type, payload, options) as Promise<Array<BroadcastResult<WorkerHandle, ReplyOf<ToWorker, K>>>>;
  }

  /**
   * Grows or shrinks the pool to `count` workers, every slot counted (those of `fork()`, named
   * or with roles, too): new slots are forked (resolving once they are ready); surplus workers,
   * the highest slot numbers first, stop gracefully. `scale(0)` stops them all, as
   * `workerCount: 0` starts none: the primary runs on, and `fork()` or `scale()` adds workers
   * again. Resolves with the worker of each slot the scale leaves, one per slot (at most
   * `count`): not a reload's old worker still draining, nor a replacement still starting beside
   * the worker it will take over from (H251, library t28 L8 and its retest).
   * @throws InvalidArgumentError (rejects) for a count that is not a non-negative integer;
   *   InvalidOptionError for one past `maxWorkers`.
   */
  async scale(count: number): Promise<WorkerHandle[]> {
    checkNoExtraArguments('scale()', arguments, ['count']);
    const target = scaleCount(count);
    await this.#context.lifecycle.scale(target);
    // Below an open health endpoint's minReady, /readyz stays 503: said at the call (H464).
    for (const warning of healthMinimumWarnings(this, target, 'scale')) this.#context.reportWarning(warning);
    // A slot whose restart waits out its back-off has no worker: none of it (retest t80: its dead worker's handle).
    return this.#context.pool.activeSlots().flatMap((slot) => (slot.current && slot.current.state !== 'exited' && slot.current.handle.state !== 'stopping' ? [slot.current.handle] : []));
  }

  /**
   * Accepts TCP connections in the primary and hands each to the worker chosen for the client's
   * address (workers feed them to a server with `serveSticky()`): one client, one worker, as
   * long as that worker lives. Only ready workers that called `serveSticky()` (and have
   * `role`, when given) take part; a connection none can take is closed and reported
   * (`stickyRefused`). Closed when shutdown begins.
   * @throws InvalidOptionError (rejects) for a bad option; ShutdownInProgressError once shutdown began.
   * @example const { address } = await primary.listenSticky({ port: 3000, role: 'web' })
   */
  listenSticky(options: StickyOptions): Promise<StickyListener> {
    const extra = arguments.length > 1 ? extraArgumentError('listenSticky()', arguments, ['options']) : undefined;
    if (extra !== undefined) return Promise.reject(extra);
    return listenSticky(this.#context, options);
  }

  /**
   * Serves `/healthz` (liveness), `/readyz` (at least `minReady` ready workers that answer the
   * heartbeat, silent ones not counted, and not shutting down; 503 from the moment shutdown begins) and `/metrics` over
   * HTTP, for Kubernetes probes and Prometheus. With `role`, `/readyz` counts only the workers
   * forked with that role. Keeps answering during shutdown; closed when it completes.
   * @throws InvalidOptionError (rejects) for a bad option; ShutdownInProgressError once the primary has shut down.
   * @example await primary.listenHealth({ port: 9090, minReady: 2, role: 'web' })
   */
  listenHealth(options: HealthOptions): Promise<HealthListener> {
    const extra = arguments.length > 1 ? extraArgumentError('listenHealth()', arguments, ['options']) : undefined;
    if (extra !== undefined) return Promise.reject(extra);
    // Its lines (answers refused or reset for clients that have not taken them, H607) go to the primary's logger.
    return listenHealth(this.#context, (timeoutMs) => this.#metrics.collect(timeoutMs), options, this.#lines).then((listener) => {
      // For `clusterkit show`: the endpoint last opened, until it closes.
      // Checked by the listen above: a safe integer >= 0 when given.
      const role = options.role as string | undefined;
      const shown = { ...listener.address, minReady: (options.minReady as number | undefined) ?? 1, role };
      this.#healthAddress = shown;
      // A scale below its minReady is said (H464); a role's endpoint counts the slots with its role (H623).
      // Checked by the listen above: an object by now (no argument at all was refused there, hostile t60).
      const withRole = () => this.#context.pool.activeSlots().filter((slot) => role !== undefined && slot.spec.roles.includes(role)).length;
      const minimum = { minReady: shown.minReady, port: listener.address.port, role, withRole };
      const untrack = trackHealthMinimum(this, minimum);
      const { state } = this.#context.lifecycle;
      const workers = state === 'created' ? this.#context.options.workerCount : this.#context.pool.targetCount;
      // This endpoint's alone: the others were told at their own opening (retest t63b: the first one's, twice).
      if (state !== 'stopping' && state !== 'stopped') for (const warning of healthMinimumWarnings(this, workers, 'start', minimum)) this.#context.reportWarning(warning);
      return {
        address: listener.address,
        close: (...extra: unknown[]) => {
          const refused = extraArgumentError('close()', extra, []);
          if (refused !== undefined) return Promise.reject(refused);
          untrack();
          if (this.#healthAddress === shown) this.#healthAddress = undefined;
          return listener.close();
        },
      };
    });
  }

  /**
   * Stops one worker gracefully (it finishes its work and runs `_destroy`), with no
   * replacement; SIGKILL at the timeout. A worker still booting (before its code started) is
   * ended with SIGTERM at once. Resolves with how it ended: `'graceful'` (cleanly, exit
   * code 0, or ended so while booting), `'failed'` (it exited on its own, but its `_destroy` missed the worker's own
   * deadline or threw, or it exited non-zero) or `'killed'`. A worker already stopped (by this
   * call, a shutdown...) resolves with that stop's word. A call while its stop is under way joins
   * that stop, whose timeout stands (a second `timeoutMs` does not lengthen or shorten it).
   * Its slot goes with it (the target drops by one), unless it is not its slot's worker: a
   * reload's replacement that has not taken over yet goes alone and the reload fails
   * (`ReloadError`); a worker already replaced is stopping, and the call joins that stop.
   * @throws (rejects) WorkerExitedError for a handle of a worker that exited with no stop
   *   asked (it crashed); NoWorkerAvailableError for an id no live worker has;
   *   InvalidArgumentError for anything that is neither a handle nor a worker id.
   */
  stopWorker(worker: WorkerHandle | number, options: { timeoutMs?: number } = {}): Promise<StopOutcome> {
    try {
      checkNoExtraArguments('stopWorker()', arguments, ['worker', 'options']);
      const { timeoutMs } = normalizeTimeoutOptions(options, this.#context.options.shutdownTimeoutMs);
      const record = resolveWorker(this.#context.pool, worker);
      // A worker that exited with no stop asked has nothing to stop: the same answer as send()
      // gives it (and an id of it gives NoWorkerAvailableError), not a 'failed' this stop never had.
      const nothingToStop = () =>
        new WorkerExitedError(record.exitDescription(), 'before stopWorker() was called: there was nothing to stop', {
          advice: 'Its exit was told on workerExit (and its restart, if any, on workerFork): stop the worker that took its slot, if that is what you meant.',
        });
      if (record.state === 'exited' && record.stopping === undefined) throw nothingToStop();
      // Its process exited already, the verdict on its exit waiting for its channel's end (at most
      // 2 s): the same answer once that verdict came, and its slot is not retired for it (H462).
      if (record.isProcessGone() && record.finishExit !== undefined && record.stopping === undefined) {
        return record.whenExited.promise.then(() => {
          // A shutdown's stop that found it gone meanwhile leaves it out too (hasExitedBeforeStop).
          if (record.stopping === undefined || record.hasExitedBeforeStop) throw nothingToStop();
          return record.stopping;
        });
      }
      // Its lines name this call's timeout, not the shutdown's, when it gave one (a stop already under way keeps its own).
      if (options.timeoutMs !== undefined && record.stopping === undefined) record.stopTimeoutSetBy = 'stopWorker()';
      return this.#context.lifecycle.stopWorker(record, timeoutMs);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * Graceful shutdown: no more restarts, every worker is asked to stop (finishing its work and
   * running `_destroy`), workers still alive at `timeoutMs` are killed, then the primary's own
   * `_destroy` runs. Calling it again returns the same promise. `requestedBy` says what asked
   * for it, on the `shutdown` event and the `shutting down` line: `'control'` (`clusterkit
   * stop`), `'no-worker-left'`; by default `'signal'` with a `signal`, else `'call'`.
   */
  shutdown(options: { timeoutMs?: number; signal?: NodeJS.Signals; requestedBy?: ShutdownRequester } = {}): Promise<ShutdownReport> {
    try {
      checkNoExtraArguments('shutdown()', arguments, ['options']);
      const { timeoutMs, signal, requestedBy } = normalizeTimeoutOptions(options, this.#context.options.shutdownTimeoutMs, ['timeoutMs', 'signal', 'requestedBy']);
      if (signal !== undefined && !isStopSignalName(signal)) {
        const meant = typeof signal === 'string' ? [signal.toUpperCase(), `SIG${signal.toUpperCase()}`].find(isStopSignalName) : undefined;
        throw new InvalidOptionError(
          'signal',
          `a signal name this system has that a process can catch, such as "SIGTERM" (the signal that asked for the shutdown, for logs and events)${meant === undefined ? '' : `; probably "${meant}"`}`,
          signal,
        );
      }
      if (requestedBy !== undefined && !kShutdownRequesters.has(requestedBy)) {
        throw new InvalidOptionError('requestedBy', `what asked for the shutdown, one of ${[...kShutdownRequesters].map((name) => `"${name}"`).join(', ')} (for logs and events)`, requestedBy);
      }
      return this.#context.lifecycle.shutdown(timeoutMs, signal as NodeJS.Signals | undefined, requestedBy as ShutdownRequester | undefined, options.timeoutMs !== undefined);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * Zero-downtime rolling reload: each worker in turn is replaced by a new one, which must be
   * ready (and listening, if the old one was) before the old one stops gracefully.
   * `requestedBy` says what asked for it, on the `reload` event and the `rolling reload started`
   * line: `'signal'` (SIGHUP), `'control'` (`clusterkit reload`), `'watch'` (a `--watch` change),
   * `'schedule'` (the `cronRestart` option), `'call'` (the default).
   * `env` (PM2's `--update-env`, H336): the workers' new `env` option, replacing the one given
   * to the constructor (or the last reload's) as a whole, checked as that one is. The new workers
   * start with it, and so does every worker forked while it runs (restarts, scale-ups); it is in
   * force once the reload completes. A reload that fails puts the env from before back for every
   * later fork (H340), and its `ReloadError` says how many workers already started with the new
   * one (they keep it until they are replaced). Without it, the workers keep the env they had.
   * A call while a reload is under way joins it while it still has slots to replace (and starts
   * its workers with the same env); else it is queued: one more reload starts when that one ends,
   * and settles the calls queued (H374; `reloadJoined`'s `queued`).
   * Slots given up in a crash loop start again once the replacements stayed up the startup
   * window, and the reload resolves once they stayed up it too, or failed (H517:
   * `crashLoopRefill`, `reloadComplete`'s `refillsFailed`).
   * Resolves with what it did (`ReloadReport`, as `reloadComplete` carries it): a call that joined
   * a reload under way, or was queued, gets that reload's report.
   * @throws ReloadError when a replacement fails; the remaining old workers keep serving. Also
   * when every slot had been given up and none of those started again stayed up
   * (`isNothingServing`: no worker serves).
   * @throws ReloadInProgressError when `env` differs from that of a reload queued already.
   * @throws ShutdownInProgressError when the primary shuts down (a queued call too: its reload never starts).
   * @throws InvalidOptionError for an unknown option, a `requestedBy` value or an `env` refused.
   */
  reload(options: { requestedBy?: ReloadRequester; env?: Record<string, string | undefined> } = {}): Promise<ReloadReport> {
    try {
      checkNoExtraArguments('reload()', arguments, ['options']);
      const { requestedBy, env } = knownOptions(options, ['requestedBy', 'env'], 'options');
      if (requestedBy !== undefined && !kReloadRequesters.has(requestedBy)) {
        throw new InvalidOptionError('requestedBy', `what asked for the reload, one of ${[...kReloadRequesters].map((name) => `"${name}"`).join(', ')} (for logs and events)`, requestedBy);
      }
      const workerEnv = env === undefined ? undefined : workerEnvOption(env, 'env');
      return this.#context.lifecycle.reload(requestedBy as ReloadRequester | undefined, workerEnv);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * A newer change of the watched files came while a reload asked for with `requestedBy:
   * 'watch'` runs (`clusterkit run --watch` calls it, H388): when that reload's replacement
   * forked before the change (before `changedAt`, the change's mtime, when given) is still
   * starting, it runs the code from before the change (or a file caught half written): it is
   * stopped at once and the reload ends superseded (`reloadFailed` with a `ReloadError` whose
   * `isSuperseded` is true; `clusterkit_reloads_total{outcome="superseded"}`). The slots it
   * replaced keep their new workers, the others their old ones; reload again for the change.
   * Returns whether it superseded the reload; false when no such reload runs, or none of its
   * replacements is starting (its change then waits for its end). Other reloads are never superseded.
   * @throws InvalidArgumentError for a `change` that is not `{ files: string[], changedAt?: number }`.
   */
  supersedeReload(change: { files: readonly string[]; changedAt?: number }): boolean {
    if (arguments.length > 1) checkNoExtraArguments('supersedeReload()', arguments, ['change']);
    const kShape = 'supersedeReload() needs the change as { files: string[], changedAt?: number } (the changed files, and when the change was written, ms since the epoch); nothing was superseded.';
    // Read once, inside one guard (hostile t84 #9's kind: a revoked Proxy, or a throwing getter, threw raw).
    const read = readingArgument('supersedeReload()', 'change', kShape, () => {
      if (typeof change !== 'object' || change === null) return undefined;
      const { files, changedAt } = change;
      return Array.isArray(files) ? { files: [...files] as unknown[], changedAt } : undefined;
    });
    const isChange = read !== undefined && read.files.every((file) => typeof file === 'string') && (read.changedAt === undefined || Number.isFinite(read.changedAt));
    if (!isChange) throw new InvalidArgumentError(`${kShape} ${receivedClause(change)}.`);
    return this.#context.lifecycle.supersedeReload({ files: read.files as string[], changedAt: read.changedAt });
  }

  /**
   * Per-worker figures: uptime, restarts, memory, event-loop delay, CPU, messages, pending
   * requests, and how fresh they are: `healthAgeMs` (age of the heartbeat figures), `silentMs`
   * (time since the worker was last heard from) and `isSilent` (unheard for over two heartbeat
   * intervals: a blocked event loop, its figures are stale).
   */
  stats(): WorkerStats[] {
    if (arguments.length > 0) checkNoExtraArguments('stats()', arguments, []);
    return collectStats(this.#context.pool, this.#context.options.heartbeat);
  }

  /**
   * The workers the cluster is meant to run: its slots, given-up ones included (status's
   * "workers 1/2", `clusterkit_workers_target`). `scale()` counts from it (H284). During a
   * shutdown, the target it had; 0 once stopped.
   */
  get targetWorkers(): number {
    return this.#context.pool.targetCount;
  }

  /**
   * The slots the crash-loop breaker gave up on (`crashLoop`), as PM2 lists an `errored`
   * process: since when, their counts, and how their last worker ended. They have no worker, so
   * no `stats()` row; a reload that succeeds starts them again, a scale-down drops them first.
   */
  givenUpSlots(): GivenUpSlotStats[] {
    if (arguments.length > 0) checkNoExtraArguments('givenUpSlots()', arguments, []);
    return collectGivenUp(this.#context.pool);
  }

  /**
   * The slots failing in a crash loop, not given up (yet): each worker of theirs exited since
   * their last ready one (H396). `restarting` ones wait out their backoff with no worker (no
   * `stats()` row): how many exits in a row, how the last one ended, and when the restart is due.
   */
  failingSlots(): FailingSlotStats[] {
    if (arguments.length > 0) checkNoExtraArguments('failingSlots()', arguments, []);
    return collectFailing(this.#context.pool);
  }

  /**
   * The cluster's metrics in the Prometheus text format: the workers' prom-client registries
   * merged (prom-client is an optional peer dependency), then clusterkit's own per-worker
   * figures. A worker that does not answer within `timeoutMs` is left out and counted in
   * `clusterkit_worker_scrape_errors_total`: the scrape never fails as a whole. A call while a
   * collection runs (another call's, a `/metrics` scrape's) gets that collection's exposition,
   * with its `timeoutMs`: the workers build their pages once for them all.
   */
  metrics(options: { timeoutMs?: number } = {}): Promise<string> {
    try {
      checkNoExtraArguments('metrics()', arguments, ['options']);
      return this.#metrics.collect(normalizeTimeoutOptions(options, kDefaultScrapeTimeoutMs).timeoutMs);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** Opens the primary's resources. Runs in `start()` before any worker is forked. */
  protected async _init(): Promise<void> {}

  /** Closes the primary's resources. Runs in `shutdown()` after every worker has exited. */
  protected async _destroy(): Promise<void> {}

  #target(worker: WorkerHandle | number, type: string): WorkerRecord {
    assertUserType(type);
    // The primary's own end first: after shutdown() every worker has exited, and "worker 1 exited
    // with code 1" alone did not say why (lib t58), nor did "No live worker with id 1 ... It may
    // have exited" for an id (newcomer t64).
    if (this.#context.lifecycle.state === 'stopped') throw new ShutdownInProgressError(`The primary has shut down; "${type}" was not sent, and nothing can be sent to its workers.`);
    const record = resolveWorker(this.#context.pool, worker);
    // Never written: `queuedBehind` (0: nothing ahead of it) tells the caller it did not run, as
    // errors.md has it; the message said "before it was sent" while the field said "sent, may
    // have run" (lib t58).
    if (record.state === 'exited') throw record.notSentError(type);
    return record;
  }

  #onUserMessage(record: WorkerRecord, type: string, payload: unknown, isRequest: boolean): unknown {
    const emit =
      this.listenerCount('workerMessage') === 0
        ? undefined
        : (message: RoutedMessage) => this.#context.emit('workerMessage', Object.assign(message, { worker: record.handle }) as WorkerMessageEvent<AnyMessageMap>);
    return routeUserMessage(this, record.handle, type, payload, isRequest, emit);
  }
}

/** What `send()` takes, for its refusal of more (H716). */
const kSendArguments = ['worker', 'type', 'payload', 'options'];

/**
 * A signal that can have asked for a shutdown: a name this system has (hostile t79: "SIGFOO" was
 * taken, and said as the shutdown's cause), and not SIGKILL or SIGSTOP, which no process can
 * catch (retest t80).
 */
function isStopSignalName(signal: unknown): boolean {
  return typeof signal === 'string' && /^SIG[A-Z0-9]{1,16}$/.test(signal) && signal !== 'SIGKILL' && signal !== 'SIGSTOP' && Object.hasOwn(loadOs().constants.signals, signal);
}

/**
 * `scale(count)`'s argument: a worker count from 0 (H356: `workerCount: 0` starts none, so
 * `scale(0)` stops them all; before, refused as if it were an option, "The "count" option must
 * be a positive integer"). Past `maxWorkers`, the lifecycle refuses it (InvalidOptionError).
 */
function scaleCount(count: unknown): number {
  if (typeof count !== 'number' || !Number.isSafeInteger(count) || count < 0) {
    throw new InvalidArgumentError(
      `scale(count)'s count must be a non-negative integer ${kSafeIntegerRule}: the number of workers to run, every slot counted (0 stops them all). ${receivedClause(count)}.`,
    );
  }
  return count;
}

