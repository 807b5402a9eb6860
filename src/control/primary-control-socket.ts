/**
 * The control socket of a `ClusterPrimary` given a `serviceName`: the same requests as the
 * service runner's (`clusterkit status|reload|stop|scale|dashboard <name>`), for a primary the
 * user runs in a process of their own. A `stop` is a SIGTERM's (`clusterkit stop` says "same as
 * kill -TERM"): with `handleSignals` (the default), the primary shuts down and its process exits
 * with the code a SIGTERM's shutdown gives (hostile t67, H665: the process stayed, with no worker
 * and no socket, while `stop` said "stopped", exit 0). Without it, the process is the code's own
 * to end, as for a signal: the answer says it keeps running, and `stop` says so.
 */
import type { ClusterPrimary } from '../primary/cluster-primary.js';
import { clusterSettings, type SettingsSource } from './cluster-settings.js';
import { clusterStatus } from './cluster-status.js';
import type { ClusterStatus } from './control-protocol.js';
import { startControlServer, type ControlServer } from './control-server.js';
import { recordClusterEvents } from './record-events.js';
import { markAskedStop } from './stop-record.js';
import { scaleWarning } from './scale-warning.js';
import { scaleWithCounts, stopCounts } from './stop-counts.js';
import { controlReload } from './update-env.js';
import { lifecycleOf } from '../primary/lifecycle/primary-lifecycle.js';
import { shutdownExitCode } from '../primary/lifecycle/primary-signals.js';
import type { ShutdownReport } from '../primary/primary-events.js';

export interface PrimarySocketSource {
  /** The script the workers run, shown by `status`. */
  readonly script: string;
  /** The worker count the primary maintains (its active slots). */
  targetWorkers(): number;
  /** What `show` says besides the primary's options (the count's reason, the health endpoint). */
  settings(): SettingsSource;
  /** Whether a stop ends the process, as a SIGTERM does: the primary's `handleSignals`. */
  readonly exitsOnStop: boolean;
}

/**
 * Opens the socket of `name` for `primary`, recording its events from now on; both end when
 * its shutdown completes.
 * @throws ClusterNameInUseError when a live primary already serves `name`.
 */
export async function openPrimaryControlSocket(primary: ClusterPrimary, name: string, source: PrimarySocketSource): Promise<ControlServer> {
  const startedAt = Date.now();
  const recording = recordClusterEvents(primary);
  const status = (): ClusterStatus => clusterStatus(primary, { name, script: source.script, startedAt, targetWorkers: () => source.targetWorkers() });
  let server: ControlServer;
  let stopped: ShutdownReport | undefined;
  try {
    server = await startControlServer(name, {
      status,
      describe: () => ({ ...status(), settings: clusterSettings(primary, source.settings()) }),
      // No settings files to load again: `--update-env` is refused (H336); the code can call reload({ env }).
      reload: ({ updateEnv }) => controlReload(primary, name, updateEnv, undefined, () => primary.reload({ requestedBy: 'control' })),
      scale: async (count) => {
        const stops = await scaleWithCounts(primary, () => primary.scale(count));
        // As `clusterkit run`'s socket answers (H601: a named worker stopped, a count under minReady).
        const warning = scaleWarning(primary, count, stops);
        return { ...status(), stops, ...(warning === undefined ? {} : { warning }) };
      },
      stop: async () => {
        const report = await primary.shutdown({ requestedBy: 'control' });
        stopped = report;
        return { ...stopCounts(report), pid: process.pid, ...(source.exitsOnStop ? {} : { keepsRunning: true }) };
      },
      afterStop: () => {
        server.close();
        // Once the answer is written, as a SIGTERM's shutdown ends (primary-signals.ts).
        if (source.exitsOnStop && stopped !== undefined) process.exit(shutdownExitCode(stopped));
      },
      events: (after) => recording.log.read(after),
    });
  } catch (error) {
    recording.stop();
    throw error;
  }
  // A worker's lone SIGHUP line names the command that reloads (H313).
  const lifecycle = lifecycleOf(primary);
  if (lifecycle) lifecycle.hangups.controlName = name;
  // Listened to first: the record is marked before this closes the socket (H453).
  markAskedStop(primary, () => server);
  primary.once('shutdownComplete', () => {
    server.close();
    recording.stop();
  });
  return server;
}
