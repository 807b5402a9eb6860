/**
 * Any thrown value as an `Error`, for the places that report or emit it. Never throws: this runs
 * on paths (an IPC listener, an emit, a shutdown) where a throw would kill the process, and
 * anything can be thrown (an Error whose `message` getter throws, a revoked Proxy...). A
 * readable Error is kept as it is; anything else becomes a new Error saying what could be
 * read, with the value as its `cause` (see readable-error.ts).
 * @param context Starts the new error's message, such as `A listener of "x" threw`.
 */
import { toReadableError } from './readable-error.js';

export function toError(value: unknown, context?: string): Error {
  return toReadableError(value, context);
}
