/**
 * What runs as a `_destroy`, as the lines about it name it. The service runner's workers and
 * primary have no `_destroy` their user wrote: theirs runs `onWorkerShutdown`, or waits for
 * `onPrimaryShutdown` (and any other callback still pending). A line that said `_destroy() did
 * not finish` sent its reader looking for a method they never wrote (retest t72 N5, H694).
 */

/** The names a worker may give its `_destroy` in `$destroyFailed` (checked on arrival: anything else is refused). */
export const kWorkerDestroyHooks = ['onWorkerShutdown'] as const;
export type WorkerDestroyHook = (typeof kWorkerDestroyHooks)[number];

const names = new WeakMap<object, () => string>();

/** `owner`'s `_destroy` runs what `name()` says (called when a line is written: the callbacks pending then). */
export function nameDestroyHook(owner: object, name: () => string): void {
  names.set(owner, name);
}

/** What `owner`'s `_destroy` runs, as a call (`onWorkerShutdown`); `_destroy` unless named. */
export function destroyHookOf(owner: object): string {
  return names.get(owner)?.() ?? '_destroy';
}

export function isWorkerDestroyHook(value: unknown): value is WorkerDestroyHook {
  return (kWorkerDestroyHooks as readonly unknown[]).includes(value);
}
