/**
 * `ClusterWorker`: the worker process's object. Subclass it, override `_init`/`_destroy`, add
 * `_onMessage_<type>` methods for the primary's messages, and call `start()`.
 */
import cluster from 'node:cluster';
import type { Server } from 'node:net';
import { EventEmitter } from 'eventemitter3';
import { isScriptStartUnderRun } from '../runner/run-marker.js';
import { checkNoNotifyOptions } from '../messaging/notify-options.js';
import { destroyHookOf } from '../destroy-hook.js';
import { InvalidArgumentError, InvalidStateError, MessageTimeoutError, NotAWorkerError, receivedClause, ShutdownInProgressError } from '../errors.js';
import type { Endpoint } from '../messaging/endpoint.js';
import { assertUserType } from '../messaging/envelope.js';
import { argumentPath } from '../messaging/payload-walk.js';
import { reviveClusterKitError } from '../messaging/revive-error.js';
import { routeUserMessage, type RoutedMessage } from '../messaging/route.js';
import { namedForCaller } from '../messaging/system-answer.js';
import { normalizeSendOptions } from '../messaging/send-options.js';
import { isNoPayload, isRelayedPayload, kMetricsRequest, kRelayedRequest, kRelayRequest, type RelayPayload } from '../messaging/system-types.js';
import { safeEmitter } from '../safe-emit.js';
import type { AnyMessageMap, HandlerSlots, MessageMapOf, MessageType, PayloadArg, ReplyOf, SendOptions } from '../types.js';
import { kNameEnv, kSlotEnv, kRolesEnv } from '../worker-env.js';
import { collectMetrics } from './collect-metrics.js';
import { messageContext, relaySender } from './message-context.js';
import { rejectAtDeadline } from './relay-deadline.js';
import { StickyIntake } from './sticky-intake.js';
import { StoreClient } from './store-client.js';
import { createWorkerContext, type WorkerContext } from './worker-context.js';
import type { MessageContext, MessageSender, PrimaryMessageEvent, WorkerEvents } from './worker-events.js';
import type { WorkerLifecycleState } from './worker-lifecycle.js';
import { normalizeWorkerOptions, type WorkerOptions } from './worker-options.js';
import { readingArgument, workerNameArgument } from '../validate.js';
import { RelayCancels } from './relay-cancels.js';
import { isAborted } from '../messaging/on-abort.js';
import { checkNoExtraArguments, extraArgumentError } from '../extra-arguments.js';

export type { WorkerLifecycleState };

/**
 * Handler methods a worker may define for the messages of `ToWorker`. `start()` checks them;
 * `implements WorkerHandlers<ToWorker>` reports a mismatch at the method itself.
 */
export type WorkerHandlers<ToWorker> = HandlerSlots<ToWorker, MessageContext>;


/** How long past a `sendTo()`'s deadline its own timer waits for the primary's answer (ms): the primary's says what happened. */
const kRelayAnswerGraceMs = 1_000;

export class ClusterWorker<
  ToWorker extends MessageMapOf<ToWorker> = AnyMessageMap,
  ToPrimary extends MessageMapOf<ToPrimary> = AnyMessageMap,
