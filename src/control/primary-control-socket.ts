/**
 * The control socket of a `ClusterPrimary` given a `serviceName`: the same requests as the
 * service runner's (`clusterkit status|reload|stop|scale|dashboard <name>`), for a primary the
 * user runs in a process of their own. A `stop` shuts the primary down but, unlike the runner's,
 * does not exit the process: that stays the user's call.
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

export interface PrimarySocketSource {
  /** The script the workers run, shown by `status`. */
  readonly script: string;
  /** The worker count the primary maintains (its active slots). */
  targetWorkers(): number;
  /** What `show` says besides the primary's options (the count's reason, the health endpoint). */
  settings(): SettingsSource;
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
        return { ...stopCounts(report), pid: process.pid };
      },
      afterStop: () => server.close(),
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
