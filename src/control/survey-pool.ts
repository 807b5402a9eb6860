/**
 * The pool a survey asks its sockets through (control-client.ts): at most `limit` connections
 * open at once, results in the order of the names. Pure scheduling: `ask` does the I/O.
 *
 * Two phases. For `timeoutMs` each name gets a full ask (`ask(name, timeoutMs)`). Once that time
 * is up, a name whose turn comes gets a quick ask (`quickMs`, `quickLimit` at once): live primaries answer in
 * milliseconds, so 32 sockets that never answer no longer hide the healthy clusters sorted after
 * them (H89). At twice `timeoutMs` nothing more starts: the names left get `notAsked(name)`.
 *
 * A connection this process could not open for want of descriptors (EMFILE, ENFILE) is tried
 * again once another connection of the pool closes and frees one, within the same time (H90);
 * before, every name after the first EMFILE was reported EMFILE without being tried.
 */

export interface SurveyPoolOptions<R> {
  /** Connections open at once during the full asks. */
  readonly limit: number;
  /** Connections open at once once the full asks' time is up (quick asks hold theirs briefly). */
  readonly quickLimit: number;
  /** How long a full ask waits, and how long full asks start (ms). */
  readonly timeoutMs: number;
  /** How long a quick ask waits (ms). */
  readonly quickMs: number;
  /** One request; must not reject. */
  ask(name: string, timeoutMs: number): Promise<R>;
  /** Whether `result` says this process ran out of descriptors (worth a retry once one frees). */
  isOutOfDescriptors(result: R): boolean;
  /** The result of a name never tried. */
  notAsked(name: string): R;
  /** Each result as it comes (a watch draws the healthy clusters before the slow ones end). */
  onResult?(name: string, result: R): void;
  /** Once aborted, nothing more starts (`ask` must end its own requests on it). */
  readonly signal?: AbortSignal | undefined;
}

export function surveyPool<R>(names: readonly string[], options: SurveyPoolOptions<R>): Promise<R[]> {
  const results = new Array<R>(names.length);
  const queue = names.map((_, index) => index);
  // The last out-of-descriptors result of a name waiting for a retry: what it gets if time runs out.
  const starved = new Map<number, R>();
  let open = 0;
  let phase: 'full' | 'quick' | 'over' = 'full';
  // A retry waits until some connection closes: until then, starting another would fail alike.
  let isWaitingForSlot = false;
  return new Promise((resolve) => {
    const finish = (index: number, result: R): void => {
      results[index] = result;
      options.onResult?.(names[index]!, result);
    };
    const pump = (): void => {
      if (phase === 'over') for (const index of queue.splice(0)) finish(index, starved.get(index) ?? options.notAsked(names[index]!));
      while (!isWaitingForSlot && open < (phase === 'full' ? options.limit : options.quickLimit) && queue.length > 0) {
        const index = queue.shift()!;
        open++;
        void options.ask(names[index]!, phase === 'full' ? options.timeoutMs : options.quickMs).then((result) => {
          open--;
          if (options.isOutOfDescriptors(result) && open > 0) {
            starved.set(index, result);
            queue.unshift(index);
            isWaitingForSlot = true;
          } else {
            isWaitingForSlot = false;
            starved.delete(index);
            finish(index, result);
          }
          pump();
        });
      }
      if (open === 0 && queue.length === 0) {
        clearTimeout(quick);
        clearTimeout(over);
        options.signal?.removeEventListener('abort', onAbort);
        resolve(results);
      }
    };
    // Timers, not clock reads, set before any request's own timer of the same length: they fire
    // first, so a slot freed by a timeout never starts a request of the phase that is over.
    const quick = setTimeout(() => {
      phase = 'quick';
      pump();
    }, options.timeoutMs);
    const over = setTimeout(() => {
      phase = 'over';
      pump();
    }, 2 * options.timeoutMs);
    const onAbort = (): void => {
      phase = 'over';
      pump();
    };
    if (options.signal?.aborted) phase = 'over';
    else options.signal?.addEventListener('abort', onAbort, { once: true });
    pump();
  });
}
