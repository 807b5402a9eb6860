/**
 * `clusterkit reload <name> --update-env` (PM2's `pm2 reload <app> --update-env`, H336): the
 * primary loads the app's settings files again, and the rolling reload starts the new workers
 * with the env they give now. The reply names the variables that changed, never their values.
 */
import { ShutdownInProgressError, UpdateEnvUnsupportedError } from '../errors.js';
import type { ClusterPrimary } from '../primary/cluster-primary.js';
import { reloadWithCounts } from './stop-counts.js';
import type { EnvChanges } from './env-changes.js';

/** The workers' env as the app's settings files give it now (`clusterkit run`'s, run/update-env.ts). */
export interface EnvUpdate {
  /** The workers' new `env` option, as `clusterkit run` computes it at its start. */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** The files loaded again, as the messages show them. */
  readonly files: readonly string[];
  /** Of `files`, the config file, whose app's `env` key sets variables; the others are env files (H420). */
  readonly configFile?: string | undefined;
  /** The settings other than env that differ from those in force: they take effect when clusterkit run restarts. */
  readonly waiting: readonly string[];
  /** `envSums` of the variables the settings files set (H400): the CLI names those its shell has with another value. */
  readonly sums?: Readonly<Record<string, string>>;
  /** The reload with this env completed: it is the env in force from now on (not before, H340). */
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
  /** Of those, the ones it adds, and removes. */
  readonly added: readonly string[];
  readonly removed: readonly string[];
  readonly files: readonly string[];
  /** Of `files`, the config file (`EnvUpdate.configFile`); absent when there is none. */
  readonly configFile?: string;
  readonly waiting: readonly string[];
  /** Digests of the values the settings files set, by name (H400; `EnvUpdate.sums`). */
  readonly sums?: Readonly<Record<string, string>>;
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
  reload: (env?: Readonly<Record<string, string | undefined>>) => Promise<unknown>,
): Promise<Awaited<ReturnType<typeof reloadWithCounts>> & { env?: EnvUpdateReply }> {
  if (!updateEnv) return reloadWithCounts(primary, () => reload());
  if (source === undefined) throw new UpdateEnvUnsupportedError(name);
  const update = await untilShutdown(primary, name, source());
  let changes: EnvChanges = { changed: [] };
  let isStarted = false;
  // Emitted synchronously inside reload() when this reload starts: not when it joins one under way with the same env.
  const onStart = ({ env }: { readonly env?: EnvChanges }) => {
    changes = env ?? changes;
    isStarted = true;
  };
  // Queued behind the reload under way (H374): its reload is the next to start, with this env.
  const onQueuedStart = (event: { readonly env?: EnvChanges }) => onStart(event);
  const onJoined = ({ queued }: { readonly queued: boolean }) => {
    if (queued) primary.once('reload', onQueuedStart);
  };
  const counts = await reloadWithCounts(primary, () => {
    primary.once('reload', onStart);
    primary.once('reloadJoined', onJoined);
    try {
      return reload({ ...update.env });
    } finally {
      primary.off('reloadJoined', onJoined);
      primary.off('reload', onStart);
    }
  }).finally(() => primary.off('reload', onQueuedStart));
  // In force only once the reload completed: a failed one (it threw above) left the env from before in force (H340).
  if (isStarted) update.commit();
  return { ...counts, env: { changed: changes.changed, added: changes.added ?? [], removed: changes.removed ?? [], files: update.files, ...(update.configFile === undefined ? {} : { configFile: update.configFile }), waiting: update.waiting, ...(update.sums === undefined ? {} : { sums: update.sums }) } };
}

/**
 * `loading`, unless the primary begins shutting down first (a `clusterkit stop` while a slow
 * config loads): then refused at once, so the answer says the cluster stopped, before the
 * primary exits and closes the connection (the CLI said "its primary may have crashed", LOW of
 * hostile t35).
 */
async function untilShutdown<T>(primary: ClusterPrimary, name: string, loading: Promise<T>): Promise<T> {
  let onShutdown!: () => void;
  const stopped = new Promise<never>((_resolve, reject) => {
    onShutdown = () =>
      reject(
        new ShutdownInProgressError(
          `The cluster "${name}" stopped while it reloaded: a shutdown began (a clusterkit stop, a signal) while --update-env loaded its settings again, so nothing was reloaded. Start it again with clusterkit run if it should run: that reads its settings files anew.`,
        ),
      );
    if (primary.state === 'stopping' || primary.state === 'stopped') onShutdown();
  });
  primary.once('shutdown', onShutdown);
  try {
    return await Promise.race([loading, stopped]);
  } finally {
    primary.off('shutdown', onShutdown);
    // A loading that ends after the refusal is nobody's: its failure is not unhandled.
    loading.catch(() => {});
  }
}
