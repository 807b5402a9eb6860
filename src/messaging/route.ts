/**
 * Delivers a user message on the receiving side: every message is emitted as an event, then
 * the `_onMessage_<type>` method answers it. Without a method, a listener may answer with
 * `respondWith()`; otherwise the sender gets `NoHandlerError`.
 *
 * This is the only place that maps a message type to a handler method. Only methods named
 * `_onMessage_<type>` are ever called, so a type such as `__proto__`, `constructor` or
 * `toString` can never reach a built-in: the prefixed name does not exist on any prototype.
 */
import { closest, distance } from '../cli/suggest.js';
import { InvalidStateError, NoHandlerError } from '../errors.js';
import { checkUserType } from './envelope.js';
import { stackless } from '../stackless.js';

/** Prefix of handler method names. */
export const kHandlerPrefix = '_onMessage_';

export type HandlerMethod = (payload: unknown, context: unknown) => unknown;

/** Method names by message type, so the hot path does not build and hash a new string each time. */
const methodNames = new Map<string, string>();
const kMaxCachedNames = 1_024;

/** The `_onMessage_<type>` method of `target`, or `undefined`. */
export function findHandler(target: object, type: string): HandlerMethod | undefined {
  let name = methodNames.get(type);
  if (name === undefined) {
    name = kHandlerPrefix + type;
    if (methodNames.size >= kMaxCachedNames) methodNames.clear();
    methodNames.set(type, name);
  }
  const candidate: unknown = (target as Record<string, unknown>)[name];
  return typeof candidate === 'function' ? (candidate as HandlerMethod) : undefined;
}

// Errors created because routing found no handler, as opposed to a NoHandlerError a handler
// threw itself (say, rethrown from a nested request): only the former is a "no handler" reply.
const routingMisses = new WeakSet<Error>();

/**
 * The error to throw when nothing handles `type`. With `target` (the receiver), a handler it
 * does define whose type is a near miss (`pign` for `ping`) goes with the error as `nearMiss`,
 * an own field, so it crosses IPC in the error reply's data.
 */
export function handlerNotFound(type: string, receiver: string, target?: object): NoHandlerError {
  const nearMiss = target === undefined ? undefined : nearMissHandlerType(target, type);
  // No stack: it would only show clusterkit's routing, and capturing it made a worker's flood of
  // messages of a type nobody handles cost the primary 20 s for 300,000 (hostile t64).
  const error = stackless(() => new NoHandlerError(type, receiver, nearMiss));
  routingMisses.add(error);
  return error;
}

/**
 * Routing misses by receiver and type. A miss never reaches user code (the sender builds its own
 * error from the reply's fault; a notification's drop is told with a new one), so one serves every
 * message of its type: a worker's flood of a type nobody handles cost the primary an error, a
 * throw and a prototype walk each (hostile t64: 20 s for 300,000 in one frame).
 */
const misses = new WeakMap<object, { readonly byType: Map<string, NoHandlerError>; windowStart: number; made: number }>();
/** Types remembered per receiver: a peer sending ever new types cannot grow the map. */
const kMaxRememberedMisses = 256;
/**
 * Misses with a near miss looked for, per receiver and window: a peer cycling through ever new
 * types (retest t64: 300 or more, past what is remembered) made each message walk the
 * prototypes again, 5 s for 400,000. Past it, a miss has no near miss until the window ends.
 */
const kNearMissesPerWindow = 256;
const kNearMissWindowMs = 10_000;

/** The routing miss of `type` at `target`, with its near miss (a handler added later is found before this is asked for). */
function routingMiss(target: object, type: string): NoHandlerError {
  let known = misses.get(target);
  if (known === undefined) {
    known = { byType: new Map(), windowStart: 0, made: 0 };
    misses.set(target, known);
  }
  const miss = known.byType.get(type);
  if (miss !== undefined) return miss;
  const now = Date.now();
  if (now - known.windowStart >= kNearMissWindowMs) {
    known.windowStart = now;
    known.made = 0;
  }
  if (known.made >= kNearMissesPerWindow) return kPlainMiss;
  known.made++;
  const made = handlerNotFound(type, 'the receiver', target);
  if (known.byType.size >= kMaxRememberedMisses) known.byType.clear();
  known.byType.set(type, made);
  return made;
}

/**
 * A miss with no near miss: a notification a message listener heard (it may have consumed it),
 * or one past the window's near-miss lookups. Its type is not read: a reply carries only its
 * fault and near miss, and a drop is told by the type it came with.
 */
const kPlainMiss = handlerNotFound('', 'the receiver');

