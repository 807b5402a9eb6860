/**
 * `$openRequests`: the requests a worker's tracked servers have open, told as they change, at
 * most about 10 times a second (worker/tracked-servers.ts). Kept on its record
 * (`WorkerRecord.openSaid`) for `lostRequests()`: a worker killed for a blocked event loop is
 * counted with the request that blocked it, which no heartbeat answer saw. A heartbeat answer
 * read after it is newer and replaces it (primary-heartbeat.ts `#placeAnswer`). Above
 * `kMaxOpenRequests` a count is dropped (`out-of-range`), as in every other notice.
 */
import { hasPlausibleOpenRequests, isExitingPayload, kOpenRequestsNotice } from '../../messaging/system-types.js';
import type { PrimaryContext } from '../primary-context.js';

export function registerOpenRequestsNotice({ system }: Pick<PrimaryContext, 'system'>): void {
  system.register(kOpenRequestsNotice, {
    kind: 'notification',
    // The same `{ openRequests }` as `$exiting`: a count, checked as one.
    check: isExitingPayload,
    // As every count a worker claims: above kMaxOpenRequests, dropped as out-of-range (H122).
    inRange: hasPlausibleOpenRequests,
    handle: ({ openRequests, idleConnections }, record) => {
      record.openSaid = openRequests;
      record.idleSaid = idleConnections;
      record.openSaidArrival = record.noteArrival();
    },
  });
}
