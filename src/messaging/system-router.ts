/**
 * The routing of clusterkit's own messages (`$ready`, `$ping`, `$store`...), on both sides, and
 * the one place where they are checked before any handler sees them.
 *
 * Each system type is registered with the kind it must arrive as (request or notification), a
 * check of its payload, and its handler. A message of the wrong kind, or whose payload fails
 * its check, never reaches the handler: it is dropped (a request gets no reply) and counted in
 * `protocolErrors`, never thrown into user code or emitted as `error`. The peer is clusterkit
 * itself, so a failed check means a bug or a forged message, not a caller to tell. A request for
 * a type nobody registered is answered with `NoHandlerError`, as before: a peer of another
 * version learns that the feature is missing.
 *
 * User messages never come here: the receiving side tests `isSystemType(type)` first, so their
 * path costs nothing more (node:cluster routes its `NODE_` messages the same way, first).
 */
import { kNoReply } from './inbound.js';
import { handlerNotFound } from './route.js';

/** How a system message must arrive. */
export type SystemKind = 'request' | 'notification';

/** One system message type: what it must look like, and who handles it. */
export interface SystemMessage<Peer, Payload> {
  readonly kind: SystemKind;
  /**
   * True when the payload is well-formed. Structure only (types, presence, ranges): a handler
   * still rejects a well-formed request it cannot serve (a missing store key...) with an error
   * reply.
   */
  readonly check: (payload: unknown) => payload is Payload;
  /** Handles a message that passed the checks; for a request, the return value is the reply. */
  readonly handle: (payload: Payload, peer: Peer) => unknown;
}

/** Why a system message was dropped. */
export type ProtocolProblem = 'wrong-kind' | 'bad-payload' | 'unknown-type';

export interface SystemRouterOptions<Peer> {
  /** Who receives: `the primary` or `worker 3`, for `NoHandlerError`. */
  readonly receiver: string;
  /** Called for each dropped message, after it was counted (issue 11 logs it, rate-limited). */
  readonly onProtocolError?: (peer: Peer, type: string, problem: ProtocolProblem) => void;
}

export class SystemRouter<Peer> {
  readonly #messages = new Map<string, SystemMessage<Peer, unknown>>();
  readonly #options: SystemRouterOptions<Peer>;
  /** System messages dropped by the checks (wrong kind, bad payload, unknown type), since creation. */
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
  route(peer: Peer, type: string, payload: unknown, isRequest: boolean): unknown {
    const message = this.#messages.get(type);
    if (!message) {
      this.#drop(peer, type, 'unknown-type');
      if (isRequest) throw handlerNotFound(type, this.#options.receiver);
      return kNoReply;
    }
    if ((message.kind === 'request') !== isRequest) return this.#drop(peer, type, 'wrong-kind');
    if (!message.check(payload)) return this.#drop(peer, type, 'bad-payload');
    return message.handle(payload, peer);
  }

  #drop(peer: Peer, type: string, problem: ProtocolProblem): typeof kNoReply {
    this.protocolErrors++;
    this.#options.onProtocolError?.(peer, type, problem);
    return kNoReply;
  }
}
