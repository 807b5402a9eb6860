/**
 * The primary-side callbacks of the service runner, fed from `ClusterPrimary` events. A
 * callback that throws or rejects is logged; it never breaks supervision.
 */
import type { Logger } from '../logger.js';
import type { ClusterPrimary } from '../primary/cluster-primary.js';
import { settleLikeAwait } from '../is-thenable.js';
import { toError } from '../to-error.js';
import type { ClusteredServiceOptions } from './service-options.js';
import { writeOwnLine } from '../line-start.js';

export type PrimaryCallbacks = Pick<ClusteredServiceOptions, 'onPrimaryShutdown' | 'onWorkerSpawned' | 'onWorkerCrashed' | 'onWorkerExit'>;

export interface CallbackContext {
  readonly logger: Logger | false;
  /** The service's target worker count, for `totalWorkers`. */
  readonly targetWorkers: () => number;
  /** Keeps the primary's `_destroy` waiting for an async callback (`onPrimaryShutdown`), named by `name` while it pends. */
  readonly awaitBeforeExit: (name: string, pending: Promise<unknown>) => void;
}

export function attachServiceCallbacks(primary: ClusterPrimary, callbacks: PrimaryCallbacks, context: CallbackContext): void {
  const call = <T>(name: string, callback: ((event: T) => unknown) | undefined, event: T): void => {
    if (!callback) return;
    try {
      const result = callback(event);
      // Settled as `await` would: a thenable with no catch() of its own, one that rejects twice, a throwing `then` getter.
      const settled = settleLikeAwait(result);
      if (settled) context.awaitBeforeExit(name, settled.catch((error: unknown) => report(context.logger, name, error)));
    } catch (error) {
      report(context.logger, name, error);
    }
  };
  primary.on('workerOnline', ({ worker }) =>
    call('onWorkerSpawned', callbacks.onWorkerSpawned, { workerId: worker.id, pid: worker.pid ?? 0, totalWorkers: context.targetWorkers() }),
  );
  primary.on('workerCrash', ({ worker, code, signal, error }) =>
    call('onWorkerCrashed', callbacks.onWorkerCrashed, { workerId: worker.id, pid: worker.pid, code, signal, ...(error === undefined ? {} : { error }) }),
  );
  primary.on('workerExit', ({ worker, code, signal, expected }) =>
    call('onWorkerExit', callbacks.onWorkerExit, { workerId: worker.id, pid: worker.pid, code, signal, expected }),
  );
  primary.on('shutdown', ({ signal }) => call('onPrimaryShutdown', callbacks.onPrimaryShutdown, { signal }));
}

/** Calls `callback`, logging (not throwing) what it throws; resolves when it settled. */
export async function runCallback<T>(logger: Logger | false, name: string, callback: ((event: T) => unknown) | undefined, event: T): Promise<void> {
  if (!callback) return;
  try {
    await callback(event);
  } catch (error) {
    report(logger, name, error);
  }
}

function report(logger: Logger | false, name: string, error: unknown): void {
  const failure = toError(error);
  if (logger) logger.error({ callback: name, err: failure }, `${name} threw: ${failure.message}`);
  else writeOwnLine(process.stderr, `${name} threw: ${failure.stack ?? failure.message}\n`);
}
