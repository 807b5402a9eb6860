/**
 * New connections pass a silent worker over (H378). With round-robin scheduling (node:cluster's
 * default but on Windows) the primary accepts every connection and hands it to the first worker
 * of the port's `RoundRobinHandle` that is free (its `free` map): one whose event loop is blocked
 * took its turn like any other, and its connection waited in its channel until it answered or the
 * heartbeat killed it (requests waiting up to 9.8 s, then reset), while the primary's line said
 * the worker was silent (retest M2).
 *
 * Here, once the heartbeat reports a worker silent (`markSilent`, silence.ts: the one definition)
 * it is taken out of the `free` map of every round-robin handle it listens on, and node:cluster's
 * `handoff` parks it instead of putting it back: the connections go to the other workers. When it
 * answers again (`markAnswering`) it is handed back to each handle (`handoff`: the next queued
 * connection, or the `free` map). What node:cluster does not know stays as it was:
 * - while every worker of the handle is silent, they take connections as before (queued for them,
 *   never dropped): a silent worker is passed over only while another of the handle answers; a
 *   worker that joins the handle, or one that answers, makes the silent ones parked again;
 * - the connection it was handed before it stopped (one at a time: node:cluster hands the next
 *   once the last is acknowledged) waits for it, as before, and is closed with it if it is killed
 *   (handoff-guard.ts);
 * - a worker leaving the handle (its server closed, it exited) is forgotten with it (`remove`):
 *   the connections queued go to the others, as node:cluster does.
 * A worker whose process exited is passed over always (`markExited`), until node:cluster removes
 * it: a connection handed to it would wait for a process that is gone.
 * The check on the accept path is a lookup in a set (`silentWorkers`) made for the worker
 * node:cluster picked: the silence is computed by the heartbeat, once per interval.
 *
 * Applied only when the handle has the shape of Node 20's lib/internal/cluster/round_robin_handle.js
 * (`all`, `free` maps, `add`, `remove`, `handoff`); otherwise connections go as node:cluster hands
 * them. With `SCHED_NONE` every worker accepts from the shared socket itself: the kernel, not the
 * primary, picks the one that accepts, and a blocked worker accepts nothing but what its backlog
 * queued already; nothing is steered.
 */
import type { Worker as ClusterWorker } from 'node:cluster';
// `node:util/types`, not `node:util`: the latter loads its lazy parts (parseArgs, MIME) at import (start-modules.test.ts).
import { isMap } from 'node:util/types';

/** node:cluster's `RoundRobinHandle`, what is used of it here. */
interface RoundRobinHandle {
  all: Map<number, ClusterWorker>;
  free: Map<number, ClusterWorker>;
  add(worker: ClusterWorker, ...rest: unknown[]): unknown;
  remove(worker: ClusterWorker): boolean;
  handoff(worker: ClusterWorker): void;
}

function isRoundRobinHandle(value: unknown): value is RoundRobinHandle {
  if (typeof value !== 'object' || value === null) return false;
  const handle = value as Partial<Record<keyof RoundRobinHandle, unknown>>;
  return (
    // node:cluster's realm's maps (`SafeMap`): not `instanceof` this realm's `Map` under a vm context.
    isMap(handle.all) &&
    isMap(handle.free) &&
    typeof handle.add === 'function' &&
    typeof handle.remove === 'function' &&
    typeof handle.handoff === 'function'
  );
}

/** The node:cluster workers the heartbeat reports silent now (every primary of the process). */
const silentWorkers = new WeakSet<object>();
/**
 * The node:cluster workers whose process exited (every primary of the process): passed over
 * always, even when no other worker of the handle answers (a connection queued for the next
 * worker is served; one handed to a dead process is not). node:cluster keeps such a worker in its
 * handles until its channel ends, which a process it started holding the channel delays for good
 * (worker-pool.ts closes the channel then).
 */
const exitedWorkers = new WeakSet<object>();
/** The round-robin handles steered, until node:cluster drops them (their last worker gone). */
const steers = new Set<RoundRobinSteer>();

/** The heartbeat reported `worker` silent: new connections pass it over while another worker of the port answers. */
export function markSilent(worker: ClusterWorker): void {
  if (silentWorkers.has(worker)) return;
  silentWorkers.add(worker);
  for (const steer of steers) steer.rebalance();
}

