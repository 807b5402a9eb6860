/**
 * `ClusterWorker`: the worker process's object. Subclass it, override `_init`/`_destroy`, add
 * `_onMessage_<type>` methods for the primary's messages, and call `start()`.
 */
import cluster from 'node:cluster';
import type { Server } from 'node:net';
import { EventEmitter } from 'eventemitter3';
import {
  HookTimeoutError,
  InvalidArgumentError,
  InvalidStateError,
  MessageTimeoutError,
  NotAWorkerError,
  PrimaryDisconnectedError,
  ShutdownInProgressError,
} from '../errors.js';
import { deferred } from '../deferred.js';
import type { IpcPort } from '../messaging/channel.js';
import { handlerNotFound } from '../messaging/dispatch.js';
import { Endpoint } from '../messaging/endpoint.js';
import { checkUserType, isClusterKitMessage, isSystemType } from '../messaging/envelope.js';
import { routeUserMessage, type RoutedMessage } from '../messaging/route.js';
import { serializeError } from '../messaging/serialize-error.js';
import {
  kArmWatchdogNotice,
  kHelloNotice,
  kInitErrorNotice,
  kPingRequest,
  kReadyNotice,
  kMetricsRequest,
  kRelayedRequest,
  kRelayRequest,
  kShutdownRequest,
  kSyncRequest,
  type RelaySender,
} from '../messaging/system-types.js';
import { reviveClusterKitError } from '../messaging/revive-error.js';
import { loadPromClient } from '../prom-client.js';
import { kNameEnv, kSerializationEnv, kSlotEnv, kTagsEnv } from '../worker-env.js';
import { normalizeSendOptions } from '../messaging/send-options.js';
import { safeEmitter, type SafeEmitter } from '../safe-emit.js';
import type { AnyMessageMap, HandlerSlots, MessageMapOf, MessageType, PayloadArg, ReplyOf, SendOptions } from '../types.js';
import { settleWithin } from '../wait.js';
import { HealthProbe } from './health-probe.js';
import { startOrphanWatchdog } from './orphan-watchdog.js';
import { TrackedServer } from './server-tracker.js';
import type { MessageContext, MessageSender, PrimaryMessageEvent, StopReason, WorkerEvents } from './worker-events.js';
import { normalizeWorkerOptions, type NormalizedWorkerOptions, type WorkerOptions } from './worker-options.js';
import { registerWorkerInternals, workerInternals, type WorkerSystemHandler } from './worker-internals.js';
import { messageContext, relaySender } from './message-context.js';
import { StickyIntake } from './sticky-intake.js';
import { StoreClient } from './store-client.js';

/**
 * Handler methods a worker may define for the messages of `ToWorker`. `start()` checks them;
 * `implements WorkerHandlers<ToWorker>` reports a mismatch at the method itself.
 */
export type WorkerHandlers<ToWorker> = HandlerSlots<ToWorker, MessageContext>;

export type WorkerLifecycleState = 'created' | 'starting' | 'ready' | 'stopping' | 'stopped';

/** Time a signalled worker waits for the primary's instruction before stopping on its own. */
const kSignalGraceMs = 1_000;
/** How much sooner than the primary's stop deadline a worker gives up on its own `_destroy` (at most a quarter of it). */
const kStopMarginMs = 2_000;
/** Longest wait for queued messages to be written before the process exits. */
const kExitFlushMs = 1_000;
/** How often the orphan watchdog checks the parent pid. */
const kWatchdogPollMs = 100;

let activeWorker: object | undefined;

export class ClusterWorker<
  ToWorker extends MessageMapOf<ToWorker> = AnyMessageMap,
  ToPrimary extends MessageMapOf<ToPrimary> = AnyMessageMap,
