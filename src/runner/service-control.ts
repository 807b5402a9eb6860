/**
 * What the service's control socket does for `clusterkit status|reload|stop|scale`.
 */
import { lifecycleOf } from '../primary/lifecycle/primary-lifecycle.js';
import { requestedStopExitCode } from '../primary/lifecycle/primary-signals.js';
import type { ShutdownReport } from '../primary/primary-events.js';
import { startControlServer, type ControlServer } from '../control/control-server.js';
import type { LogSource } from '../control/log-protocol.js';
import { recordClusterEvents } from '../control/record-events.js';
import type { EventsPage } from '../control/event-log.js';
import { SlotTracker } from '../control/slot-tracker.js';
import { markAskedStop } from '../control/stop-record.js';
import { scaleWarning } from '../control/scale-warning.js';
import { scaleWithCounts, stopCounts } from '../control/stop-counts.js';
import { controlReload, type EnvSource } from '../control/update-env.js';
import type { PrimaryService } from './service-primary.js';

/**
 * Serves the control socket of `name` for `service`. With `ownsProcess`, a `stop` ends the
 * process once its reply is written, with the exit code SIGTERM would give. `logs` serves
 * `clusterkit logs`. `updateEnv`: the app's env loaded again, for `reload --update-env` (`clusterkit run`'s, H336).
 * `inFlagNames`: `clusterkit run`'s, its refusals in its flags' names (`ControlHandlers.inFlagNames`, H359),
 * and the errors its events carry (H363).
 */
export function serveControl(name: string, service: PrimaryService, ownsProcess: boolean, logs?: LogSource, updateEnv?: EnvSource, inFlagNames?: (message: string) => string): Promise<ControlServer> {
  /** Set when a control `stop` finished; the exit code follows from it. */
  let stopReport: ShutdownReport | undefined;
  let server: ControlServer | undefined;
  // Recording starts before any fork, so the log holds the first workers' forks too.
  const recording = recordClusterEvents(service.primary);
  const { log } = recording;
  // Which worker serves each slot, for `logs --slot`: only where there are logs to serve.
  const slots = logs ? new SlotTracker(service.primary) : undefined;
  const serving = startControlServer(name, {
    status: () => service.status(),
    describe: () => service.describe(),
    reload: ({ updateEnv: isUpdate }) => controlReload(service.primary, name, isUpdate, updateEnv, (env) => service.reload({ requestedBy: 'control', ...(env === undefined ? {} : { env }) })),
    scale: async (count) => {
      const stops = await scaleWithCounts(service.primary, () => service.scale(count));
      // Named workers stopped, or under the health endpoint's minReady: the caller is told too, not only the log (H464, H601).
      const warning = scaleWarning(service.primary, count, stops, inFlagNames);
      return { ...service.status(), stops, ...(warning === undefined ? {} : { warning }) };
    },
    stop: async () => {
      stopReport = await service.primary.shutdown({ requestedBy: 'control' });
      return { ...stopCounts(stopReport), pid: process.pid };
    },
    afterStop: () => {
      server?.close();
      // 0, or 1 when a worker did not stop cleanly; a start it interrupted was asked to end (H276).
      if (ownsProcess) process.exit(stopReport ? requestedStopExitCode(stopReport) : 0);
    },
    logs,
    slots,
    // The failures the timeline shows (a crash loop's, a failed reload's) in the flags too (H363).
    events: (after) => (inFlagNames === undefined ? log.read(after) : inFlagNamesOfEvents(log.read(after), inFlagNames)),
    inFlagNames,
  });
  return serving.then(
    (started) => {
      // A worker's lone SIGHUP line names the command that reloads (H313).
      const lifecycle = lifecycleOf(service.primary);
      if (lifecycle) lifecycle.hangups.controlName = name;
      // A stop asked for leaves its record as the socket closes, for a `clusterkit stop` a moment later (H453).
      markAskedStop(service.primary, () => server);
      return (server = started);
    },
    (error: unknown) => {
      recording.stop();
      slots?.stop();
      throw error;
    },
  );
}

/** `page` with each event's `error` (a crash loop's, a failed reload's, a killed worker's) in `clusterkit run`'s flags (H363). */
function inFlagNamesOfEvents(page: EventsPage, inFlagNames: (message: string) => string): EventsPage {
  return { ...page, events: page.events.map((event) => (typeof event.error === 'string' ? { ...event, error: inFlagNames(event.error) } : event)) };
}
