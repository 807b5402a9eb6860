/**
 * Which worker a call means: a `WorkerHandle` or a worker id given to `send()`, `notify()`,
 * `stopWorker()`, or the pick of `roundRobin()`. A handle from another primary is refused.
 */
import { InvalidArgumentError, NoWorkerAvailableError, receivedClause } from '../../errors.js';
import { recordOf } from './worker-handle.js';
import { workerNameArgument } from '../../validate.js';
import { kMaxTagLength } from './round-robin.js';
import type { WorkerPool } from './worker-pool.js';
import type { WorkerRecord } from './worker-record.js';

/**
 * The record of `worker` (a handle or an id) in `pool`, exited or not.
 * @param argument The caller's name for it, said in an InvalidArgumentError.
 * @throws InvalidArgumentError for a handle of another primary, a non-handle, or a number that
 *   cannot be a worker id (NaN, 1.5, -1: cluster ids are positive integers);
 *   NoWorkerAvailableError for an id no live worker has.
 */
export function resolveWorker(pool: WorkerPool, worker: unknown, argument = 'worker'): WorkerRecord {
  if (typeof worker === 'number' && !(Number.isSafeInteger(worker) && worker > 0)) {
    throw new InvalidArgumentError(`The "${argument}" argument must be a WorkerHandle from this primary or a worker id (a positive integer, such as handle.id). ${receivedClause(worker)}.`);
  }
  const record = typeof worker === 'number' ? pool.record(worker) : recordOf(worker);
  if (record && record.owner === pool) return record;
  if (recordOf(worker)) throw new InvalidArgumentError(`The "${argument}" argument is a WorkerHandle of another ClusterPrimary; it does not belong to this primary.`);
  if (typeof worker === 'number') {
    throw new NoWorkerAvailableError(`No live worker with id ${worker} belongs to this primary. It may have exited; use primary.workers for the current ones.`);
  }
  throw new InvalidArgumentError(`The "${argument}" argument must be a WorkerHandle from this primary (or a worker id). ${receivedClause(worker)}.`);
}

/**
 * The ready worker least recently picked under `tag` (each tag rotates on its own), among
 * those forked with `role` in their `roles` when given. A silent worker (its event loop most
 * likely blocked, silence.ts) is passed over while one of the others is not silent; when all
 * are, one of them is picked as before (a request to it then waits for its reply or timeout).
 * Nothing is logged per pick: the heartbeat says the silence once (`workerSilent`).
 * @throws NoWorkerAvailableError when no worker (with that role) is ready.
 * @throws InvalidArgumentError for a `tag` that is not a string or is longer than
 *   kMaxTagLength (1024) characters, a `role` no worker can have.
 */
export function pickWorker(pool: WorkerPool, options: { tag?: string; role?: string }): WorkerRecord {
  const tag = options.tag ?? 'default';
  if (typeof tag !== 'string') throw new InvalidArgumentError(`The "tag" must be a string. ${receivedClause(tag)}.`);
  // Bounded, as each tag in use is kept (up to kMaxRotations of them): unbounded, 1024 tags of 1 MiB kept about 1 GB (hostile t84 #3, H742).
  // Refused rather than hashed: a hash on each pick costs every caller, and a tag this long is most likely not the key meant.
  if (tag.length > kMaxTagLength) {
    throw new InvalidArgumentError(`The "tag" given to roundRobin() is ${tag.length} characters long; a tag is at most ${kMaxTagLength}: it names a rotation (a queue, a tenant) kept while in use. Pass a shorter tag, such as a hash of this one.`);
  }
  // A role no worker can have is the caller's mistake, not a worker missing (H356).
  if (options.role !== undefined) workerNameArgument(options.role, 'The "role"', 'role');
  const now = Date.now();
  const record = pool.rotation.pick(tag, options.role, (candidate) => pool.isSilent(candidate, now));
  if (record) return record;
  // Not "check that start() succeeded" (retest t64): the shutdown is why.
  if (pool.isClosed) throw new NoWorkerAvailableError(`No ready worker to pick${options.role === undefined ? '' : ` with role '${options.role}'`}: the primary is shutting down (or has shut down), and its workers take no new work.`);
  if (options.role === undefined) {
    throw new NoWorkerAvailableError(`No ready worker to pick (${pool.size} live worker(s)). Wait for "workerReady", or check that start() succeeded.`);
  }
  throw new NoWorkerAvailableError(
    `No ready worker with role '${options.role}' to pick (${pool.size} live worker(s)). Fork workers with fork({ roles: ['${options.role}'] }), or wait for "workerReady".`,
  );
}
