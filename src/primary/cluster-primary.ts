/**
 * `ClusterPrimary`: the primary process's object. Subclass it, override `_init`/`_destroy`, and
 * add `_onMessage_<type>` methods for the messages workers send.
 */
import { EventEmitter } from 'eventemitter3';
import { safeEmitter, type SafeEmitter } from '../safe-emit.js';
import {
  describeValue,
  InvalidArgumentError,
  NoWorkerAvailableError,
  ShutdownInProgressError,
  WorkerExitedError,
} from '../errors.js';
import { checkUserType, isSystemType } from '../messaging/envelope.js';
import { checkPayload } from '../messaging/payload-check.js';
import { routeUserMessage, type RoutedMessage } from '../messaging/route.js';
import type {
  AnyMessageMap,
  BroadcastResult,
  HandlerSlots,
  MessageMapOf,
  MessageType,
  PayloadArg,
  ReplyOf,
  SendOptions,
} from '../types.js';
import { integerOption } from '../validate.js';
import { normalizeForkOptions, type ForkOptions } from './fork-options.js';
import { registerPrimaryInternals } from './primary-internals.js';
import { registerRelay } from './relay.js';
import type { SharedStore } from './shared-store.js';
import { createSharedStore } from './store-service.js';
import { listenSticky, type StickyListener, type StickyOptions } from './sticky-balancer.js';
import { ClusterMetrics, kDefaultScrapeTimeoutMs } from './cluster-metrics.js';
import { listenHealth, type HealthListener, type HealthOptions } from './health-server.js';
import { PrimaryControl, type PrimaryState } from './primary-control.js';
import type { PrimaryEvents, ShutdownReport, WorkerMessageEvent } from './primary-events.js';
import { attachPrimaryLogging } from './primary-logging.js';
import { normalizePrimaryOptions, type NormalizedPrimaryOptions, type PrimaryOptions } from './primary-options.js';
import { SystemRouter } from './primary-system.js';
import { collectStats, type WorkerStats } from './worker-stats.js';
import { recordOf, type WorkerHandle } from './worker-handle.js';
import { WorkerPool } from './worker-pool.js';
import type { WorkerRecord } from './worker-record.js';
import { normalizeSendOptions, normalizeTimeout } from '../messaging/send-options.js';

/**
 * Handler methods a primary may define for the messages of `ToPrimary`. `start()` checks them;
 * `implements PrimaryHandlers<ToPrimary>` reports a mismatch at the method itself.
 */
export type PrimaryHandlers<ToPrimary> = HandlerSlots<ToPrimary, WorkerHandle>;

/** `send(worker, type, payload?, options?)`: the payload may be left out when its type is void. */
export type SendArgs<M, K extends keyof M> = [...PayloadArg<M, K>, options?: SendOptions];

type UntypedEvents = PrimaryEvents<AnyMessageMap>;

export class ClusterPrimary<
  ToWorker extends MessageMapOf<ToWorker> = AnyMessageMap,
  ToPrimary extends MessageMapOf<ToPrimary> = AnyMessageMap,
