/**
 * The notices a worker sends while it stops: `$drain` (how many requests its tracked servers
 * still have open, so a forced stop can say what it cut) and `$destroyFailed` (its `_destroy`
 * missed the worker's own deadline, or threw; it exits 1 next).
 *
 * Only a worker the primary is stopping sends them (a worker stopping on its own, after a
 * signal sent to it alone, does not: nobody waits for its stop). From any other worker they
 * are protocol errors, dropped and counted: a running worker that claims its `_destroy` timed
 * out must not be reported as exiting.
 */
import { capitalize } from '../../capitalize.js';
import { RemoteError } from '../../errors.js';
import { isDestroyFailedPayload, isDrainPayload, kDestroyFailedNotice, kDrainNotice } from '../../messaging/system-types.js';
import type { PrimaryContext } from '../primary-context.js';
import type { WorkerRecord } from './worker-record.js';

export function registerStopNotices({ system, emit }: Pick<PrimaryContext, 'system' | 'emit'>): void {
  system.register(kDrainNotice, {
    kind: 'notification',
    check: isDrainPayload,
    when: isStopping,
    handle: ({ openRequests }, record) => {
      record.openRequests = openRequests;
    },
  });
  system.register(kDestroyFailedNotice, {
    kind: 'notification',
    check: isDestroyFailedPayload,
    when: isStopping,
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

function isStopping(record: WorkerRecord): boolean {
  return record.state === 'stopping';
}
