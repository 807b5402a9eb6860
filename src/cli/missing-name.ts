/**
 * "Missing the cluster name." of a command that acts on a running cluster, with the clusters
 * that run (H402): `clusterkit logs` or `stop` typed bare, as `pm2 logs` shows every app,
 * said only "Missing the cluster name.", where a wrong name lists the running ones
 * (ClusterNotRunningError). The listing is best effort: a control directory that cannot be
 * read leaves the message as it was.
 */
import { liveNames } from '../control/control-client.js';
import { controlDirectory, lookedInClause } from '../control/runtime-dir.js';
import { UsageError } from './usage-error.js';

/** The UsageError for `command` without its cluster name; `missing` is the sentence that says what is missing. */
export async function missingNameError(command: string, missing = 'Missing the cluster name.'): Promise<UsageError> {
  let running: string[] | undefined;
  const directory = controlDirectory();
  try {
    running = await liveNames(directory);
  } catch {
    running = undefined;
  }
  const which =
    running === undefined
      ? ''
      : running.length === 0
        ? ` No cluster is running (for this user${lookedInClause(directory)}); start one with "clusterkit run".`
        : ` Running: ${running.map((name) => JSON.stringify(name)).join(', ')}${running.length === 1 ? ` (clusterkit ${command} ${running[0]})` : ''}.`;
  return new UsageError(`${missing}${which}`, command);
}
