/**
 * The notices a worker sends while it stops: `$drain` (how many requests its tracked servers
 * still have open, so a forced stop can say what it cut), `$requestsCut` (it cut requests off
 * at its own deadline, or exited with them open), `$scriptCleanup` (a plain script stops
 * through its own signal listeners) and `$destroyFailed` (its `_destroy`, or a plain script's
 * cleanup, missed the worker's own deadline, or threw; it exits 1 next).
 */
import { capitalize } from '../../capitalize.js';
import { RemoteError } from '../../errors.js';
import {
  isDestroyFailedPayload,
  isDrainPayload,
  isRequestsCutPayload,
  isScriptCleanupPayload,
  kDestroyFailedNotice,
  kDrainNotice,
  kRequestsCutNotice,
  kScriptCleanupNotice,
} from '../../messaging/system-types.js';
import type { PrimaryContext } from '../primary-context.js';

export function registerStopNotices({ system, emit }: Pick<PrimaryContext, 'system' | 'emit'>): void {
  system.register(kDrainNotice, {
    kind: 'notification',
    check: isDrainPayload,
    handle: ({ openRequests }, record) => {
      record.openRequests = openRequests;
    },
  });
  system.register(kRequestsCutNotice, {
    kind: 'notification',
    check: isRequestsCutPayload,
    // Once per stop: a second notice (a forged one) must not count the same requests twice.
    when: (record) => record.requestsCut === undefined,
    handle: ({ openRequests, timeoutMs }, record) => {
      record.requestsCut = openRequests;
      emit('workerRequestsCut', timeoutMs === undefined ? { worker: record.handle, openRequests } : { worker: record.handle, openRequests, timeoutMs });
    },
  });
  system.register(kScriptCleanupNotice, {
    kind: 'notification',
    check: isScriptCleanupPayload,
    handle: ({ signal }, record) => {
      record.cleanupSignal = signal;
    },
  });
  system.register(kDestroyFailedNotice, {
    kind: 'notification',
    check: isDestroyFailedPayload,
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