> extends EventEmitter<PrimaryEvents<ToPrimary>> {
  readonly #options: NormalizedPrimaryOptions;
  readonly #pool: WorkerPool;
  readonly #control: PrimaryControl;
  readonly #system: SystemRouter;
  readonly #store: SharedStore;
  readonly #metrics: ClusterMetrics;
  readonly #events: SafeEmitter = safeEmitter(this as unknown as EventEmitter);

  /**
   * @throws InvalidOptionError naming the first invalid option.
   * @example new MyPrimary({ workerScript: new URL('./worker.js', import.meta.url), workerCount: 4 })
   */
  constructor(options?: PrimaryOptions) {
    super();
    this.#options = normalizePrimaryOptions(options);
    this.#pool = new WorkerPool({
      options: this.#options,
      emit: (event, payload) => this.#emit(event, payload),
      onInbound: (record, type, payload, isRequest) => this.#onInbound(record, type, payload, isRequest),
      reportError: (error) => this.#reportError(error),
    });
    this.#system = new SystemRouter(this.#pool, (event, payload) => this.#emit(event, payload));
    this.#control = new PrimaryControl({
      pool: this.#pool,
      options: this.#options,
      emit: (event, payload) => this.#emit(event, payload),
      reportError: (error) => this.#reportError(error),
      init: () => this._init(),
      destroy: () => this._destroy(),
    });
    registerRelay({ pool: this.#pool, system: this.#system });
    this.#metrics = new ClusterMetrics({ pool: this.#pool });
    this.#store = createSharedStore({ options: this.#options, system: this.#system, emit: (event, payload) => this.#emit(event, payload) });
    registerPrimaryInternals(this, {
      options: this.#options,
      pool: this.#pool,
      system: this.#system,
      control: this.#control,
      emit: (event, payload) => this.#emit(event, payload),
      reportError: (error) => this.#reportError(error),
    });
    if (this.#options.logger !== false) attachPrimaryLogging(this as unknown as ClusterPrimary, this.#options.logger);
  }

  /** The normalized options, frozen. */
  get options(): NormalizedPrimaryOptions {
    return this.#options;
  }

  get state(): PrimaryState {
    return this.#control.state;
  }

  /** Live workers (starting, ready or stopping), in fork order. */
  get workers(): WorkerHandle[] {
    return [...this.#pool.records].map((record) => record.handle);
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
    return this.#pool.record(id)?.handle;
  }

  /** The live worker forked with this name (`fork({ name })`), if any; names survive restarts. */
  workerByName(name: string): WorkerHandle | undefined {
    return this.#pool.recordByName(name)?.handle;
  }

  /**
   * Runs `_init`, forks `workerCount` workers and resolves with them once all are ready.
   * Rejects (after stopping what it started) if `_init` throws or the workers cannot start.
   */
  start(this: ClusterPrimary<ToWorker, ToPrimary> & PrimaryHandlers<ToPrimary>): Promise<WorkerHandle[]> {
    return (this as ClusterPrimary<ToWorker, ToPrimary>).#control.start();
  }

  /** Adds workers (new slots) and resolves with their handles once they are ready. */
  fork(options?: ForkOptions): Promise<WorkerHandle[]> {
    try {
      const fork = normalizeForkOptions(options);
      return this.#control.fork(fork);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * The ready worker least recently picked under `tag`; each tag rotates on its own. With
   * `role`, only workers forked with that tag are picked.
   * @throws NoWorkerAvailableError when no worker (with that role) is ready.
   */
  roundRobin(options: { tag?: string; role?: string } = {}): WorkerHandle {
    const tag = options.tag ?? 'default';
    if (typeof tag !== 'string') throw new InvalidArgumentError(`The "tag" must be a string. Received ${typeof tag}`);
    const record = this.#pool.rotation.pick(tag, options.role);
    if (!record) {
      const which = options.role === undefined ? 'ready worker' : `ready worker tagged "${options.role}"`;
      throw new NoWorkerAvailableError(
        `No ${which} to pick (${this.#pool.size} live worker(s)). Wait for "workerReady", or check that start() succeeded.`,
      );
    }
    return record.handle;
  }

  /**
   * Sends a request to one worker; resolves with its `_onMessage_<type>` method's return value.
   * Rejects with MessageTimeoutError, RemoteError, NoHandlerError, WorkerExitedError or
   * NotSerializableError (see docs/errors.md).
   */
  send<K extends MessageType<ToWorker>>(worker: WorkerHandle | number, type: K, ...args: SendArgs<ToWorker, K>): Promise<ReplyOf<ToWorker, K>> {
    try {
      // Indexed, not destructured: V8 then elides the rest array on this hot path.
      const { timeoutMs, signal } = normalizeSendOptions(args[1] as SendOptions | undefined);
      return this.#target(worker, type).endpoint.request(type, args[0], timeoutMs, signal) as Promise<ReplyOf<ToWorker, K>>;
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * Sends a message to one worker without waiting for a reply.
   * @throws NotSerializableError, WorkerExitedError, NoWorkerAvailableError at once.
   */
  notify<K extends MessageType<ToWorker>>(worker: WorkerHandle | number, type: K, ...args: PayloadArg<ToWorker, K>): void {
    this.#target(worker, type).endpoint.notify(type, args[0]);
  }

  /** Sends a request to every ready worker; resolves with one settled result per worker. */
  broadcast<K extends MessageType<ToWorker>>(type: K, ...args: SendArgs<ToWorker, K>): Promise<Array<BroadcastResult<WorkerHandle, ReplyOf<ToWorker, K>>>> {
    try {
      const [payload, options] = args as unknown as [unknown, SendOptions | undefined];
      const { timeoutMs, signal } = normalizeSendOptions(options);
      checkUserTypeOrThrow(type);
      checkPayload(payload, this.#options.serialization, this.#options.maxMessageBytes, type);
      const targets = [...this.#pool.records].filter((record) => record.state === 'ready');
      return Promise.all(
        targets.map((record) =>
          record.endpoint.request(type, payload, timeoutMs, signal).then(
            (value) => ({ status: 'fulfilled' as const, worker: record.handle, value: value as ReplyOf<ToWorker, K> }),
            (reason: Error) => ({ status: 'rejected' as const, worker: record.handle, reason }),
          ),
        ),
      );
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * Grows or shrinks the pool to `count` workers: new slots are forked (resolving once they are
   * ready); surplus workers, the most recently added first, stop gracefully. Resolves with the
   * live workers.
   */
  async scale(count: number): Promise<WorkerHandle[]> {
    await this.#control.scale(integerOption(count, 'count', 1));
    return this.workers;
  }

  /**
   * Accepts TCP connections in the primary and hands each to the worker chosen for the client's
   * address (workers feed them to a server with `serveSticky()`): one client, one worker, as
   * long as that worker lives. Closed when shutdown begins.
   * @example const { address } = await primary.listenSticky({ port: 3000 })
   */
  async listenSticky(options: StickyOptions): Promise<StickyListener> {
    if (this.state === 'stopping' || this.state === 'stopped') throw new ShutdownInProgressError('The primary is shutting down; listenSticky() is refused.');
    const listener = await listenSticky({ pool: this.#pool, reportError: (error) => this.#reportError(error) }, options);
    this.#control.onShutdown('start', () => listener.close());
    return listener;
  }

  /**
   * Serves `/healthz` (liveness), `/readyz` (at least `minReady` ready workers and not shutting
   * down; 503 from the moment shutdown begins) and `/metrics` over HTTP, for Kubernetes probes
   * and Prometheus. Keeps answering during shutdown; closed when it completes.
   * @example await primary.listenHealth({ port: 9090, minReady: 2 })
   */
  async listenHealth(options: HealthOptions): Promise<HealthListener> {
    if (this.state === 'stopped') throw new ShutdownInProgressError('The primary has shut down; listenHealth() is refused.');
    const listener = await listenHealth(
      {
        state: () => this.state,
        readyWorkers: () => this.#pool.rotation.size,
        metrics: (timeoutMs) => this.#metrics.collect(timeoutMs),
      },
      options,
    );
    this.#control.onShutdown('end', () => listener.close());
    return listener;
  }

  /**
   * Stops one worker gracefully (it finishes its work and runs `_destroy`), with no
   * replacement; SIGKILL at the timeout. Resolves with how it ended.
   */
  stopWorker(worker: WorkerHandle | number, options: { timeoutMs?: number } = {}): Promise<'graceful' | 'killed'> {
    try {
      const timeoutMs = normalizeTimeout(options.timeoutMs, this.#options.shutdownTimeoutMs);
      const record = typeof worker === 'number' ? this.#pool.record(worker) : recordOf(worker);
      if (!record || record.owner !== this.#pool) throw unknownWorker(worker);
      return this.#control.stopWorker(record, timeoutMs);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * Graceful shutdown: no more restarts, every worker is asked to stop (finishing its work and
   * running `_destroy`), workers still alive at `timeoutMs` are killed, then the primary's own
   * `_destroy` runs. Calling it again returns the same promise.
   */
  shutdown(options: { timeoutMs?: number; signal?: NodeJS.Signals } = {}): Promise<ShutdownReport> {
    try {
      const timeoutMs = normalizeTimeout(options.timeoutMs, this.#options.shutdownTimeoutMs);
      return this.#control.shutdown(timeoutMs, options.signal);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * Zero-downtime rolling reload: each worker in turn is replaced by a new one, which must be
   * ready (and listening, if the old one was) before the old one stops gracefully.
   * @throws ReloadError when a replacement fails; the remaining old workers keep serving.
   */
  reload(): Promise<void> {
    return this.#control.reload();
  }

  /** Per-worker figures: uptime, restarts, memory, event-loop delay, messages, pending requests. */
  stats(): WorkerStats[] {
    return collectStats(this.#pool);
  }

  /**
   * The cluster's metrics in the Prometheus text format: the workers' prom-client registries
   * merged (prom-client is an optional peer dependency), then clusterkit's own per-worker
   * figures. A worker that does not answer within `timeoutMs` is left out and counted in
   * `clusterkit_worker_scrape_errors`: the scrape never fails as a whole.
   */
  metrics(options: { timeoutMs?: number } = {}): Promise<string> {
    try {
      return this.#metrics.collect(normalizeTimeout(options.timeoutMs, kDefaultScrapeTimeoutMs));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** Opens the primary's resources. Runs in `start()` before any worker is forked. */
  protected async _init(): Promise<void> {}

  /** Closes the primary's resources. Runs in `shutdown()` after every worker has exited. */
  protected async _destroy(): Promise<void> {}

  #target(worker: WorkerHandle | number, type: string): WorkerRecord {
    checkUserTypeOrThrow(type);
    const record = typeof worker === 'number' ? this.#pool.record(worker) : recordOf(worker);
    if (!record || record.owner !== this.#pool) throw unknownWorker(worker);
    if (record.state === 'exited') throw new WorkerExitedError(record.exitDescription(), `before "${type}" was sent`);
    if (this.#control.state === 'stopped') throw new ShutdownInProgressError('The primary has shut down; nothing can be sent.');
    return record;
  }

  #onInbound(record: WorkerRecord, type: string, payload: unknown, isRequest: boolean): unknown {
    if (isSystemType(type)) return this.#system.route(record, type, payload, isRequest);
    const emitter =
      this.listenerCount('workerMessage') === 0
        ? undefined
        : {
            makeEvent: (message: RoutedMessage) => Object.assign(message, { worker: record.handle }) as unknown as WorkerMessageEvent<ToPrimary>,
            emit: (event: WorkerMessageEvent<ToPrimary>) => this.#emit('workerMessage', event as never),
          };
    return routeUserMessage(this, record.handle, type, payload, isRequest, emitter);
  }

  #emit<E extends keyof UntypedEvents>(event: E, payload: Parameters<UntypedEvents[E]>[0]): void {
    this.#events.emit(event, payload);
  }

  #reportError(error: Error): void {
    this.#events.reportError(error);
  }
}

function checkUserTypeOrThrow(type: unknown): void {
  const problem = checkUserType(type);
  if (problem) throw new InvalidArgumentError(`The message type ${describeValue(type)} ${problem}.`);
}

function unknownWorker(worker: unknown): Error {
  if (recordOf(worker)) return new InvalidArgumentError('This WorkerHandle belongs to another ClusterPrimary; it does not belong to this primary.');
  if (typeof worker === 'number') {
    return new NoWorkerAvailableError(`No live worker with id ${worker} belongs to this primary. It may have exited; use primary.workers for the current ones.`);
  }
  return new InvalidArgumentError('Expected a WorkerHandle from this primary (or a worker id). Received something else.');
}

