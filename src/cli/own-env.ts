/**
 * `clusterkit run` with `--env`, `--env-file` or a config's `env` naming clusterkit's own
 * variables (`CLUSTERKIT_NAME`, `CLUSTERKIT_ROLES`, ...). The primary sets those in each worker
 * itself (H70), so they are dropped; before, they were dropped in silence, and a user who meant
 * `--env CLUSTERKIT_NAME=api` never learned why the worker had no name. Said once, at the start.
 */
import { kOwnEnvNames } from '../worker-env.js';
import { kHealthPortEnv } from './health-port-env.js';
import { kOrphanLogEnv } from './orphan-log-env.js';
import { kWaitReadyEnv } from './ready-message.js';

/**
 * The library's own variables and those `clusterkit run` sets in its workers (`--wait-ready`,
 * `--health-port`, the orphan's log): each is set, or removed, by the run itself (hostile t61:
 * an inherited or `--env` CLUSTERKIT_WAIT_READY made every worker wait for a 'ready' never sent).
 */
export const kRunOwnEnvNames: readonly string[] = Object.freeze([...kOwnEnvNames, kWaitReadyEnv, kHealthPortEnv, kOrphanLogEnv]);

export interface OwnEnvDropped {
  /** The workers' variables without clusterkit's own. */
  readonly env: Record<string, string>;
  /** The names dropped, in the order given. */
  readonly ignored: string[];
  /** The warning line, when any was dropped. */
  readonly warning: string | undefined;
}

export function dropOwnEnv(given: Readonly<Record<string, string>>): OwnEnvDropped {
  const ignored = Object.keys(given).filter((name) => kRunOwnEnvNames.includes(name));
  if (ignored.length === 0) return { env: { ...given }, ignored, warning: undefined };
  const env = Object.fromEntries(Object.entries(given).filter(([name]) => !kRunOwnEnvNames.includes(name)));
  const names = ignored.length === 1 ? ignored[0]! : `${ignored.slice(0, -1).join(', ')} and ${ignored.at(-1)!}`;
  const warning =
    `${names} in the workers' env (--env, --env-file or the config's env) ignored: clusterkit sets its own variables in each worker. ` +
    `--name (or the config's "name") names the cluster; a worker's slot number is in NODE_APP_INSTANCE; --wait-ready and --health-port set theirs; ` +
    `worker names and roles come from fork({ name, roles }) in a primary of your own (docs/named-workers.md); ` +
    `for a value your script reads, use a variable of your own.`;
  return { env, ignored, warning };
}
