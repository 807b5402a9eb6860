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

/**
 * What `await value` would settle to, for a value user code returned that nobody awaits (a
 * notification handler's, a listener's, a callback's): a thenable settles once, so its second
 * reject is no second failure, and a `then` that throws as it is read (a getter, a Proxy's trap)
 * or called is a rejection, as `await` makes it (hostile t75 F7, F8: one was reported twice, the
 * other not at all). A native promise comes back as is. Undefined for a value with no `then`
 * function, which `await` takes as it is: no promise made for it, as listeners on the message
 * path often return one (`map.set()`). Never throws; the caller handles the rejection.
 */
export function settleLikeAwait(value: unknown): Promise<unknown> | undefined {
  if ((typeof value !== 'object' || value === null) && typeof value !== 'function') return undefined;
  try {
    if (typeof (value as PromiseLike<unknown>).then !== 'function') return undefined;
    // Promise.resolve reads `then` again and calls it in a job that keeps only the first outcome.
    return Promise.resolve(value);
  } catch (error) {
    // A `then` getter or trap that throws; a native promise whose `constructor` getter throws.
    return Promise.reject(error);
  }
}
