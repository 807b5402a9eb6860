/**
 * What the service's control socket does for `clusterkit status|reload|stop|scale`.
 */
import { shutdownExitCode } from '../primary/lifecycle/primary-signals.js';
import type { ShutdownReport } from '../primary/primary-events.js';
import { startControlServer, type ControlServer } from '../control/control-server.js';
import type { LogSource } from '../control/log-protocol.js';
import { recordClusterEvents } from '../control/record-events.js';
import type { PrimaryService } from './service-primary.js';

/**
 * Serves the control socket of `name` for `service`. With `ownsProcess`, a `stop` ends the
 * process once its reply is written, with the exit code SIGTERM would give. `logs` serves
 * `clusterkit logs`.
 */
export function serveControl(name: string, service: PrimaryService, ownsProcess: boolean, logs?: LogSource): Promise<ControlServer> {
  /** Set when a control `stop` finished; the exit code follows from it. */
  let stopReport: ShutdownReport | undefined;
  let server: ControlServer | undefined;
  // Recording starts before any fork, so the log holds the first workers' forks too.
  const recording = recordClusterEvents(service.primary);
  const { log } = recording;
  const serving = startControlServer(name, {
    status: () => service.status(),
    reload: async () => {
      await service.reload();
      return { workers: service.primary.workers.length };
    },
    scale: async (count) => {
      await service.scale(count);
      return service.status();
    },
    stop: async () => {
      stopReport = await service.primary.shutdown();
      return { graceful: stopReport.graceful.length, failed: stopReport.failed.length, killed: stopReport.killed.length, pid: process.pid };
    },
    afterStop: () => {
      server?.close();
      // 0, or 1 when a worker did not stop cleanly: the same as after SIGTERM.
      if (ownsProcess) process.exit(stopReport ? shutdownExitCode(stopReport) : 0);
    },
    logs,
    events: (after) => log.read(after),
  });
  return serving.then(
    (started) => (server = started),
    (error: unknown) => {
      recording.stop();
      throw error;
    },
  );
}
