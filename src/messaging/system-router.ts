/**
 * The routing of clusterkit's own messages (`$ready`, `$ping`, `$store`...), on both sides, and
 * the one place where they are checked before any handler sees them, in both directions:
 * inbound system messages (`route`), and the replies to our own system requests (`request`).
 * The endpoint reports the malformed frames and records it drops here too (`reportDropped`), so
 * every protocol error of a peer is counted, and reported, by one router.
 *
 * Each system type is registered with the kind it must arrive as (request or notification), a
 * check of its payload, optionally the peer states it may arrive in, and its handler. A message
 * of the wrong kind, whose payload fails its check, or that the peer's state rules out never
 * reaches the handler: it is dropped (a request gets no reply) and counted in `protocolErrors`,
 * never thrown into user code or emitted as `error`. The peer is clusterkit itself, so a failed
 * check means a bug or a forged message, not a caller to tell. So is a type only this side
 * sends (a worker sending `$ping`): dropped as `wrong-direction`. A request for a type nobody
 * registered is answered with `NoHandlerError` (and counted): a peer of another version learns
 * that the feature is missing.
 *
 * User messages never come here: the receiving side tests `isSystemType(type)` first, so their
 * path costs nothing more (node:cluster routes its `NODE_` messages the same way, first).
 */
import { ProtocolError, type NoHandlerError, type ProtocolProblem } from '../errors.js';
import { kNoReply } from './inbound.js';
import { handlerNotFound } from './route.js';

export type { ProtocolProblem } from '../errors.js';

/** How a system message must arrive. */
export type SystemKind = 'request' | 'notification';

/** One system message type: what it must look like, and who handles it. */
export interface SystemMessage<Peer, Payload> {
  readonly kind: SystemKind;
  /**
   * True when the payload is well-formed. Structure only (types, presence, ranges, sizes): a
   * handler still rejects a well-formed request it cannot serve (a missing store key...) with an
   * error reply.
   */
  readonly check: (payload: unknown) => payload is Payload;
  /**
   * True when the payload's figures are ones the peer can mean (an open-request count no worker
   * can hold is forged); a payload that fails is dropped as `out-of-range`. Always when absent.
   */
  readonly inRange?: (payload: Payload) => boolean;
  /** True when `peer` may send this now (`$initError` only while starting); always when absent. */
  readonly when?: (peer: Peer) => boolean;
  /** Handles a message that passed the checks; for a request, the return value is the reply. */
  readonly handle: (payload: Payload, peer: Peer) => unknown;
  /**
   * For a request that carries someone's work (a relayed `sendTo()`): the user message type its
   * handler runs for. Its handler then counts among those a stop waits for and reports cut
   * (`Endpoint`'s `workTypeOf`); other system requests are clusterkit's own and do not.
   */
  readonly workType?: (payload: Payload) => string;
}

/** What `request()` needs of an endpoint. */
export interface Requester {
  request(type: string, payload: unknown, timeoutMs?: number): Promise<unknown>;
}

export interface SystemRouterOptions<Peer> {
  /** Who receives: `the primary` or `worker 3`, for `NoHandlerError`. */
  readonly receiver: string;
  /** Names the peer in `ProtocolError`: `worker 3 (pid 4242)`. */
  readonly describePeer?: (peer: Peer) => string;
  /**
   * Called for each dropped message, after it was counted. Must not throw; the primary counts
   * it per worker and warns, rate-limited.
   */
  readonly onProtocolError?: (peer: Peer, type: string | undefined, problem: ProtocolProblem, detail?: string, count?: number) => void;
  /**
   * The system types only this side sends (`$ping` for the primary): one arriving here is a
   * protocol error (`wrong-direction`), dropped without a reply, not a missing handler.
   */
  readonly outboundTypes?: ReadonlySet<string>;
}

export class SystemRouter<Peer> {
  readonly #messages = new Map<string, SystemMessage<Peer, unknown>>();
  readonly #options: SystemRouterOptions<Peer>;
  /** Messages dropped as protocol errors (see `ProtocolProblem`), from every peer, since creation. */
  protocolErrors = 0;

  constructor(options: SystemRouterOptions<Peer>) {
    this.#options = options;
  }

  /** Registers the handler of `type` (one per type; a later registration replaces it). */
  register<Payload>(type: string, message: SystemMessage<Peer, Payload>): void {
    this.#messages.set(type, message as SystemMessage<Peer, unknown>);
  }

  /**
   * Routes one system message from `peer`; returns the reply of a request, or `kNoReply` when
   * the message was dropped.
   */
  /** The routing miss answered to a request of a system type this side does not know, by type (at most 64 kept). */
  readonly #unknownMisses = new Map<string, NoHandlerError>();

  #unknownMiss(type: string): NoHandlerError {
    let miss = this.#unknownMisses.get(type);
    if (miss === undefined) {
      miss = handlerNotFound(type, this.#options.receiver);
      if (this.#unknownMisses.size >= 64) this.#unknownMisses.clear();
      this.#unknownMisses.set(type, miss);
    }
    return miss;
  }

  route(peer: Peer, type: string, payload: unknown, isRequest: boolean): unknown {
    const message = this.#messages.get(type);
    if (!message) {
      if (this.#options.outboundTypes?.has(type)) return this.reportDropped(peer, 'wrong-direction', type);
      this.reportDropped(peer, 'unknown-type', type);
      // Returned, one per type: a flood of forged system types cost a new error and a throw each (hostile t64).
      return isRequest ? this.#unknownMiss(type) : kNoReply;
    }
    if ((message.kind === 'request') !== isRequest) return this.reportDropped(peer, 'wrong-kind', type);
    if (!message.check(payload)) return this.reportDropped(peer, 'bad-payload', type);
    if (message.inRange && !message.inRange(payload)) return this.reportDropped(peer, 'out-of-range', type);
    if (message.when && !message.when(peer)) return this.reportDropped(peer, 'unexpected', type);
    return message.handle(payload, peer);
  }

  /**
   * The user message type whose work a request of `type` carries (see `SystemMessage.workType`),
   * for a payload that passed its check; undefined for clusterkit's own requests.
   */
  workTypeOf(type: string, payload: unknown): string | undefined {
    return this.#messages.get(type)?.workType?.(payload);
  }

  /**
   * Sends the system request `type` to `peer` and checks its reply: one that fails `check` is
   * counted as a protocol error of `peer`, and the promise rejects with `ProtocolError`.
   */
  request<Reply>(peer: Peer, endpoint: Requester, type: string, payload: unknown, check: (reply: unknown) => reply is Reply, timeoutMs?: number): Promise<Reply> {
    return endpoint.request(type, payload, timeoutMs).then((reply) => {
      if (check(reply)) return reply;
      this.reportDropped(peer, 'bad-reply', type);
      throw new ProtocolError(this.#describe(peer), 'bad-reply', type);
    });
  }

  /**
   * Counts a message from `peer` dropped (or partly dropped: `detail` says what, and `count` how
   * many of its parts, such as a metrics answer's series, H325) as protocol errors, and reports it.
   */
  reportDropped(peer: Peer, problem: ProtocolProblem, type?: string, detail?: string, count = 1): typeof kNoReply {
    this.protocolErrors += count;
    this.#options.onProtocolError?.(peer, type, problem, detail, count);
    return kNoReply;
  }

  #describe(peer: Peer): string {
    return this.#options.describePeer?.(peer) ?? String(peer);
  }
}
