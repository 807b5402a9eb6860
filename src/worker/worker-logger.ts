/**
 * The logger of the worker's own lines (a signal it ignores, processes it had to kill as it
 * exited), set by code that knows the service's (the service runner: its `logger` option, else
 * `[serviceName]` lines), so that they read like the rest of the service's; `false` for none.
 * Unset: `[clusterkit]` lines on stderr.
 */
import { createLineLogger, type Logger } from '../logger.js';

let serviceLogger: Logger | false | undefined;
/** Created at the first line: a worker that logs none pays nothing. */
let defaultLogger: Logger | undefined;

/** Sets the logger of the worker's own lines (above); call it before the worker starts. */
export function useWorkerLogger(logger: Logger | false): void {
  serviceLogger = logger;
}

/** The logger of the worker's own lines; undefined when the service logs nothing. */
export function workerLogger(): Logger | undefined {
  return serviceLogger === false ? undefined : (serviceLogger ?? (defaultLogger ??= createLineLogger()));
}