> extends EventEmitter<WorkerEvents<ToWorker>> {
  readonly #options: NormalizedWorkerOptions;
  readonly #events: SafeEmitter = safeEmitter(this as unknown as EventEmitter);
  #state: WorkerLifecycleState = 'created';
  /** Created by start(). */
  #endpoint: Endpoint | undefined;
  readonly #servers: TrackedServer[] = [];
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
  /** Created on first use of `store`. */
  #store: StoreClient | undefined;
  /** Sticky connections handed over by the primary go to the server given to `serveSticky()`. */
  readonly #sticky = new StickyIntake();

  /** System messages from the primary, by type; features add theirs through the internals. */
  readonly #systemHandlers = new Map<string, WorkerSystemHandler>([
    [kPingRequest, () => this.#probe.report()],
    [kShutdownRequest, (payload) => this.#stopForPrimary((payload as { timeoutMs: number }).timeoutMs)],
    [kArmWatchdogNotice, () => this.#startWatchdog()],
    [kRelayedRequest, (payload) => this.#onRelayed(payload)],
    [kMetricsRequest, () => this.#collectMetrics()],
  ]);

  /** @throws InvalidOptionError naming the first invalid option. */
  constructor(options?: WorkerOptions) {
    super();
    this.#options = normalizeWorkerOptions(options);
    registerWorkerInternals(this, {
      endpoint: () => this.#endpoint,
      registerSystemHandler: (type, handler) => this.#systemHandlers.set(type, handler),
      emit: (event, payload) => this.#events.emit(event, payload),
      reportError: (error) => this.#events.reportError(error),
    });
  }

  /** The cluster worker id (as the primary's `WorkerHandle.id`). */
  get id(): number {
    return cluster.worker?.id ?? 0;
  }

  get pid(): number {
    return process.pid;
  }

  /** Slot number, kept across restarts and reloads. */
  get slot(): number {
    return Number(process.env[kSlotEnv] ?? 0);
  }

  /** The name given to `primary.fork({ name })`, if any. */
  get name(): string | undefined {
    return process.env[kNameEnv] || undefined;
  }

  /** The tags given to `primary.fork({ tags })`. */
  get tags(): readonly string[] {
    return process.env[kTagsEnv]?.split(',').filter(Boolean) ?? [];
  }

  get state(): WorkerLifecycleState {
    return this.#state;
  }

  /**
   * Connects to the primary, runs `_init`, then reports ready. If `_init` throws, the error is
   * reported to the primary and the process exits with code 1.
   * @throws NotAWorkerError outside a process forked by a ClusterPrimary.
   */
  start(this: ClusterWorker<ToWorker, ToPrimary> & WorkerHandlers<ToWorker>): Promise<void> {
    return (this as ClusterWorker<ToWorker, ToPrimary>).#start();
  }

  /** Sends a request to the primary; resolves with its `_onMessage_<type>` method's return value. */
  send<K extends MessageType<ToPrimary>>(type: K, ...args: [...PayloadArg<ToPrimary, K>, options?: SendOptions]): Promise<ReplyOf<ToPrimary, K>> {
    try {
      // Indexed, not destructured: V8 then elides the rest array on this hot path.
      const { timeoutMs, signal } = normalizeSendOptions(args[1] as SendOptions | undefined);
      return this.#endpointFor(type).request(type, args[0], timeoutMs, signal) as Promise<ReplyOf<ToPrimary, K>>;
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** Sends a message to the primary without waiting for a reply. Throws at once on bad input. */
  notify<K extends MessageType<ToPrimary>>(type: K, ...args: PayloadArg<ToPrimary, K>): void {
    this.#endpointFor(type).notify(type, args[0]);
  }

  /**
   * The shared store owned by the primary (`primary.store`): `get`, `set`, `delete`,
   * `increment`, `compareAndSet`, `entries`, `watch`. Available once the worker started.
   */
  get store(): StoreClient {
    this.#store ??= new StoreClient(workerInternals(this));
    return this.#store;
  }

  /**
   * Sends a request to another worker, by name (`fork({ name })`) or worker id, relayed by the
   * primary; resolves with the target handler's reply (end-to-end ack, same timeout).
   * @throws NoWorkerAvailableError (rejects) when no live worker has that name or id.
   * @throws WorkerExitedError (rejects) when the target dies before replying.
   */
  sendTo<K extends MessageType<ToWorker>>(target: string | number, type: K, ...args: [...PayloadArg<ToWorker, K>, options?: SendOptions]): Promise<ReplyOf<ToWorker, K>> {
    try {
      if (typeof target !== 'string' && !(typeof target === 'number' && Number.isSafeInteger(target))) {
        throw new InvalidArgumentError(`sendTo() needs a worker name or id as its target. Received ${JSON.stringify(target)}.`);
      }
      const endpoint = this.#endpointFor(type);
      const { timeoutMs, signal } = normalizeSendOptions(args[1] as SendOptions | undefined);
      const timeout = timeoutMs ?? this.#options.messageTimeoutMs;
      const relay = { target, type, payload: args[0], timeoutMs: timeout };
      return endpoint.request(kRelayRequest, relay, timeout, signal).catch((error: unknown) => {
        // Our own timer fired before the primary's answer: name the user's message and target.
        if (error instanceof MessageTimeoutError) throw new MessageTimeoutError(type, timeout, `worker ${JSON.stringify(target)} (through the primary)`);
        throw reviveClusterKitError(error);
      }) as Promise<ReplyOf<ToWorker, K>>;
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * Feeds the connections the primary accepted with `listenSticky()` to `server` (an ordinary
   * `http.Server`, WebSocket upgrades included), which must not listen itself. The server is
   * also tracked: it drains when the worker stops. Returns the server.
   */
  serveSticky<S extends Server>(server: S): S {
    this.#sticky.serve(server);
    this.trackServer(server);
    return server;
  }

  /**
   * Drains `server` when the worker stops: no new connections, in-flight requests finish with
   * `Connection: close`, idle keep-alive sockets close at once. Returns the server.
   */
  trackServer<S extends Server>(server: S): S {
    this.#servers.push(new TrackedServer(server));
    return server;
  }

  /** Opens the worker's resources (databases, servers). The worker is ready after it. */
  protected async _init(): Promise<void> {}

  /** Closes the worker's resources. Runs once, when the worker stops. */
  protected async _destroy(): Promise<void> {}

  async #start(): Promise<void> {
    if (this.#state !== 'created') throw new InvalidStateError(`start() can be called once; this worker is ${this.#state}.`);
    const clusterWorker = cluster.worker;
    if (!cluster.isWorker || !clusterWorker || typeof process.send !== 'function') throw new NotAWorkerError();
    if (activeWorker) throw new InvalidStateError('Only one ClusterWorker can run in a process, and one already started.');
    activeWorker = this;
    this.#state = 'starting';
    this.#primaryPid = process.ppid;
    const endpoint = this.#connect();
    endpoint.notify(kHelloNotice, undefined);
    clusterWorker.on('disconnect', () => this.#onPrimaryDisconnect());
    if (this.#options.handleSignals) {
      process.on('SIGINT', this.#onSignal);
      process.on('SIGTERM', this.#onSignal);
    }
    this.#events.emit('initialize', {});
    try {
      await this._init();
    } catch (error) {
      await this.#failInit(endpoint, error);
      return;
    }
    this.#events.emit('initializeComplete', {});
    if (this.#state === 'starting') this.#state = 'ready';
    this.#initialized.resolve();
    endpoint.notify(kReadyNotice, { pid: process.pid });
  }

  #connect(): Endpoint {
    const options = this.#options;
    const serialization = process.env[kSerializationEnv] === 'advanced' ? 'advanced' : 'json';
    const endpoint = new Endpoint({
      port: process as unknown as IpcPort,
      serialization,
      maxMessageBytes: options.maxMessageBytes,
      defaultTimeoutMs: options.messageTimeoutMs,
      maxPending: options.maxPending,
      backpressure: options.backpressure,
      describePeer: () => 'the primary',
      onInbound: (type, payload, isRequest) => this.#onInbound(type, payload, isRequest),
      channelClosedError: (type) => new PrimaryDisconnectedError(`before "${type}" was delivered`),
      onError: (error) => this.#events.reportError(error),
    });
    this.#endpoint = endpoint;
    process.on('message', (message: unknown, handle: unknown) => {
      if (!isClusterKitMessage(message)) return;
      if (handle === undefined) endpoint.receive(message);
      else this.#sticky.accept(message, handle, this.#state !== 'stopped');
    });
    return endpoint;
  }

  /** This worker's prom-client metrics, for `primary.metrics()`; null without a registry. */
  async #collectMetrics(): Promise<unknown[] | null> {
    const registry = this.#options.metricsRegistry ?? (await loadPromClient())?.register;
    return registry ? await registry.getMetricsAsJSON() : null;
  }

  #endpointFor(type: string): Endpoint {
    const problem = checkUserType(type);
    if (problem) throw new InvalidArgumentError(`The message type ${JSON.stringify(type)} ${problem}.`);
    if (!this.#endpoint) throw new InvalidStateError('Call start() before sending messages to the primary.');
    return this.#endpoint;
  }

  #onInbound(type: string, payload: unknown, isRequest: boolean): unknown {
    if (!isSystemType(type)) return this.#deliver(type, payload, isRequest, 'primary');
    const handler = this.#systemHandlers.get(type);
    if (!handler) throw handlerNotFound(type, `worker ${this.id}`);
    return handler(payload, isRequest);
  }

  /** A user message, from the primary or relayed from another worker. */
  #deliver(type: string, payload: unknown, isRequest: boolean, from: MessageSender): unknown {
    if (this.#state === 'starting') return this.#initialized.promise.then(() => this.#route(type, payload, isRequest, from));
    if (this.#state !== 'ready') {
      throw new ShutdownInProgressError(`Worker ${this.id} (pid ${process.pid}) is shutting down and takes no new messages; "${type}" was not handled.`);
    }
    return this.#route(type, payload, isRequest, from);
  }

  #route(type: string, payload: unknown, isRequest: boolean, from: MessageSender): unknown {
    const emitter =
      this.listenerCount('primaryMessage') === 0
        ? undefined
        : {
            makeEvent: (message: RoutedMessage) => Object.assign(message, { from }) as unknown as PrimaryMessageEvent<ToWorker>,
            emit: (event: PrimaryMessageEvent<ToWorker>) => this.#events.emit('primaryMessage', event),
          };
    return routeUserMessage(this, messageContext(type, isRequest, from), type, payload, isRequest, emitter);
  }

  #onRelayed(raw: unknown): unknown {
    const { from, type, payload } = raw as { from: RelaySender; type: string; payload: unknown };
    const problem = checkUserType(type);
    if (problem) throw new InvalidArgumentError(`The relayed message type ${JSON.stringify(type)} ${problem}.`);
    return this.#deliver(type, payload, true, relaySender(from));
  }

  async #stopForPrimary(timeoutMs: number): Promise<void> {
    // Keep a margin so _destroy runs, and the reply is written, before the primary's SIGKILL.
    // It also absorbs the request's delivery and late timers: 1 s was eaten on a busy machine.
    const deadline = Date.now() + timeoutMs - Math.min(kStopMarginMs, timeoutMs / 4);
    const exitCode = await this.#stop('primary', deadline);
    // The reply to $shutdown is queued once this handler returns; exit after it is written.
    setImmediate(() => void this.#exit(exitCode));
  }

  /** Drains, waits for in-flight handlers, runs `_destroy`; resolves with the exit code to use. */
  #stop(reason: StopReason, deadline: number): Promise<number> {
    this.#stopping ??= this.#runStop(reason, deadline);
    return this.#stopping;
  }

  async #runStop(reason: StopReason, deadline: number): Promise<number> {
    const wasStarting = this.#state === 'starting';
    this.#state = 'stopping';
    clearTimeout(this.#signalTimer);
    this.#events.emit('shutdown', { reason, deadlineMs: deadline });
    if (wasStarting) await this.#initialized.promise;
    await Promise.all(this.#servers.map((server) => server.drain(deadline)));
    if (this.#servers.length > 0) await this.#syncWithPrimary(deadline);
    if (this.#endpoint) await settleWithin(this.#endpoint.idle(), deadline - Date.now());
    const error = await this.#runDestroy(deadline);
    this.#probe.stop();
    this.#state = 'stopped';
    return error ? 1 : 0;
  }

  /** A round trip behind the servers' close: see `kSyncRequest` (connections handed over late). */
  async #syncWithPrimary(deadline: number): Promise<void> {
    const endpoint = this.#endpoint;
    if (!endpoint?.channel.isConnected) return;
    await endpoint.request(kSyncRequest, undefined, Math.max(1, deadline - Date.now())).catch(() => {});
  }

  async #runDestroy(deadline: number): Promise<Error | undefined> {
    this.#events.emit('destroy', {});
    let failure: Error | undefined;
    try {
      const budget = Math.max(1, deadline - Date.now());
      const finished = await settleWithin(this._destroy().then(() => true), budget);
      if (!finished) failure = new HookTimeoutError('_destroy', budget);
    } catch (error) {
      failure = error instanceof Error ? error : new Error(String(error));
    }
    this.#events.emit('destroyComplete', failure ? { error: failure } : {});
    return failure;
  }

  async #failInit(endpoint: Endpoint, error: unknown): Promise<void> {
    this.#events.emit('initializeError', { error: error instanceof Error ? error : new Error(String(error)) });
    try {
      endpoint.notify(kInitErrorNotice, serializeError(error));
    } catch {
      // The channel is gone; the primary sees the exit instead.
    }
    await this.#exit(1);
  }

  async #exit(code: number): Promise<never> {
    if (this.#endpoint) await settleWithin(this.#endpoint.drain(), kExitFlushMs);
    process.exit(code);
  }

  /** The primary is gone (or cut the channel): run `_destroy`, bounded, and exit. */
  #onPrimaryDisconnect(): void {
    if (this.#state === 'stopped') return;
    // Node's own listener exits the process right after this event unless the disconnect was
    // planned; claim it as planned so _destroy gets its bounded chance first.
    if (cluster.worker) cluster.worker.exitedAfterDisconnect = true;
    this.#endpoint?.close((type) => new PrimaryDisconnectedError(`before it replied to "${type}"`));
    this.#events.emit('primaryDisconnect', {});
    const deadline = Date.now() + this.#options.destroyTimeoutMs;
    setTimeout(() => process.exit(0), this.#options.destroyTimeoutMs + 250).unref();
    this.#stop('primary-disconnected', deadline).then(
      () => process.exit(0),
      () => process.exit(0),
    );
  }

  /** SIGINT/SIGTERM: wait for the primary's instruction; stop on our own if none comes. */
  readonly #onSignal = (): void => {
    if (this.#state !== 'ready' && this.#state !== 'starting') return;
    if (this.#signalTimer) return;
    this.#signalTimer = setTimeout(() => {
      this.#stop('signal', Date.now() + this.#options.destroyTimeoutMs).then((code) => this.#exit(code));
    }, kSignalGraceMs);
    this.#signalTimer.unref();
  };

  #startWatchdog(): void {
    if (!this.#options.orphanWatchdog || this.#isWatchdogStarted || this.#state === 'stopped') return;
    this.#isWatchdogStarted = true;
    startOrphanWatchdog({ parentPid: this.#primaryPid, pollMs: kWatchdogPollMs, graceMs: this.#options.destroyTimeoutMs + 100 });
  }
}
