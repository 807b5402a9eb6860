/**
 * The primary's default log lines: one per lifecycle event, through the `logger` option.
 */
import { createLineLogger, type Logger } from '../logger.js';
import type { ClusterPrimary } from './cluster-primary.js';

export function attachPrimaryLogging(primary: ClusterPrimary, logger: Logger = createLineLogger()): void {
  const ids = (worker: { id: number; pid: number | undefined; slot: number }) => ({ workerId: worker.id, pid: worker.pid, slot: worker.slot });
  primary.on('workerFork', ({ worker }) => logger.debug(ids(worker), 'worker forked'));
  primary.on('workerReady', ({ worker }) => logger.info(ids(worker), `worker ${worker.id} ready`));
  primary.on('workerExit', ({ worker, code, signal, expected }) => {
    const fields = { ...ids(worker), code, signal };
    if (expected) logger.info(fields, `worker ${worker.id} stopped`);
    else logger.warn(fields, `worker ${worker.id} exited unexpectedly`);
  });
  primary.on('workerCrash', ({ worker, uptimeMs }) => logger.warn({ ...ids(worker), uptimeMs }, `worker ${worker.id} crashed`));
  primary.on('workerRestart', ({ previous, worker, delayMs, attempt }) =>
    logger.info({ ...ids(worker), previous: previous.id, delayMs, attempt }, `worker ${worker.id} replaces worker ${previous.id}`),
  );
  primary.on('workerError', ({ worker, error }) => logger.error({ ...ids(worker), error }, `worker ${worker.id} error: ${error.message}`));
  primary.on('workerUnresponsive', ({ worker, silentMs }) => logger.error({ ...ids(worker), silentMs }, `worker ${worker.id} unresponsive, killing it`));
  primary.on('workerProtocolError', ({ worker, error, dropped }) =>
    logger.warn({ ...ids(worker), dropped, problem: error.problem }, error.message),
  );
  primary.on('workerMemoryLimit', ({ worker, rssBytes }) => logger.warn({ ...ids(worker), rssBytes }, `worker ${worker.id} over the memory limit, replacing it`));
  primary.on('crashLoop', ({ slot, failures, error }) => logger.error({ slot, failures, error }, error.message));
  primary.on('shutdown', ({ signal, timeoutMs }) => logger.info({ signal, timeoutMs }, 'shutting down'));
  primary.on('shutdownComplete', ({ graceful, killed }) => logger.info({ graceful: graceful.length, killed: killed.length }, 'shutdown complete'));
  primary.on('reload', ({ workers }) => logger.info({ workers }, 'rolling reload started'));
  primary.on('reloadComplete', ({ replaced }) => logger.info({ replaced }, 'rolling reload complete'));
  primary.on('reloadFailed', ({ error }) => logger.error({ error }, `rolling reload failed: ${error.message}`));
}
