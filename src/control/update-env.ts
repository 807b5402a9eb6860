/**
 * `clusterkit reload <name> --update-env` (PM2's `pm2 reload <app> --update-env`, H336): the
 * primary loads the app's settings files again, and the rolling reload starts the new workers
 * with the env they give now. The reply names the variables that changed, never their values.
 */
import { UpdateEnvUnsupportedError } from '../errors.js';
import type { ClusterPrimary } from '../primary/cluster-primary.js';
import { reloadWithCounts } from './stop-counts.js';

/** The workers' env as the app's settings files give it now (`clusterkit run`'s, run/update-env.ts). */
export interface EnvUpdate {
  /** The workers' new `env` option, as `clusterkit run` computes it at its start. */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** The files loaded again, as the messages show them. */
  readonly files: readonly string[];
  /** The settings other than env that differ from those in force: they take effect when clusterkit run restarts. */
  readonly waiting: readonly string[];
  /** The reload with this env started: it is the env in force from now on. */
  commit(): void;
}

/**
 * Loads the app's settings again.
 * @throws ConfigUnloadableError when they no longer load: the reload is refused, nothing changed.
 */
export type EnvSource = () => Promise<EnvUpdate>;

/** What `reload --update-env` answers besides the counts. */
export interface EnvUpdateReply {
  /** The variables the new env sets, changes or removes, sorted; by name only. */
  readonly changed: readonly string[];
  readonly files: readonly string[];
  readonly waiting: readonly string[];
}

/**
 * Runs the control socket's `reload`: with `updateEnv`, the env from `source` first (its loading
 * failure refuses the reload), then a reload that starts the new workers with it.
 * @throws UpdateEnvUnsupportedError with `updateEnv` when the cluster has no `source` (not `clusterkit run`'s).
 */
export async function controlReload(
  primary: ClusterPrimary,
  name: string,
  updateEnv: boolean,
  source: EnvSource | undefined,
  reload: (env?: Readonly<Record<string, string | undefined>>) => Promise<void>,
): Promise<Awaited<ReturnType<typeof reloadWithCounts>> & { env?: EnvUpdateReply }> {
  if (!updateEnv) return reloadWithCounts(primary, () => reload());
  if (source === undefined) throw new UpdateEnvUnsupportedError(name);
  const update = await source();
  let changed: readonly string[] = [];
  // Emitted synchronously inside reload() when this reload starts: not when it joins one under way with the same env.
  const onStart = ({ env }: { readonly env?: { readonly changed: readonly string[] } }) => {
    changed = env?.changed ?? [];
    update.commit();
  };
  const counts = await reloadWithCounts(primary, () => {
    primary.once('reload', onStart);
    try {
      return reload({ ...update.env });
    } finally {
      primary.off('reload', onStart);
    }
  });
  return { ...counts, env: { changed, files: update.files, waiting: update.waiting } };
}