/** `worker`'s process exited: no round-robin handle hands it a connection any more. */
export function markExited(worker: ClusterWorker): void {
  if (exitedWorkers.has(worker)) return;
  exitedWorkers.add(worker);
  for (const steer of steers) steer.rebalance();
}

/** `worker`, reported silent, answered again: it takes connections again. */
export function markAnswering(worker: ClusterWorker): void {
  if (!silentWorkers.delete(worker)) return;
  for (const steer of steers) steer.rebalance();
}

/** True while new connections are steered away from `worker` (reported silent, not answering since). */
export function isSteeredAway(worker: ClusterWorker): boolean {
  return silentWorkers.has(worker);
}

/** True when `worker` holds a round-robin handle steered here: new connections pass it over while it is silent. */
export function isOnSteeredPort(worker: ClusterWorker): boolean {
  for (const steer of steers) if (steer.holds(worker)) return true;
  return false;
}

class RoundRobinSteer {
  /** Silent workers of the handle held out of its `free` map, by id. */
  readonly #parked = new Map<number, ClusterWorker>();

  constructor(
    private readonly handle: RoundRobinHandle,
    private readonly handoff: (worker: ClusterWorker) => void,
  ) {}

  holds(worker: ClusterWorker): boolean {
    return this.handle.all.get(worker.id) === worker;
  }

  /** True when a worker of the handle other than `except` is not silent. */
  #isAnyAnswering(except?: ClusterWorker): boolean {
    for (const worker of this.handle.all.values()) if (worker !== except && !silentWorkers.has(worker) && !exitedWorkers.has(worker)) return true;
    return false;
  }

  /** node:cluster's `handoff(worker)`: a silent worker is parked while another answers. */
  handoffSteered(worker: ClusterWorker): void {
    if ((exitedWorkers.has(worker) || (silentWorkers.has(worker) && this.#isAnyAnswering(worker))) && this.handle.all.has(worker.id)) {
      this.#parked.set(worker.id, worker);
      return;
    }
    this.handoff.call(this.handle, worker);
  }

  /** `worker` left the handle: nothing is kept of it; the workers parked get connections again if none answers now. */
  removed(worker: ClusterWorker, isDropped: boolean): void {
    this.#parked.delete(worker.id);
    if (isDropped) {
      this.#parked.clear();
      steers.delete(this);
    } else this.rebalance();
  }

  /**
   * Silent workers out of `free` while another worker answers; the others (or every one, when
   * none answers) handed back to node:cluster's `handoff`.
   */
  rebalance(): void {
    const isAnyAnswering = this.#isAnyAnswering();
    for (const [id, worker] of this.handle.free) {
      if (!exitedWorkers.has(worker) && !(isAnyAnswering && silentWorkers.has(worker))) continue;
      this.handle.free.delete(id);
      this.#parked.set(id, worker);
    }
    for (const [id, worker] of this.#parked) {
      if (exitedWorkers.has(worker) || (isAnyAnswering && silentWorkers.has(worker))) continue;
      this.#parked.delete(id);
      this.handoff.call(this.handle, worker);
    }
  }
}

/**
 * Steers node:cluster's round-robin handle `value` (caught as it is created,
 * round-robin-intake.ts `captureRoundRobinServer`) away from silent workers. Returns false, and
 * leaves it alone, when it has not the expected shape.
 */
export function steerRoundRobin(value: unknown): boolean {
  if (!isRoundRobinHandle(value)) return false;
  const handle = value;
  const { add, remove, handoff } = handle;
  const steer = new RoundRobinSteer(handle, handoff);
  // Own properties: `this.handoff(worker)` in node:cluster's `add`, `distribute` and its
  // acknowledgement callback find them first.
  handle.handoff = function handoffSteered(this: RoundRobinHandle, worker: ClusterWorker): void {
    steer.handoffSteered(worker);
  };
  handle.remove = function removeSteered(this: RoundRobinHandle, worker: ClusterWorker): boolean {
    const isDropped = remove.call(this, worker);
    steer.removed(worker, isDropped);
    return isDropped;
  };
  handle.add = function addSteered(this: RoundRobinHandle, worker: ClusterWorker, ...rest: unknown[]): unknown {
    const result = add.call(this, worker, ...rest);
    // A worker that answers joined: the silent ones in `free` (every one was) are parked.
    steer.rebalance();
    return result;
  };
  steers.add(steer);
  return true;
}
