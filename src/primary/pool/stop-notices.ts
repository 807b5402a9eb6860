/**
 * The messages a worker sends while it stops: `$drain` (how many requests its tracked servers
 * still have open, so a forced stop can say what it cut), `$sync` (a round trip behind its
 * servers' close, so no connection is handed to it after it exits), `$requestsCut` (it cut
 * requests off at its own deadline, or exited with them open), `$scriptCleanup` (a plain script
 * stops through its own signal listeners) and `$destroyFailed` (its `_destroy`, or a plain
 * script's cleanup, missed the worker's own deadline, or threw; it exits 1 next).
 *
 * Only a worker the primary is stopping sends the notices (a worker stopping on its own, after
 * a signal sent to it alone, does not: nobody waits for its stop). From any other worker they
 * are protocol errors, dropped and counted: a running worker that claims its `_destroy` timed
 * out must not be reported as exiting.
 */
import { capitalize } from '../../capitalize.js';
import { RemoteError } from '../../errors.js';
import {
  isDestroyFailedPayload,
  isDrainPayload,
  isNoPayload,
  isRequestsCutPayload,
  isScriptCleanupPayload,
  kDestroyFailedNotice,
  kDrainNotice,
  kRequestsCutNotice,
  kScriptCleanupNotice,
  kSyncRequest,
} from '../../messaging/system-types.js';
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
  system.register(kRequestsCutNotice, {
    kind: 'notification',
    check: isRequestsCutPayload,
    // Once per stop: a second notice (a forged one) must not count the same requests twice.
    when: (record) => isStopping(record) && record.requestsCut === undefined,
    handle: ({ openRequests, timeoutMs }, record) => {
      record.requestsCut = openRequests;
      emit('workerRequestsCut', timeoutMs === undefined ? { worker: record.handle, openRequests } : { worker: record.handle, openRequests, timeoutMs });
    },
  });
  system.register(kScriptCleanupNotice, {
    kind: 'notification',
    check: isScriptCleanupPayload,
    when: isStopping,
    handle: ({ signal }, record) => {
      record.cleanupSignal = signal;
    },
  });
  // Answered at once: the answer travels behind any connection Node handed the worker before
  // we read its servers' close (see kSyncRequest).
  system.register(kSyncRequest, { kind: 'request', check: isNoPayload, handle: () => undefined });
  system.register(kDestroyFailedNotice, {
    kind: 'notification',
    check: isDestroyFailedPayload,
    when: isStopping,
    handle: (payload, record) => {
      if ('timeoutMs' in payload) {
        const { cleanupSignal: signal } = record;
        emit('workerDestroyTimeout', signal ? { worker: record.handle, timeoutMs: payload.timeoutMs, signal } : { worker: record.handle, timeoutMs: payload.timeoutMs });
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
