/**
 * `startClusteredService`: run a service clustered with one call. The same script runs in the
 * primary and in every worker; this function does the primary's job in the primary and
 * imports the worker module in a worker.
 */
import cluster from 'node:cluster';
import { InvalidOptionError, InvalidStateError } from '../errors.js';
import { createLineLogger } from '../logger.js';
import type { ClusterWorker } from '../worker/cluster-worker.js';
import { kRunScriptMarker } from './run-marker.js';
import { startServicePrimary, type PrimaryService } from './service-primary.js';
import { normalizeServiceOptions, type ClusteredServiceOptions, type NormalizedServiceOptions, type WorkerModuleNamespace } from './service-options.js';
import { ServiceWorker } from './service-worker.js';
import { useWorkerLogger } from '../worker/worker-logger.js';
import { exitAfterStartFailure, isStartInterrupted } from './start-failure.js';
import { kHealthPortOption } from './service-health-option.js';
import { importNamespace } from '../import-module.js';
import { isCommonJsFormat } from '../module-format.js';
import { checkNoExtraArguments } from '../extra-arguments.js';

export type { PrimaryService } from './service-primary.js';
export type { ServiceHealthOptions } from './service-health-option.js';
export type {
  ClusteredServiceOptions,
  WorkerModuleNamespace,
  PrimaryStartupInfo,
  PrimaryShutdownInfo,
  WorkerSpawnedInfo,
  WorkerCrashedInfo,
  WorkerExitInfo,
  WorkerStartupInfo,
  WorkerShutdownInfo,
} from './service-options.js';

/** The running service, in a worker process. */
export interface WorkerService<Module extends object> {
  readonly role: 'worker';
  readonly worker: ClusterWorker;
  /** The imported worker module. */
  readonly workerModule: Module;
}

/** What `startClusteredService` resolves with: `role` tells which process this is. */
export type ClusteredService<Module extends object = WorkerModuleNamespace> = PrimaryService | WorkerService<Module>;

/**
 * Runs `workerModule` in a cluster: `workers` workers, or one per core (one in development
 * mode, see `dev`; the count and its reason are logged at start), restarted
 * when it crashes, stopped gracefully on SIGTERM/SIGINT, reloaded without downtime on SIGHUP.
 *
 * In the primary it resolves once every worker is ready, with a `PrimaryService`; in a worker
 * once the module is imported and `onWorkerStartup` ran, with a `WorkerService`.
 *
 * With `handleSignals` (the default) the runner owns the process: if the workers cannot start
 * (the module does not exist, throws on import, exports nothing...), the failure is logged
 * as one line naming the module and the cause, and the process exits with code 1, instead of
 * restarting forever. With `handleSignals: false` it rejects with that error instead
 * (`ServiceStartError`, `WorkerModuleError`, `ClusterNameInUseError`).
 *
 * @throws InvalidOptionError (as a rejection, in every case) naming the first invalid option.
 * @example
 * await startClusteredService<typeof import('./server.js')>({
 *   serviceName: 'api',
 *   workerModule: new URL('./server.js', import.meta.url),
 *   onWorkerShutdown: async ({ workerModule }) => { await workerModule.pool.end(); },
 * });
 */
export async function startClusteredService<Module extends object = WorkerModuleNamespace>(
  options: ClusteredServiceOptions<Module>,
): Promise<ClusteredService<Module>> {
  if (arguments.length > 1) checkNoExtraArguments('startClusteredService()', arguments, ['options']);
  const normalized = normalizeServiceOptions(options);
  return cluster.isWorker ? startWorker(normalized) : startPrimary(normalized);
}

async function startPrimary<Module extends object>(options: NormalizedServiceOptions<Module>): Promise<PrimaryService> {
  const { logger: givenLogger, ...primaryOptions } = options.primaryOptions;
  const logger = givenLogger === undefined ? createLineLogger({ name: options.displayName }) : givenLogger;
  try {
    return await startServicePrimary({
      name: options.displayName,
      controlName: options.control ? options.serviceName : undefined,
      module: { path: options.modulePath, noun: 'worker module', isRelative: options.isModuleRelative },
      workerCount: options.workerCount,
      workerCountReason: options.workerCountReason,
      ownsProcess: options.ownsProcess,
      logger,
      // The runner's workers are ready once the module is imported, listens, and onWorkerStartup returns.
      // Before that, the worker runs this same file up to its startClusteredService() call (H189).
      primaryOptions: {
        readyWaitsFor: "its module's import, the listen() of its servers, or onWorkerStartup",
        loadingSteps: 'its file up to the startClusteredService() call: its imports, and any await before that call',
        ...primaryOptions,
      },
      callbacks: options.callbacks,
      // Opened and closed by the code `clusterkit run --health-port` uses (service-primary.ts).
      health: options.health === undefined ? undefined : { ...options.health, flag: kHealthPortOption },
    });
  } catch (error) {
    // A bad option is a bug in the calling code: it rejects like the runner's own option checks.
    if (!options.ownsProcess || error instanceof InvalidOptionError) throw error;
    // A stop (signal, `clusterkit stop`) came during the start: its own path logs the
    // interrupted start and ends the process, after the stop's reply is written.
    if (isStartInterrupted(error)) return new Promise<never>(() => {});
    exitAfterStartFailure(error, logger);
  }
}

async function startWorker<Module extends object>(options: NormalizedServiceOptions<Module>): Promise<WorkerService<Module>> {
  if ((globalThis as Record<symbol, unknown>)[kRunScriptMarker]) {
    throw new InvalidStateError(
      'startClusteredService() runs its own cluster, so its script cannot itself run under "clusterkit run". Start it with node (node service.js).',
    );
  }
  // The worker's own lines (a stray SIGUSR2) read like the primary's: the same logger option,
  // else the same `[serviceName]` tag. This script runs in the worker with the same options.
  const { logger } = options.primaryOptions;
  useWorkerLogger(logger === undefined ? createLineLogger({ name: options.displayName }) : logger);
  const worker = new ServiceWorker<Module>({
    module: { path: options.modulePath, noun: 'worker module' },
    load: () => importNamespace<Module>(options.moduleUrl, isCommonJsFormat(options.modulePath)),
    requireExports: true,
    trackServers: options.trackServers,
    readyOnListen: false,
    onStartup: options.callbacks.onWorkerStartup,
    onShutdown: options.callbacks.onWorkerShutdown,
  });
  await worker.start();
  return { role: 'worker', worker, workerModule: worker.workerModule! };
}
