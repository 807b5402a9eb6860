/**
 * Signals a worker must not die of (H79), as the primary does not (ignored-signals.ts, H69).
 * nodemon and some process managers signal a whole process tree, so SIGUSR2 reaches each worker
 * too, where Node's default action ended it at once: a crash the primary reported and restarted
 * for nothing. A worker logs it on its stderr (one line, at most one per 10 s, tagged as the
 * service's own lines are when the service runner started it) and runs on; a worker whose code
 * listens for it itself (heapdump, a log reopener), before or after start(), gets it silently.
 *
 * SIGHUP too: a terminal that hangs up on a foreground `clusterkit run`, or `kill -HUP -<pgid>`,
 * signals the whole process group, workers included, where Node's default action killed every
 * one of them with its requests (a hostile tester: 20 of 20 reset) while the primary, told the
 * same, began a reload. The primary's reload is what SIGHUP means here; the worker runs on.
 */
import cluster from 'node:cluster';
import { workerLogger } from './worker-logger.js';
import { ignoreSignals, kIgnoredSignals } from '../primary/lifecycle/ignored-signals.js';

/** The signals a worker logs and ignores: the primary's, and SIGHUP (see above). */
const kWorkerIgnoredSignals: readonly NodeJS.Signals[] = [...kIgnoredSignals, 'SIGHUP'];

/** Installs the listeners for the worker's life. `[clusterkit] WARN worker 3 (pid 4242): SIGUSR2 ignored: ...`. */
export function ignoreWorkerSignals(): void {
  const who = `worker ${cluster.worker?.id ?? '?'} (pid ${process.pid})`;
  ignoreSignals(
    workerLogger,
    (signal, since) =>
      signal === 'SIGHUP'
        ? `${who}: SIGHUP ignored${since}: it reached the worker with its primary's process group (a terminal's hangup, kill -HUP -<pgid>); the primary reloads the workers on SIGHUP, one at a time, ` +
          `so this worker is replaced in its turn. To act on SIGHUP in the worker (reopen a log file), listen for it: process.on('SIGHUP', ...).`
        : `${who}: ${signal} ignored${since}: clusterkit reloads the workers on SIGHUP to the primary (or \`clusterkit reload\`) and stops them on SIGTERM or SIGINT to it. ` +
          `nodemon restarts with SIGUSR2: give it --signal SIGTERM, or use clusterkit run --watch. To act on ${signal} in the worker (heapdump), listen for it: process.on('${signal}', ...).`,
    kWorkerIgnoredSignals,
  );
}
