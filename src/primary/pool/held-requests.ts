/**
 * Bounds what the primary holds on a worker's behalf: the system requests it has not answered
 * yet because their answer waits on something else (a `$relay` waits for its target's reply, or
 * for room at a busy target; a `$sync` in a shutdown waits for the cluster to stop accepting).
 *
 * A worker's own endpoint holds it to `maxPending` requests in flight, but that bound lives in
 * the worker: one that writes clusterkit's records with `process.send()` skips it, and each
 * forged `$relay` used to be queued at its target without bound (1 000 000 copies of a 100-byte
 * record took the primary's heap to 1.5 GB). Here, at most `limit` (`maxPendingPerWorker`) of
 * one worker's relays are held at once: one more is refused at once with
 * `BackpressureError` (an error reply, so a legitimate sender learns why), and reported as a
 * `too-many-requests` protocol error, rate-limited per worker. A worker whose `maxPending` is at
 * most the primary's `maxPendingPerWorker` never reaches it: the primary releases a request
 * before its answer leaves, and the worker frees a relay's slot only when that answer comes, not
 * at its own timeout (H472: it sent its next relays while the primary still held the old ones).
 *
 * A request with the id of one of the worker's requests still held is a duplicate (clusterkit
 * numbers its requests and never reuses an id it waits on): it is dropped unanswered (an answer
 * would settle the first one's wait in the worker) and reported as `duplicate-id`.
 *
 * User requests to the primary's handlers are not counted here: what they hold is the handler's
 * (a handler that never settles holds nothing of clusterkit's), and the set of ids would cost
 * every request of the hot path. Requests answered at once (store operations) hold nothing and
 * are never refused: only the types whose answer may wait count against a bound, each type its
 * own. A `$sync` is what a stopping worker needs for a correct stop (no connection handed to it
 * after it exits): it has a bound of its own, `kMaxHeldSyncs`, and is never refused because the
 * worker's relays filled `maxPendingPerWorker` (H265: refused, it was blamed as a protocol breach).
 */
import { stackless } from '../../stackless.js';
import { BackpressureError, type ProtocolProblem } from '../../errors.js';
import { kNoReply } from '../../messaging/inbound.js';
import { kRelayRequest, kSyncRequest } from '../../messaging/system-types.js';
import type { WorkerRecord } from './worker-record.js';

/** Routes one system request or notification from a worker; returns the reply (see SystemRouter.route). */
export type SystemRoute = (record: WorkerRecord, type: string, payload: unknown, isRequest: boolean) => unknown;

/**
 * How many `$sync` of one worker the primary holds at once. A stop sends one at a time, at most
 * two in all (before it releases its keep-alive clients, and after its drain), and the first may
 * still be held when the second comes (the worker gave up waiting for it).
 */
export const kMaxHeldSyncs = 4;

export class HeldRequests {
  /** Per worker, the ids of its system requests whose answers are pending; an entry goes with its last request. */
  readonly #held = new Map<WorkerRecord, Set<number>>();
  /** Per worker, how many of its held requests each bounded type has. */
  readonly #counts = new Map<WorkerRecord, Map<string, number>>();
  /** The worker-to-primary system requests whose answer may wait on something else, each with its bound. */
  readonly #limits: ReadonlyMap<string, number>;
  readonly #report: (record: WorkerRecord, problem: ProtocolProblem, type: string) => void;

  constructor(limit: number, report: (record: WorkerRecord, problem: ProtocolProblem, type: string) => void) {
    this.#limits = new Map([
      [kRelayRequest, limit],
      [kSyncRequest, kMaxHeldSyncs],
    ]);
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
    const limit = this.#limits.get(type);
    const counts = this.#counts.get(record);
    if (limit !== undefined && (counts?.get(type) ?? 0) >= limit) {
      this.#report(record, 'too-many-requests', type);
      // A refusal answered to the worker: no frames of ours (a flood of forged relays, hostile t64).
      throw stackless(() => new BackpressureError(record.describe(), limit, undefined, 'maxPendingPerWorker', type));
    }
    const result = route(record, type, payload, isRequest);
    // System handlers return native promises: anything else was answered at once and holds nothing.
    if (!(result instanceof Promise)) return result;
    const ids = held ?? new Set<number>();
    if (!held) this.#held.set(record, ids);
    ids.add(id);
    const typeCounts = limit === undefined ? undefined : (counts ?? new Map<string, number>());
    if (typeCounts) {
      if (!counts) this.#counts.set(record, typeCounts);
      typeCounts.set(type, (typeCounts.get(type) ?? 0) + 1);
    }
    const release = (): void => {
      ids.delete(id);
      if (ids.size === 0 && this.#held.get(record) === ids) this.#held.delete(record);
      if (!typeCounts) return;
      const left = typeCounts.get(type)! - 1;
      if (left > 0) typeCounts.set(type, left);
      else typeCounts.delete(type);
      if (typeCounts.size === 0 && this.#counts.get(record) === typeCounts) this.#counts.delete(record);
    };
    return result.finally(release);
  }
}
