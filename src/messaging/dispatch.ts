/**
 * The only place that maps a message type to a handler method. Only methods named
 * `_onMessage_<type>` are ever called, so a type such as `__proto__`, `constructor` or
 * `toString` can never reach a built-in: the prefixed name does not exist on any prototype.
 */
import { NoHandlerError } from '../errors.js';

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

/** The error to throw when nothing handles `type`. */
export function handlerNotFound(type: string, receiver: string): NoHandlerError {
  const error = new NoHandlerError(type, receiver);
  routingMisses.add(error);
  return error;
}

/** True for errors from `handlerNotFound`. */
export function isHandlerNotFound(error: unknown): boolean {
  // No `instanceof`: on a thrown revoked Proxy it throws. A WeakSet lookup runs no user code.
  return routingMisses.has(error as Error);
}
