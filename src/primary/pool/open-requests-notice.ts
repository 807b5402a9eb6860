/**
 * `$openRequests`: the requests a worker's tracked servers have open, told as they change, at
 * most about 10 times a second (worker/tracked-servers.ts). Kept on its record
 * (`WorkerRecord.openSaid`) for `lostRequests()`: a worker killed for a blocked event loop is
 * counted with the request that blocked it, which no heartbeat answer saw. A heartbeat answer
 * read after it is newer and replaces it (primary-heartbeat.ts `#placeAnswer`). Above
 * `kMaxOpenRequests` a count is dropped (`out-of-range`), as in every other notice.
 *
 * `$ownClose`: the worker's own code closes its channel now; its exit code 0 then says its drain
 * cut nothing (`WorkerRecord.hasDrainedAfterOwnClose`, H536).
 */
import { type ExitingPayload, hasPlausibleOpenRequests, isExitingPayload, isNoPayload, kOpenRequestsNotice, kOwnCloseNotice } from '../../messaging/system-types.js';
import type { PrimaryContext } from '../primary-context.js';
import type { WorkerRecord } from './worker-record.js';

export function registerOpenRequestsNotice({ system }: Pick<PrimaryContext, 'system'>): void {
  system.register(kOpenRequestsNotice, {
    kind: 'notification',
    // The same `{ openRequests }` as `$exiting`: a count, checked as one.
    check: isExitingPayload,
    // As every count a worker claims: above kMaxOpenRequests, dropped as out-of-range (H122).
    inRange: hasPlausibleOpenRequests,
    handle: (payload, record) => noteOpenSaid(record, payload),
  });
  // Once (the channel closes once). Also during a stop the primary asked for: its `$stopped`
  // cannot come after the close, and its exit code says how it ended (stop-worker.ts `isStopUnfinished`).
  system.register(kOwnCloseNotice, {
    kind: 'notification',
    // What is open at the close, from a worker with tracked servers; none from one without.
    check: (payload: unknown): payload is ExitingPayload | undefined => isNoPayload(payload) || isExitingPayload(payload),
    inRange: (payload) => payload === undefined || hasPlausibleOpenRequests(payload),
    when: (record) => record.ownCloseAt === undefined,
    handle: (payload, record) => {
      record.ownCloseAt = Date.now();
      if (payload !== undefined) noteOpenSaid(record, payload);
    },
  });
}

/** Keeps a worker's own count of what its servers have open, with where it arrived among its words. */
function noteOpenSaid(record: WorkerRecord, { openRequests, idleConnections }: ExitingPayload): void {
  record.openSaid = openRequests;
  record.idleSaid = idleConnections;
  record.openSaidArrival = record.noteArrival();
}
