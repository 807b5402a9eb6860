/**
 * Whether `value` is a promise or another thenable, read so that it never throws: a handler's
 * or callback's result may be anything, a Proxy whose traps throw included. Read directly
 * rather than through readProperty(): the message path calls it for every reply.
 */
export function isThenable(value: unknown): value is PromiseLike<unknown> {
  if ((typeof value !== 'object' || value === null) && typeof value !== 'function') return false;
  try {
    return typeof (value as PromiseLike<unknown>).then === 'function';
  } catch {
    return false;
  }
}