/** Handler methods looked at for a near miss: a class has a handful; a Proxy may claim any number. */
const kMaxHandlerNames = 1_000;
/** Prototypes walked: a class hierarchy is a few deep; a Proxy may return a new one each time. */
const kMaxPrototypeDepth = 64;

/**
 * The type of the `_onMessage_<type>` method of `target` nearest to `type` (at most 2 edits:
 * `pign` for `ping`), or undefined. Only on the error path: it walks the prototype chain. It
 * never throws: a Proxy whose traps throw, or a revoked one, has no near miss.
 */
export function nearMissHandlerType(target: object, type: string): string | undefined {
  const types = new Set<string>();
  try {
    let object: object | null = target;
    for (let depth = 0; object !== null && object !== Object.prototype && depth < kMaxPrototypeDepth && types.size < kMaxHandlerNames; depth++) {
      for (const name of Object.getOwnPropertyNames(object)) {
        if (name.startsWith(kHandlerPrefix) && name.length > kHandlerPrefix.length) types.add(name.slice(kHandlerPrefix.length));
        if (types.size >= kMaxHandlerNames) break;
      }
      object = Object.getPrototypeOf(object) as object | null;
    }
    types.delete(type);
    // Methods only (a property that is no function is no handler), read only for near names.
    const near = [...types].filter((candidate) => distance(candidate.toLowerCase(), type.toLowerCase()) <= 2 && findHandler(target, candidate) !== undefined);
    return closest(type, near);
  } catch {
    return undefined;
  }
}

/**
 * The `nearMiss` a peer's "no handler" reply names, if it is believable: a user message type
 * within 2 edits of the `type` sent. A peer's reply is untrusted: anything else (another value,
 * a long text to put in the sender's error message) is dropped, and the error says no more.
 */
export function peerNearMiss(data: Record<string, unknown> | undefined, type: string): string | undefined {
  const nearMiss = data?.nearMiss;
  if (typeof nearMiss !== 'string' || nearMiss === type || checkUserType(nearMiss) !== undefined) return undefined;
  return distance(nearMiss.toLowerCase(), type.toLowerCase()) <= 2 ? nearMiss : undefined;
}

/** True for errors from `handlerNotFound`, thrown or returned by `routeUserMessage()`. */
export function isHandlerNotFound(error: unknown): error is NoHandlerError {
  // No `instanceof`: on a thrown revoked Proxy it throws. A WeakSet lookup runs no user code.
  return routingMisses.has(error as Error);
}

export interface RoutedMessage {
  readonly type: string;
  readonly payload: unknown;
  readonly isRequest: boolean;
  readonly hasHandler: boolean;
  respondWith(reply: unknown): void;
}

/**
 * Returns the reply (a value or a promise), or a routing miss (`isHandlerNotFound()`: returned,
 * not thrown, a throw per message being most of a flood's cost) when nothing answers.
 * `target` holds the `_onMessage_<type>` methods; `handlerContext` is their second argument.
 * `emit` reports the message to the receiver's listeners (it completes the event with the
 * sender); the receiver passes it only when someone listens, so the hot path builds nothing.
 */
export function routeUserMessage(
  target: object,
  handlerContext: unknown,
  type: string,
  payload: unknown,
  isRequest: boolean,
  emit: ((message: RoutedMessage) => void) | undefined,
): unknown {
  const handler = findHandler(target, type);
  if (!emit) {
    if (handler) return handler.call(target, payload, handlerContext);
    // A notification's near miss is told by the receiver (a likely misspelling, hostile t64):
    // with no listener, nothing else can have consumed it.
    return routingMiss(target, type);
  }
  let response: { value: unknown } | undefined;
  let isOpen = true;
  const message: RoutedMessage = {
    type,
    payload,
    isRequest,
    hasHandler: handler !== undefined,
    respondWith(reply: unknown) {
      if (!isOpen) throw new InvalidStateError('respondWith() must be called synchronously inside the message listener.');
      if (!isRequest) throw new InvalidStateError(`"${type}" was sent with notify(): there is no one to respond to.`);
      if (handler) throw new InvalidStateError(`"${type}" is answered by its _onMessage_${type} method; respondWith() is for messages without one.`);
      if (response) throw new InvalidStateError(`respondWith() was already called for this "${type}" message.`);
      response = { value: reply };
    },
  };
  emit(message);
  isOpen = false;
  if (handler) return handler.call(target, payload, handlerContext);
  if (response) return response.value;
  // A notification nobody handles is not an error (a broadcast only some workers handle), and a
  // listener may have consumed it: no lookup.
  return isRequest ? routingMiss(target, type) : kPlainMiss;
}
