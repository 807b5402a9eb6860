/**
 * The notices a worker sends while it starts: `$hello` (it listens: open the held channel),
 * `$ready` (`_init` finished: it takes work) and `$initError` (`_init` threw; it exits next);
 * and `$served`, once per worker life, when it first served (the restart policy reads it).
 */
import { capitalize } from '../../capitalize.js';
import { initFailureClause, RemoteError, WorkerStartupError } from '../../errors.js';
import {
  isInitErrorPayload,
  isNoPayload,
  isReadyPayload,
  kBulkNotice,
  kHelloNotice,
  kInitErrorNotice,
  kReadyNotice,
  kServedNotice,
  readyMemory,
} from '../../messaging/system-types.js';
import { bulkPort } from '../../messaging/bulk-channel.js';
import { boundReceivedError } from '../../messaging/remote-cause.js';
import type { PrimaryContext } from '../primary-context.js';
import { measureRss } from './measured-rss.js';
import type { WorkerRecord } from './worker-record.js';

export function registerStartupNotices({ options, pool, system, emit }: Pick<PrimaryContext, 'options' | 'pool' | 'system' | 'emit'>): void {
  // Each comes once, before the worker was ever ready; a worker stopped while starting may still send them.
  const isStarting = (record: WorkerRecord) => record.readyAt === undefined;
  system.register(kHelloNotice, {
    kind: 'notification',
    check: isNoPayload,
    when: isStarting,
    handle: (_, record) => {
      record.hasSaidHello = true;
      record.endpoint.channel.open();
    },
  });
  system.register(kBulkNotice, {
    kind: 'notification',
    check: isNoPayload,
    when: isStarting,
    // Only a worker the primary gave a bulk pipe: a $bulk from any other is ignored.
    handle: (_, record) => {
      if (record.bulkEnd !== undefined) record.endpoint.setBulk(bulkPort(record.bulkEnd));
    },
  });
  system.register(kReadyNotice, {
    kind: 'notification',
    check: isReadyPayload,
    when: isStarting,
    handle: (payload, record) => {
      // A first memory reading, until the first heartbeat answer replaces it: a worker whose
      // loop blocks before that answer still shows its memory. None without the heartbeat:
      // nothing would ever replace it.
      const memory = options.heartbeat === false ? undefined : readyMemory(payload);
      if (memory && record.health === undefined) {
        const health = { rssBytes: memory.rss, heapUsedBytes: memory.heapUsed, heapTotalBytes: memory.heapTotal, eventLoopDelayMs: undefined, eventLoopDelayP99Ms: undefined, cpuPercent: undefined, openRequests: undefined, idleConnections: undefined, at: Date.now() };
        record.health = health;
        // The RSS as the primary measures it where it can (H382): the worker's figure is its word.
        void measureRss(record.pid)?.then((rssBytes) => {
          if (rssBytes !== undefined && record.health === health) health.rssBytes = rssBytes;
        });
      }
      pool.markReady(record);
    },
  });
  system.register(kServedNotice, {
    kind: 'notification',
    check: isNoPayload,
    // Once per life: a second one is forged, dropped and counted.
    when: (record) => !record.hasServed,
    handle: (_, record) => {
      record.hasServed = true;
    },
  });
  system.register(kInitErrorNotice, {
    kind: 'notification',
    check: isInitErrorPayload,
    when: isStarting,
    handle: (received, record) => {
      // Cut as a clusterkit worker cuts it: a script may write its own notices (hostile t64).
      const payload = boundReceivedError(received);
      // A plain script (`clusterkit run script.js`) or a runner's module has no _init() of its
      // own: its failure comes with a summary in the user's words (`the script /srv/app.js threw
      // on import: ...`), which a failed reload or start then quotes.
      const summary = payload.data?.summary;
      const failure = typeof summary === 'string' && summary !== '' ? summary : initFailureClause(payload.name, payload.message, payload.stack);
      const message = `${capitalize(record.describe())} could not start: ${failure}`;
      const error = new RemoteError('_init', record.describe(), payload, message);
      record.startupError = new WorkerStartupError(record.id, 'init-failed', message, { cause: error });
      emit('workerError', { worker: record.handle, error });
    },
  });
}
