/**
 * Which workers are ready only once they listen (H227). A worker says ready at its `_init()`'s
 * end (a `clusterkit run` script: once its top-level code ran); a script that listens after an
 * async init (`connectDb().then(listen)`) was counted ready, and `/readyz` said 200, while its
 * port refused connections. Once a worker of a slot listened, the slot's later workers must
 * listen too (the rule a reload already applied), and so must unnamed workers of the same roles and env
 * (a scale-up of `clusterkit run`'s identical workers). The first workers wait only with
 * `waitListen`: nothing tells yet whether they listen at all (a queue consumer never does).
 */
import { formatElapsed } from '../../duration.js';
import { ListenedAfterReadyError } from '../../errors.js';
import type { Slot, SlotSpec } from './slot.js';
import type { WorkerRecord } from './worker-record.js';

export class ListenHistory {
  /** The roles of unnamed workers that listened: such workers are alike (round-robin picks among them). */
  readonly #kinds = new Set<string>();
  #isLateListenTold = false;

  /** Whether a worker forked now for `slot` is ready only once it listens. */
  mustListen(slot: Slot, waitListen: boolean): boolean {
    if (waitListen || slot.hasListened) return true;
    const kind = kindOf(slot.spec);
    return kind !== undefined && this.#kinds.has(kind);
  }

  noteListen(slot: Slot): void {
    slot.hasListened = true;
    const kind = kindOf(slot.spec);
    if (kind !== undefined) this.#kinds.add(kind);
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
 * Unnamed workers of the same roles and environment share a kind (`clusterkit run`'s are all
 * alike); a named one is alone in its slot. A library's `fork({ env })` for other work is not
 * held to its siblings' listen.
 */
function kindOf(spec: SlotSpec): string | undefined {
  if (spec.name !== undefined) return undefined;
  return JSON.stringify([[...spec.roles].sort(), Object.entries(spec.env).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))]);
}

/** Why a worker that said ready but did not listen within the ready timeout failed to start. */
export function notListenedReason(record: WorkerRecord, timeoutMs: number, waitListen: boolean): string {
  const why = waitListen
    ? 'a worker is ready only once it listens (option "waitListen")'
    : 'a worker of its slot (or one alike) listened before, so a new one is ready only once it listens too';
  return (
    `${record.describe()} said it was ready but did not listen within ${timeoutMs} ms (option "readyTimeoutMs"), so it was killed: ${why}. ` +
    'Raise the option if its listen legitimately comes later; check its output for a listen that never comes. Connections node:cluster had handed it are reset with it.'
  );
}
