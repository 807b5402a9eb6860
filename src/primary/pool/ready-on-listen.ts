/**
 * Which workers are ready only once they listen (H227). A worker says ready at its `_init()`'s
 * end (a `clusterkit run` script: once its top-level code ran); a script that listens after an
 * async init (`connectDb().then(listen)`) was counted ready, and `/readyz` said 200, while its
 * port refused connections. Once a worker of a slot listened, the slot's later workers wait for
 * their listen too (the rule a reload already applied). Only the slot's own history counts: PM2
 * apps often run a cron on instance 0 with no server while the others listen (retester t25),
 * so another slot's listen says nothing about this one. That wait is a guess from history: when
 * the listen does not come within the ready timeout, the worker is counted ready anyway, with a
 * warning (as PM2 proceeds at `listen_timeout`), not failed. With `waitListen` the user said
 * every worker listens: then a missing listen is a failed start. A slot with no history (the
 * first start, a scale-up) waits only with `waitListen`: a queue consumer never listens.
 */
import { formatElapsed } from '../../duration.js';
import { ListenedAfterReadyError, NotListenedError } from '../../errors.js';
import type { Slot } from './slot.js';
import type { WorkerRecord } from './worker-record.js';

export class ListenHistory {
  #isLateListenTold = false;

  /** Whether a worker forked now for `slot` is ready only once it listens. */
  mustListen(slot: Slot, waitListen: boolean): boolean {
    return waitListen || slot.hasListened;
  }

  noteListen(slot: Slot): void {
    slot.hasListened = true;
  }

  /**
   * The warning for a worker counted ready before it listened, once per primary: the first
   * such listen says what every later one would.
   */
  lateListen(record: WorkerRecord, readyAt: number, now: number): ListenedAfterReadyError | undefined {
    if (this.#isLateListenTold) return undefined;
    this.#isLateListenTold = true;
    const lateMs = Math.max(0, now - readyAt);
    return new ListenedAfterReadyError(
      record.id,
      lateMs,
      `${record.describe()} listened ${formatElapsed(lateMs)} after it was counted ready (it listens after its start-up ended: after its script's top-level code, or its _init()): ` +
        'ready counts, /readyz and status counted it ready meanwhile, while its port refused connections. ' +
        'Its later restarts, scale-ups and reloads wait for their listen; count the first workers ready only once they listen too (option "waitListen").',
    );
  }
}

/**
 * `worker 3 (pid 4242) said it was ready`, or, for a worker whose ready is its script's end
 * (`readyAtLoad`), what happened: it said nothing (retester t25 F, H239).
 */
function readyClause(record: WorkerRecord, readyAtLoad: boolean): string {
  return readyAtLoad ? `${record.describe()} ran its script's top-level code to its end` : `${record.describe()} said it was ready`;
}

/** Why a worker that said ready but did not listen within the ready timeout failed to start. */
export function notListenedReason(record: WorkerRecord, timeoutMs: number, waitListen: boolean, readyAtLoad = false): string {
  const why = waitListen
    ? 'a worker is ready only once it listens (option "waitListen"). A script that does not serve (a queue consumer, a cron job) never listens: run it without that wait (clusterkit run: without --wait-listen; the library: waitListen false)'
    : 'a worker of its slot listened before, so a new one is ready only once it listens too';
  return (
    `${readyClause(record, readyAtLoad)} but did not listen within ${timeoutMs} ms (option "readyTimeoutMs"), so it was killed: ${why}. ` +
    'Raise the option if its listen legitimately comes later; check its output for a listen that never comes. Connections node:cluster had handed it are reset with it.'
  );
}

/**
 * A worker whose slot listened before said it was ready but did not listen within the ready
 * timeout: counted ready anyway (its wait was a guess from its slot's history), told at WARN.
 */
export function notListenedYetWarning(record: WorkerRecord, timeoutMs: number, readyAtLoad = false): NotListenedError {
  return new NotListenedError(
    record.id,
    `${readyClause(record, readyAtLoad)} but did not listen within ${timeoutMs} ms (option "readyTimeoutMs"), although the last worker of its slot listened: it is counted ready anyway, ` +
      'as PM2 proceeds at listen_timeout, and its port may refuse connections until it listens. A worker that listens later than that: raise the option; ' +
      'one that no longer listens at all is fine as it is. To fail a start whose worker does not listen in time, use the option "waitListen".',
  );
}
