/**
 * The messages a worker sends while it stops: `$drain` (how many requests its tracked servers
 * still have open, so a forced stop can say what it cut), `$sync` (a round trip behind its
 * servers' close, so no connection is handed to it after it exits) and `$destroyFailed` (its
 * `_destroy` missed the worker's own deadline, or threw; it exits 1 next).
 */
import { capitalize } from '../../capitalize.js';
import { RemoteError } from '../../errors.js';
import { isDestroyFailedPayload, isDrainPayload, isNoPayload, kDestroyFailedNotice, kDrainNotice, kSyncRequest } from '../../messaging/system-types.js';
import type { PrimaryContext } from '../primary-context.js';

export function registerStopNotices({ system, emit }: Pick<PrimaryContext, 'system' | 'emit'>): void {
  system.register(kDrainNotice, {
    kind: 'notification',
    check: isDrainPayload,
    handle: ({ openRequests }, record) => {
      record.openRequests = openRequests;
    },
  });
  // Answered at once: the answer travels behind any connection Node handed the worker before
  // we read its servers' close (see kSyncRequest).
  system.register(kSyncRequest, { kind: 'request', check: isNoPayload, handle: () => undefined });
  system.register(kDestroyFailedNotice, {
    kind: 'notification',
    check: isDestroyFailedPayload,
    handle: (payload, record) => {
      if ('timeoutMs' in payload) {
        emit('workerDestroyTimeout', { worker: record.handle, timeoutMs: payload.timeoutMs });
        return;
      }
      const { name, message } = payload.error;
      const error = new RemoteError('_destroy', record.describe(), payload.error, `${capitalize(record.describe())} did not stop cleanly: its _destroy() threw ${name}: ${message}`);
      emit('workerError', { worker: record.handle, error });
    },
  });
}
