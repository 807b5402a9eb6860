/**
 * Bounds what the primary holds on a worker's behalf: the system requests it has not answered
 * yet because their answer waits on something else (a `$relay` waits for its target's reply, or
 * for room at a busy target; a `$sync` in a shutdown waits for the cluster to stop accepting).
 *
 * A worker's own endpoint holds it to `maxPending` requests in flight, but that bound lives in
 * the worker: one that writes clusterkit's records with `process.send()` skips it, and each
 * forged `$relay` used to be queued at its target without bound (1 000 000 copies of a 100-byte
 * record took the primary's heap to 1.5 GB). Here, at most `limit` (`maxPendingPerWorker`) of
 * one worker's system requests are held at once: one more is refused at once with
 * `BackpressureError` (an error reply, so a legitimate sender learns why), and reported as a
 * `too-many-requests` protocol error, rate-limited per worker. A worker whose `maxPending` is at
 * most the primary's `maxPendingPerWorker` never reaches it: the primary releases a request
 * before its answer leaves, and a relay's forwarded request ends before the sender's timeout.
 *
 * A request with the id of one of the worker's requests still held is a duplicate (clusterkit
 * numbers its requests and never reuses an id it waits on): it is dropped unanswered (an answer
 * would settle the first one's wait in the worker) and reported as `duplicate-id`.
 *
 * User requests to the primary's handlers are not counted here: what they hold is the handler's
 * (a handler that never settles holds nothing of clusterkit's), and the set of ids would cost
 * every request of the hot path. Requests answered at once (store operations) hold nothing and
 * are never refused: only the types whose answer may wait (`kMayWait`) count against the bound.
 */
import { BackpressureError, type ProtocolProblem } from '../../errors.js';
import { kNoReply } from '../../messaging/inbound.js';
import { kRelayRequest, kSyncRequest } from '../../messaging/system-types.js';
import type { WorkerRecord } from './worker-record.js';

/** Routes one system request or notification from a worker; returns the reply (see SystemRouter.route). */
export type SystemRoute = (record: WorkerRecord, type: string, payload: unknown, isRequest: boolean) => unknown;

/** The worker-to-primary system requests whose answer may wait on something else, and so be held. */
const kMayWait: ReadonlySet<string> = new Set([kRelayRequest, kSyncRequest]);

export class HeldRequests {
  /** Per worker, the ids of its system requests whose answers are pending; an entry goes with its last request. */
  readonly #held = new Map<WorkerRecord, Set<number>>();
  readonly #limit: number;
  readonly #report: (record: WorkerRecord, problem: ProtocolProblem, type: string) => void;

  constructor(limit: number, report: (record: WorkerRecord, problem: ProtocolProblem, type: string) => void) {
    this.#limit = limit;
    this.#report = report;
  }

  /** `route` for one message, bounded as the file comment says. */
  route(route: SystemRoute, record: WorkerRecord, type: string, payload: unknown, isRequest: boolean, id: number): unknown {
    if (!isRequest) return route(record, type, payload, isRequest);
    const held = this.#held.get(record);
    if (held?.has(id)) {
      this.#report(record, 'duplicate-id', type);
      return kNoReply;
    }
    if (held && held.size >= this.#limit && kMayWait.has(type)) {
      this.#report(record, 'too-many-requests', type);
      throw new BackpressureError(record.describe(), this.#limit, undefined, 'maxPendingPerWorker', type);
    }
    const result = route(record, type, payload, isRequest);
    // System handlers return native promises: anything else was answered at once and holds nothing.
    if (!(result instanceof Promise)) return result;
    const ids = held ?? new Set<number>();
    if (!held) this.#held.set(record, ids);
    ids.add(id);
    const release = (): void => {
      ids.delete(id);
      if (ids.size === 0 && this.#held.get(record) === ids) this.#held.delete(record);
    };
    return result.finally(release);
  }
}
