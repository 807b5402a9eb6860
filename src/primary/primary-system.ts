/**
 * Routing of clusterkit's own messages from workers (`$ready`, `$initError`...). Features add
 * their handlers here; user code never sees these types.
 */
import { RemoteError, WorkerStartupError, type SerializedError } from '../errors.js';
import { handlerNotFound } from '../messaging/dispatch.js';
import { kHelloNotice, kInitErrorNotice, kReadyNotice, kSyncRequest } from '../messaging/system-types.js';
import type { PoolHost } from './pool-host.js';
import type { WorkerPool } from './worker-pool.js';
import type { WorkerRecord } from './worker-record.js';

export type SystemHandler = (record: WorkerRecord, payload: unknown, isRequest: boolean) => unknown;

export class SystemRouter {
  readonly #handlers = new Map<string, SystemHandler>();

  constructor(pool: WorkerPool, emit: PoolHost['emit']) {
    this.register(kHelloNotice, (record) => record.endpoint.channel.open());
    this.register(kReadyNotice, (record) => pool.markReady(record));
    this.register(kSyncRequest, () => undefined);
    this.register(kInitErrorNotice, (record, payload) => {
      const error = new RemoteError('_init', record.describe(), payload as SerializedError);
      record.startupError = new WorkerStartupError(
        record.id,
        'init-failed',
        `${record.describe()} failed in _init(): ${error.remoteName}: ${error.remoteMessage}`,
        { cause: error },
      );
      emit('workerError', { worker: record.handle, error });
    });
  }

  register(type: string, handler: SystemHandler): void {
    this.#handlers.set(type, handler);
  }

  route(record: WorkerRecord, type: string, payload: unknown, isRequest: boolean): unknown {
    const handler = this.#handlers.get(type);
    if (!handler) throw handlerNotFound(type, 'the primary');
    return handler(record, payload, isRequest);
  }
}
