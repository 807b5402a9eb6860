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
 * other not at all). A native promise comes back as is. Undefined for a value `await` takes
 * without looking (neither an object nor a function). Never throws; the caller handles the rejection.
 */
export function settleLikeAwait(value: unknown): Promise<unknown> | undefined {
  if ((typeof value !== 'object' || value === null) && typeof value !== 'function') return undefined;
  try {
    return Promise.resolve(value);
  } catch (error) {
    // A native promise whose `constructor` getter throws: Promise.resolve reads it first.
    return Promise.reject(error);
  }
}
