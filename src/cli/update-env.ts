/**
 * `clusterkit reload <name> --update-env` for an app `clusterkit run` runs (H336): its settings
 * are planned again as `run` plans them (`planRun` on the same command line, so the same
 * `--env <name>` and `--env-file`s; the config file loaded in a process of its own, as under
 * `--watch`, never in the primary's own thread), and the workers' env is made of them as at the
 * start. Only the env is applied: the other settings that changed are named, and take effect when
 * `clusterkit run` restarts. A loading that fails refuses the reload (ConfigUnloadableError).
 */
import { relative } from 'node:path';
import { ConfigUnloadableError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { EnvSource } from '../control/update-env.js';
import { envSums } from '../control/env-sums.js';
import { planRun } from './run-plan.js';
import type { RunSettings } from './run-settings.js';
import { asRunPrintsIt, changedKeys, isEnvKey } from './watch/config-change-check.js';

export interface EnvUpdater {
  /** The settings the workers run with now: their env is the last `--update-env`'s. */
  readonly inForce: () => RunSettings;
  readonly load: EnvSource;
}

/**
 * `workerEnvOf`: the workers' `env` option made of a `RunSettings` env, as `run` makes it at its start.
 */
export function envUpdater(settings: RunSettings, logger: Logger, workerEnvOf: (env: Readonly<Record<string, string>>) => Record<string, string | undefined>): EnvUpdater {
  let inForce = settings;
  const origin = settings.origin;
  const sources = origin === undefined ? [] : [...(origin.configFile === undefined ? [] : [origin.configFile]), ...origin.envFiles];
  const files = sources.map((path) => relative(settings.cwd, path) || path);
  const configFile = origin?.configFile === undefined ? undefined : files[0];
  const load: EnvSource = async () => {
    if (origin === undefined) return { env: workerEnvOf(inForce.env), files, waiting: [], commit: () => {} };
    let now: RunSettings | undefined;
    let apps: readonly string[] = [];
    try {
      const plan = await planRun(origin.args, origin.invocationDir, { isRecheck: true, warn: (text) => logger.warn({}, text) });
      if (plan.kind === 'one') now = plan.settings;
      else if (plan.kind === 'apps') {
        apps = plan.apps.map((app) => app.name);
        now = plan.apps.find((app) => app.name === settings.name);
      }
    } catch (error) {
      const refusal = new ConfigUnloadableError(files, asRunPrintsIt(error), { cause: error, refusedReload: settings.name });
      logger.warn({ err: refusal }, `clusterkit reload --update-env refused: ${refusal.message}`);
      throw refusal;
    }
    if (now === undefined) {
      const refusal = new ConfigUnloadableError(files, `it has no app ${settings.name} now (its apps: ${apps.join(', ')})`, { refusedReload: settings.name });
      logger.warn({ err: refusal }, `clusterkit reload --update-env refused: ${refusal.message}`);
      throw refusal;
    }
    const loaded = now;
    const waiting = changedKeys(inForce, loaded).filter((key) => !isEnvKey(key));
    if (waiting.length > 0) {
      logger.info(
        {},
        `clusterkit reload --update-env: ${files.join(', ') || 'the command line'} changed ${waiting.join(', ')} of app ${settings.name}: ${waiting.length === 1 ? 'it takes' : 'they take'} effect when clusterkit run restarts; the reload applies the env only`,
      );
    }
    return { env: workerEnvOf(loaded.env), files, configFile, waiting, sums: envSums(loaded.env), commit: () => (inForce = { ...inForce, env: loaded.env }) };
  };
  return { inForce: () => inForce, load };
}