> extends EventEmitter<WorkerEvents<ToWorker>> {
  readonly #context: WorkerContext;
  /** Created on first use of `store`. */
  #store: StoreClient | undefined;
  /** Sticky connections handed over by the primary go to the server given to `serveSticky()`. */
  readonly #sticky = new StickyIntake(() => this.#context.lifecycle.refuseSticky());
  /** The aborted `sendTo()` relays told to the primary. */
  readonly #relayCancels = new RelayCancels((type, payload) => this.#context.endpoint.notify(type, payload));

  /** @throws InvalidOptionError naming the first invalid option. */
  constructor(options?: WorkerOptions) {
    super();
    // A subclass without a constructor of its own passes on every argument (retest t81).
    if (arguments.length > 1) checkNoExtraArguments(`new ${new.target === ClusterWorker ? 'ClusterWorker' : new.target.name}()`, arguments, ['options']);
    const context = createWorkerContext(normalizeWorkerOptions(options), safeEmitter(this as unknown as EventEmitter, 'worker'), {
      init: () => this._init(),
      destroy: () => this._destroy(),
      hasDestroy: () => this._destroy !== ClusterWorker.prototype._destroy,
      destroyHook: () => destroyHookOf(this),
      acceptHandle: (message, handle) => this.#sticky.accept(message, handle, context.lifecycle.state !== 'stopped'),
      onUserMessage: (type, payload, isRequest) => this.#deliver(type, payload, isRequest, 'primary'),
    });
    this.#context = context;
    context.system.register(kRelayedRequest, {
      kind: 'request',
      check: isRelayedPayload,
      handle: ({ from, type, payload }) => this.#deliver(type, payload, true, relaySender(from)),
      // Counted, under the sender's type, among the handlers a stop waits for and reports cut (H264).
      workType: ({ type }) => type,
    });
    const registry = context.options.metricsRegistry;
    context.system.register(kMetricsRequest, { kind: 'request', check: isNoPayload, handle: () => collectMetrics(registry, context.endpoint.serialization) });
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

  /** The roles given to `primary.fork({ roles })`. */
  get roles(): readonly string[] {
    return process.env[kRolesEnv]?.split(',').filter(Boolean) ?? [];
  }

  get state(): WorkerLifecycleState {
    return this.#context.lifecycle.state;
  }

  /**
   * Connects to the primary, runs `_init`, then reports ready. If `_init` throws, the error is
   * reported to the primary and the process exits with code 1.
   * @throws NotAWorkerError outside a process forked by a ClusterPrimary, and in a script that
   * `clusterkit run` runs (its bootstrap is that process's ClusterWorker).
   */
  start(this: ClusterWorker<ToWorker, ToPrimary> & WorkerHandlers<ToWorker>): Promise<void> {
    // Made here, so that its stack names the script's call.
    if (isScriptStartUnderRun()) return Promise.reject(new NotAWorkerError('run'));
    const extra = arguments.length > 0 ? extraArgumentError('start()', arguments, []) : undefined;
    if (extra !== undefined) return Promise.reject(extra);
    return (this as ClusterWorker<ToWorker, ToPrimary>).#context.lifecycle.start(this);
  }

  /** Sends a request to the primary; resolves with its `_onMessage_<type>` method's return value. */
  send<K extends MessageType<ToPrimary>>(type: K, ...args: [...PayloadArg<ToPrimary, K>, options?: SendOptions]): Promise<ReplyOf<ToPrimary, K>> {
    try {
      if (args.length > 2) checkNoExtraArguments('send()', args, ['type', 'payload', 'options'], 1);
      // Indexed, not destructured: V8 then elides the rest array on this hot path.
      const { timeoutMs, signal } = normalizeSendOptions(args[1] as SendOptions | undefined);
      return this.#endpointFor(type).request(type, args[0], timeoutMs, signal) as Promise<ReplyOf<ToPrimary, K>>;
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * Sends a message to the primary without waiting for a reply. Throws at once on bad input.
   * @throws InvalidArgumentError at once for an argument after the payload: a notification
   *   takes no options (no timeout, no signal: `send()` has them).
   */
  notify<K extends MessageType<ToPrimary>>(type: K, ...args: PayloadArg<ToPrimary, K>): void {
    if (args.length > 1) checkNoNotifyOptions(args as unknown[]);
    this.#endpointFor(type).notify(type, args[0]);
  }

  /**
   * The shared store owned by the primary (`primary.store`): `get`, `set`, `delete`,
   * `increment`, `compareAndSet`, `entries`, `watch`. Available once the worker started.
   */
  get store(): StoreClient {
    this.#store ??= new StoreClient(this.#context);
    return this.#store;
  }

  /**
   * Sends a request to another worker, by name (`fork({ name })`) or worker id, relayed by the
   * primary; resolves with the target handler's reply (end-to-end ack, same timeout).
   * @throws NoWorkerAvailableError (rejects) when no live worker has that name or id.
   * @throws InvalidArgumentError (rejects) for a target no worker can have: not a string or an
   *   integer, an id below 1, a name `fork({ name })` would refuse (empty, invisible characters...).
   * @throws WorkerExitedError (rejects) when the target dies before replying.
   */
  sendTo<K extends MessageType<ToWorker>>(target: string | number, type: K, ...args: [...PayloadArg<ToWorker, K>, options?: SendOptions]): Promise<ReplyOf<ToWorker, K>> {
    try {
      if (args.length > 2) checkNoExtraArguments('sendTo()', args, ['target', 'type', 'payload', 'options'], 2);
      if (typeof target !== 'string' && !(typeof target === 'number' && Number.isSafeInteger(target))) {
        throw new InvalidArgumentError(`sendTo() needs a worker name or id as its target. ${receivedClause(target)}.`);
      }
      // A target no worker can have is the caller's mistake, not a worker that is gone (H356):
      // cluster ids start at 1, and a name follows fork({ name })'s rule.
      if (typeof target === 'number' && target < 1) {
        throw new InvalidArgumentError(`sendTo()'s target can be no worker's id: worker ids are positive integers (worker.id, from 1). Received ${target}.`);
      }
      if (typeof target === 'string') workerNameArgument(target, "sendTo()'s target");
      const endpoint = this.#endpointFor(type);
      const { timeoutMs, signal } = normalizeSendOptions(args[1] as SendOptions | undefined);
      const timeout = timeoutMs ?? this.#context.options.messageTimeoutMs;
      // JSON cannot write Infinity (it would arrive as null): no limit travels as null.
      // The cancels of earlier relays first: their places are freed before this one is read.
      this.#relayCancels.flushNow();
      // A caller that may abort gets a key, named to the primary when it does (relay-cancels.ts).
      const key = signal === undefined ? undefined : this.#relayCancels.nextKey();
      const relay: RelayPayload = { target, type, payload: args[0], timeoutMs: Number.isFinite(timeout) ? timeout : null, calledAt: Date.now(), ...(key === undefined ? {} : { key }) };
      const deadline = performance.now() + timeout;
      // Our own timer waits a little past the deadline: the primary answers every relay by it
      // (counted from `calledAt`), and its answer says what happened (never sent, or not replied).
      // On a busy machine it may come a moment after our timer, which could only say "did not reply".
      const localTimeout = Number.isFinite(timeout) ? timeout + kRelayAnswerGraceMs : timeout;
      return endpoint.request(kRelayRequest, relay, localTimeout, signal).catch((error: unknown) => {
        if (key !== undefined && signal !== undefined && isAborted(signal)) this.#relayCancels.cancel(key);
        // Our own timer fired before the primary's answer: name the user's message and target.
        // Never sent (it waited in our own queue), or sent with no answer from the primary: then whether the target got it is not known (retest t68 #3).
        if (error instanceof MessageTimeoutError) {
          const peer = `worker ${JSON.stringify(target)} (through the primary)`;
          throw new MessageTimeoutError(type, timeout, peer, error.queuedBehind, undefined, error.queuedBehind === undefined ? { waitedMs: localTimeout } : undefined);
        }
        // The relay's envelope is ours: a refused payload's path is the caller's `payload...` (H283).
        // Its causes name the user's type, not the relay's (retest t61 L1).
        const revived = namedForCaller(argumentPath(reviveClusterKitError(error), 'payload', 'payload'), type);
        // The primary's timeout comes a little early, by design: held until the caller's deadline (H435).
        return revived instanceof MessageTimeoutError ? rejectAtDeadline(revived, deadline, signal) : Promise.reject(revived);
      }) as Promise<ReplyOf<ToWorker, K>>;
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * Feeds the connections the primary accepted with `listenSticky()` to `server` (an ordinary
   * `http.Server`, WebSocket upgrades included), which must not listen itself. The server is
   * also tracked: it drains when the worker stops. Returns the server.
   *
   * Only workers that called it get sticky connections: the primary is told at once (or at
   * `start()` if called before it). Call it in `_init` so the worker gets connections as soon
   * as it is ready. A later call replaces the server.
   */
  serveSticky<S extends Server>(server: S): S {
    if (arguments.length > 1) checkNoExtraArguments('serveSticky()', arguments, ['server']);
    checkServer('serveSticky()', server);
    // Tracked first: a server whose `on` throws is refused before it is the sticky one (hostile t84 #9).
    this.#track('serveSticky()', server);
    this.#sticky.serve(server);
    this.#context.lifecycle.markSticky();
    return server;
  }

  /**
   * Drains `server` when the worker stops: no new connections, in-flight requests finish with
   * `Connection: close`, idle keep-alive sockets close at once. Returns the server.
   */
  trackServer<S extends Server>(server: S): S {
    if (arguments.length > 1) checkNoExtraArguments('trackServer()', arguments, ['server']);
    checkServer('trackServer()', server);
    this.#track('trackServer()', server);
    return server;
  }

  /** Hostile t84 #9: tracking calls the server's `on` (a method that throws, a Proxy whose trap does): refused by name, not thrown raw. */
  #track(call: string, server: Server): void {
    readingArgument(call, 'server', kServerAdvice, () => this.#context.lifecycle.trackServer(server));
  }

  /** Opens the worker's resources (databases, servers). The worker is ready after it. */
  protected async _init(): Promise<void> {}

  /** Closes the worker's resources. Runs once, when the worker stops. */
  protected async _destroy(): Promise<void> {}

  #endpointFor(type: string): Endpoint {
    assertUserType(type);
    if (this.#context.lifecycle.state === 'created') throw new InvalidStateError('Call start() before sending messages to the primary.');
    return this.#context.endpoint;
  }

  /** A user message, from the primary or relayed from another worker. */
  #deliver(type: string, payload: unknown, isRequest: boolean, from: MessageSender): unknown {
    const { lifecycle } = this.#context;
    if (lifecycle.state === 'starting') return lifecycle.initialized.then(() => this.#route(type, payload, isRequest, from));
    if (lifecycle.state !== 'ready') {
      throw new ShutdownInProgressError(`Worker ${this.id} (pid ${process.pid}) is shutting down and takes no new messages; "${type}" was not handled.`);
    }
    return this.#route(type, payload, isRequest, from);
  }

  #route(type: string, payload: unknown, isRequest: boolean, from: MessageSender): unknown {
    if (isRequest) this.#context.lifecycle.markServed();
    const emit =
      this.listenerCount('primaryMessage') === 0
        ? undefined
        : (message: RoutedMessage) => this.#context.emit('primaryMessage', Object.assign(message, { from }) as PrimaryMessageEvent<AnyMessageMap>);
    return routeUserMessage(this, messageContext(type, isRequest, from), type, payload, isRequest, emit);
  }
}

/**
 * A server, as `http.createServer()` returns (an event emitter that closes): anything else was
 * taken, and failed later with Node's words (hostile t83 #9: `server.on is not a function`, at
 * the call; `Cannot read properties of null (reading 'closeIdleConnections')`, at the stop).
 */
function checkServer(call: string, server: unknown): void {
  const candidate = server as { on?: unknown; close?: unknown } | null;
  // Hostile t84 #9: a revoked Proxy, or a throwing `on`/`close` getter, threw raw here.
  const isServer = readingArgument(call, 'server', kServerAdvice, () => typeof candidate === 'object' && candidate !== null && typeof candidate.on === 'function' && typeof candidate.close === 'function');
  if (isServer) return;
  throw new InvalidArgumentError(`${call} needs a server, as http.createServer() (or https, http2, net) returns. ${receivedClause(server)}.`);
}

const kServerAdvice = 'Pass the server itself, as http.createServer() (or https, http2, net) returns.';
