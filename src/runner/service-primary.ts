/**
 * The primary side of the service runner, shared by `startClusteredService` and
 * `clusterkit run`: a `ClusterPrimary` with the runner's callbacks, a control socket, a clear
 * start failure, and a service that stops when its last worker slot gives up.
 */
import type { AddressInfo } from 'node:net';
import { dirname } from 'node:path';
import type { Logger } from '../logger.js';
import { nameDestroyHook } from '../destroy-hook.js';
import { ClusterPrimary } from '../primary/cluster-primary.js';
import type { PrimaryOptions } from '../primary/primary-options.js';
import type { ReloadReport, ReloadRequester, ShutdownReport } from '../primary/primary-events.js';
import type { WorkerHandle } from '../primary/pool/worker-handle.js';
import type { HealthOptions } from '../primary/features/listen-health.js';
import { CrashLoopError, ListenError, LoggerError, ServiceStartError, WorkerStartupError } from '../errors.js';
import { readableListenError } from './listen-error.js';
import { toError } from '../to-error.js';
import { clusterStatus } from '../control/cluster-status.js';
import type { ClusterStatus } from '../control/control-protocol.js';
import { clusterSettings, type ClusterDescription, type SettingsSource } from '../control/cluster-settings.js';
import type { ControlServer } from '../control/control-server.js';
import { takeRuntimeDirWarning } from '../control/runtime-dir.js';
import type { LogSource } from '../control/log-protocol.js';
import { checkModuleExists, type ModuleRef } from './module-loader.js';
import { attachServiceCallbacks, runCallback, type PrimaryCallbacks } from './service-callbacks.js';
import { serveControl } from './service-control.js';
import type { EnvSource } from '../control/update-env.js';
import type { PrimaryStartupInfo } from './service-options.js';
import { typeScriptLoaderHint } from '../primary/pool/loader-hint.js';
import { workerNodeOptions } from '../primary/pool/node-option-failure.js';
import { emitWarningSafely, isReportedAsWarning } from '../safe-emit.js';
import { describeStartFailure } from './start-failure.js';
import { describeWorkerCount } from '../primary/worker-count-line.js';
import { shellWord } from '../shell-word.js';
import { lifecycleOf } from '../primary/lifecycle/primary-lifecycle.js';
import { checkNoExtraArguments, extraArgumentError } from '../extra-arguments.js';

export interface ServicePrimarySpec {
  /** Log prefix and status name. */
  readonly name: string;
  /** The control socket's name; undefined for no control socket. */
  readonly controlName: string | undefined;
  readonly module: ModuleRef;
  readonly workerCount: number;
  /** Why this count (worker-count.ts), logged once before any worker starts. */
  readonly workerCountReason: string;
  /** A control `stop` (like SIGTERM) ends the process, and so does losing every worker slot. */
  readonly ownsProcess: boolean;
  readonly logger: Logger | false;
  readonly primaryOptions: Omit<PrimaryOptions, 'workerCount' | 'logger'>;
  readonly callbacks: PrimaryCallbacks & { onPrimaryStartup?: ((info: PrimaryStartupInfo) => unknown) | undefined };
  /** Called with the primary as soon as it is made, before its start (the CLI's launcher link: a stop during the start interrupts it). */
  readonly onPrimary?: ((primary: ClusterPrimary) => void) | undefined;
  /**
   * Called once the control socket holds the name, before any fork (`clusterkit run` reports the
   * lines a previous primary's orphaned workers left, H417): no other primary of the name runs.
   */
  readonly onNameClaimed?: ((socketPath: string) => void) | undefined;
  /** Called at each fork, before the worker runs (the CLI pipes its output here). */
  readonly onWorkerFork?: ((worker: WorkerHandle) => void) | undefined;
  /** The output `clusterkit logs` reads over the control socket (the CLI's log buffer). */
  readonly logs?: LogSource | undefined;
  /** The app's env loaded again from its settings files, for `clusterkit reload --update-env` (`clusterkit run`'s, H336). */
  readonly updateEnv?: EnvSource | undefined;
  /**
   * `clusterkit run`'s: a control refusal's message with the library's option names as its flags,
   * as its log says them (`ControlHandlers.inFlagNames`, H359), and so the failures its `status`
   * and `events` answers carry, which then say `optionNames: 'flags'` (H363); without it, in the
   * option names the service was given (`startClusteredService`'s `minReadyMs`), `'api'`.
   */
  readonly inFlagNames?: ((message: string) => string) | undefined;
  /**
   * `/healthz`, `/readyz` and `/metrics` (`listenHealth()`), opened before any fork, for
   * `clusterkit run --health-port` and `startClusteredService`'s `health`. `flag`: what set the
   * port, for a refusal: `--health-port`, `--health-port (healthPort in app.config.ts)`, or
   * `the "health.port" option`.
   */
  readonly health?: (HealthOptions & { readonly flag: string }) | undefined;
  /** Whether a worker wrote any output, for a caller that pipes it (the CLI): a failed start names its output only then. */
  readonly hasPrinted?: ((workerId: number) => boolean) | undefined;
  /** Said after a start that failed because a worker was not ready in time (`--wait-ready`'s advice). */
  readonly readyTimeoutHint?: string | undefined;
  /**
   * What `clusterkit show` says that the primary's options do not hold (the CLI's script
   * arguments, watch, the env names the user gave); by default, the options' own.
   */
  readonly settings?: Pick<SettingsSource, 'scriptArgs' | 'cronSource' | 'waitReady' | 'watch' | 'envNames' | 'ignoredPm2Keys' | 'logFiles'> | undefined;
  /**
   * `clusterkit run --watch` (H333): when every slot has given up in a crash loop, the primary
   * stays up with no worker and waits for a change (or a reload), which starts them again. Else
   * the service stops, and the process exits 1 if it is ours.
   */
  readonly waitsForChange?: boolean | undefined;
}

/** The running service, in the primary process. */
export interface PrimaryService {
  readonly role: 'primary';
  readonly primary: ClusterPrimary;
  /** The service's name (its log prefix). */
  readonly serviceName: string;
  /** Path of the control socket, when there is one. */
  readonly controlSocket: string | undefined;
  /** Workers the service is meant to run (changed by `scale()`). */
  readonly workerCount: number;
  /** The figures `clusterkit status` shows. */
  status(): ClusterStatus;
  /** The status and the settings in force, which `clusterkit show` shows. */
  describe(): ClusterDescription;
  /** Grows or shrinks the service; surplus workers stop gracefully. */
  scale(count: number): Promise<void>;
  /** Zero-downtime rolling reload (as SIGHUP); `requestedBy` and `env` as `ClusterPrimary.reload()`'s (default `'call'`, the env in force); resolves with its `ReloadReport`. */
  reload(options?: { requestedBy?: ReloadRequester; env?: Record<string, string | undefined> }): Promise<ReloadReport>;
  /** A newer watched change supersedes the `--watch` reload under way while a replacement of it is still starting (H388); as `ClusterPrimary.supersedeReload()`. */
  supersedeReload(change: { files: readonly string[]; changedAt?: number }): boolean;
  /** Graceful shutdown; removes the control socket. Does not exit the process. */
  stop(): Promise<ShutdownReport>;
}

/** Keeps the primary's `_destroy` waiting for async shutdown callbacks. */
class ServicePrimary extends ClusterPrimary {
  /** Each leaves as it settles: a long-lived service's callbacks would otherwise be kept for good. */
  readonly #pending = new Set<Promise<unknown>>();
  /** The callbacks still pending, by name: what a `_destroy` that did not finish waited for (H694). */
  readonly #unsettled = new Map<string, number>();

  constructor(...args: ConstructorParameters<typeof ClusterPrimary>) {
    super(...args);
    nameDestroyHook(this, () => (this.#unsettled.size === 0 ? '_destroy' : [...this.#unsettled.keys()].join(' and ')));
  }

  awaitBeforeExit(name: string, pending: Promise<unknown>): void {
    this.#unsettled.set(name, (this.#unsettled.get(name) ?? 0) + 1);
    const tracked = pending.finally(() => {
      this.#pending.delete(tracked);
      const left = (this.#unsettled.get(name) ?? 1) - 1;
      if (left === 0) this.#unsettled.delete(name);
      else this.#unsettled.set(name, left);
    });
    this.#pending.add(tracked);
  }

  protected override async _destroy(): Promise<void> {
    await Promise.allSettled([...this.#pending]);
  }
}

class RunningService implements PrimaryService {
  readonly role = 'primary';
  readonly #startedAt = Date.now();
  /** Set once the control socket listens; closed at shutdown. */
  control: ControlServer | undefined;
  /** Set once the health endpoint listens. */
  healthAddress: (AddressInfo & { readonly minReady: number }) | undefined;

  constructor(
    readonly primary: ClusterPrimary,
    readonly spec: ServicePrimarySpec,
  ) {}

  get serviceName(): string {
    return this.spec.name;
  }

  get controlSocket(): string | undefined {
    return this.control?.path;
  }

  /**
   * The primary's target, given-up slots included, as /metrics counts it (H284: before, the last
   * scale's count, which a scale-up whose new slot gave up put back: "1/2 ready (2 errored)"
   * beside clusterkit_workers_target 3). It moves as a scale is accepted (H208).
   */
  get workerCount(): number {
    // Before the start adds its slots (during _init), the count it will start.
    const { state } = this.primary;
    return state === 'created' || state === 'starting' ? this.spec.workerCount : this.primary.targetWorkers;
  }

  status(): ClusterStatus {
    // Retest t85 (1i): the service's calls refuse an argument they do not take, as ClusterPrimary's do (H716).
    if (arguments.length > 0) checkNoExtraArguments('status()', arguments, []);
    const { inFlagNames } = this.spec;
    const optionNames = inFlagNames === undefined ? 'api' : 'flags';
    const found = clusterStatus(this.primary, { name: this.spec.name, script: this.spec.module.path, startedAt: this.#startedAt, targetWorkers: () => this.workerCount, optionNames });
    // `clusterkit run`'s: a given-up slot's last failure in its flags, as its log says it (H363:
    // `status` said `(option "readyTimeoutMs")` of a cluster started with --ready-timeout).
    // So is a failing slot's (H396).
    const status =
      inFlagNames === undefined
        ? found
        : {
            ...found,
            ...(found.givenUpSlots === undefined ? {} : { givenUpSlots: found.givenUpSlots.map((slot) => ({ ...slot, lastFailure: inFlagNames(slot.lastFailure) })) }),
            ...(found.failingSlots === undefined ? {} : { failingSlots: found.failingSlots.map((slot) => ({ ...slot, lastFailure: inFlagNames(slot.lastFailure) })) }),
            // And the last reload's error, as `clusterkit reload` said it (ops tester t57: `minReadyMs` in `status --json`, `--min-ready` in the reload's output).
            ...(found.lastReload?.error === undefined ? {} : { lastReload: { ...found.lastReload, error: inFlagNames(found.lastReload.error) } }),
          };
    // Every slot given up, under --watch: no worker, and waiting for a change (H333).
    const waiting = this.spec.waitsForChange === true ? waitingFor(this.primary, this.spec.name) : undefined;
    return waiting === undefined ? status : { ...status, state: 'waiting', waiting };
  }

  describe(): ClusterDescription {
    if (arguments.length > 0) checkNoExtraArguments('describe()', arguments, []);
    const { spec } = this;
    const given = spec.settings ?? { scriptArgs: spec.primaryOptions.workerArgs ?? [], envNames: Object.keys(spec.primaryOptions.env ?? {}) };
    return { ...this.status(), settings: clusterSettings(this.primary, { ...given, countReason: spec.workerCountReason, health: this.healthAddress }) };
  }

  async scale(count: number): Promise<void> {
    if (arguments.length > 1) checkNoExtraArguments('scale()', arguments, ['count']);
    await this.primary.scale(count);
  }

  /** A rolling reload; `requestedBy` and `env` as `ClusterPrimary.reload()`'s, and resolves with its `ReloadReport` as that does. */
  reload(options: { requestedBy?: ReloadRequester; env?: Record<string, string | undefined> } = {}): Promise<ReloadReport> {
    const refused = arguments.length > 1 ? extraArgumentError('reload()', arguments, ['options']) : undefined;
    if (refused !== undefined) return Promise.reject(refused);
    return this.primary.reload(options);
  }

  /** A newer watched change supersedes the `--watch` reload under way, if a replacement of it is still starting (H388); as `ClusterPrimary.supersedeReload()`. */
  supersedeReload(change: { files: readonly string[]; changedAt?: number }): boolean {
    if (arguments.length > 1) checkNoExtraArguments('supersedeReload()', arguments, ['change']);
    return this.primary.supersedeReload(change);
  }

  async stop(): Promise<ShutdownReport> {
    if (arguments.length > 0) checkNoExtraArguments('stop()', arguments, []);
    const report = await this.primary.shutdown();
    this.control?.close();
    return report;
  }
}

/**
 * Starts the primary and its workers.
 * @throws WorkerModuleError when the module does not exist (before any fork).
 * @throws ClusterNameInUseError when a live cluster has the same name (before any fork).
 * @throws ServiceStartError when the workers could not start (the crash-loop breaker tripped).
 */
export async function startServicePrimary(spec: ServicePrimarySpec): Promise<PrimaryService> {
  checkModuleExists(spec.module);
  const { logger } = spec;
  const primary = new ServicePrimary({ ...spec.primaryOptions, workerCount: spec.workerCount, logger });
  const service = new RunningService(primary, spec);
  spec.onPrimary?.(primary);
  attachServiceCallbacks(primary, spec.callbacks, { logger, targetWorkers: () => service.workerCount, awaitBeforeExit: (name, pending) => primary.awaitBeforeExit(name, pending) });
  if (spec.onWorkerFork) primary.on('workerFork', ({ worker }) => spec.onWorkerFork!(worker));
  // Failures that belong to no call (a failed write, a throwing listener) are logged: a
  // service's primary must not die of them. A warning (connections refused at the app's
  // maxConnections) is the app's condition, not the primary's fault: no ERROR to page on (H213).
  primary.on('error', (error) => {
    // The logger's own failure goes where no line of it goes (H727): to the same logger, it was lost.
    if (error instanceof LoggerError) {
      emitWarningSafely(error);
      return;
    }
    if (!logger) return;
    if (isReportedAsWarning(error)) logger.warn({ err: error }, error.message);
    else logger.error({ err: error }, `primary error: ${error.message}`);
  });
  // Opened before any fork, so a name already in use fails the start before anything runs.
  if (spec.controlName !== undefined) {
    service.control = await serveControl(spec.controlName, service, spec.ownsProcess, spec.logs, spec.updateEnv, spec.inFlagNames);
    // An XDG_RUNTIME_DIR that is ignored is said once, beside the control path it changed (H384).
    const warning = takeRuntimeDirWarning();
    if (warning !== undefined && logger) logger.warn({ variable: 'XDG_RUNTIME_DIR', controlDirectory: dirname(service.control.path) }, warning);
    spec.onNameClaimed?.(service.control.path);
  }
  primary.on('shutdownComplete', () => service.control?.close());
  // Before any fork too: a port in use fails the start at once, and a startup probe sees
  // /readyz answer 503 while the workers start, not a refused connection.
  if (spec.health) await listenServiceHealth(primary, spec, service);
  if (logger) logger.info({ workers: spec.workerCount }, describeWorkerCount(spec.workerCount, spec.workerCountReason));
  // Under --watch, initial workers that crash-loop leave the primary waiting for a change, as after the start (H347).
  if (spec.waitsForChange === true) lifecycleOf(primary)!.waitsAfterFailedStart = true;
  let workers: WorkerHandle[];
  try {
    workers = await primary.start();
  } catch (error) {
    service.control?.close();
    throw describeStartFailure(error, spec.name, loaderHint(spec) ?? (isReadyTimeout(error) ? spec.readyTimeoutHint : undefined), spec.hasPrinted);
  }
  watchForLostService(primary, spec);
  if (primary.givenUpSlots().length > 0 && waitAfterFailedStart(primary, spec)) return service;
  if (spec.callbacks.onPrimaryStartup) await runCallback(logger, 'onPrimaryStartup', spec.callbacks.onPrimaryStartup, { workerCount: workers.length });
  // With onPrimaryStartup too (newcomer t76 #7: its service said nothing of its start, its workers' pids or its control socket).
  if (logger) logStarted(logger, spec, workers, service.controlSocket);
  return service;
}

async function listenServiceHealth(primary: ClusterPrimary, spec: ServicePrimarySpec, service: RunningService): Promise<void> {
  const { flag, ...options } = spec.health!;
  try {
    const { address } = await primary.listenHealth(options);
    service.healthAddress = { ...address, minReady: options.minReady ?? 1 };
    const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
    if (spec.logger) spec.logger.info({ healthPort: address.port }, `health endpoint on http://${host}:${address.port}: /healthz, /readyz, /metrics`);
  } catch (error) {
    service.control?.close();
    // The CLI names the flag itself: the Node error is the part to read.
    const reason = toError(readableListenError(error instanceof ListenError ? error.cause : error)).message;
    // A host that does not resolve, or is none of this machine's, names the host's option, not the port's (hostile t64: "Choose another port").
    const errno = error instanceof ListenError ? error.errno : undefined;
    const hostFlag = flag.startsWith('--') ? '--health-host' : 'the "health.host" option';
    if (options.host !== undefined && (errno === 'ENOTFOUND' || errno === 'EAI_AGAIN' || errno === 'EADDRNOTAVAIL')) {
      const hint = errno === 'EADDRNOTAVAIL' ? `Give one of this machine's addresses for ${hostFlag}, or leave it out to listen on all of them.` : `Give an address, or a name this machine can resolve, for ${hostFlag}.`;
      throw new ServiceStartError(spec.name, `its health endpoint (host ${JSON.stringify(options.host)}, ${hostFlag}) could not listen: ${reason}`, { cause: error, hint, beforeWorkers: true });
    }
    throw new ServiceStartError(spec.name, `its health endpoint (port ${options.port}, ${flag}) could not listen: ${reason}`, { cause: error, hint: `Choose another port for ${flag}.`, beforeWorkers: true });
  }
}

/** The start failed because the last worker tried was not ready within `readyTimeoutMs`. */
function isReadyTimeout(error: unknown): boolean {
  return error instanceof CrashLoopError && error.cause instanceof WorkerStartupError && error.cause.reason === 'ready-timeout';
}

/** The hint for a TypeScript worker module the workers cannot load. */
function loaderHint(spec: ServicePrimarySpec): string | undefined {
  return typeScriptLoaderHint([spec.module.path], spec.primaryOptions.execArgv ?? process.execArgv, workerNodeOptions(spec.primaryOptions.env ?? {}));
}

function logStarted(logger: Logger, spec: ServicePrimarySpec, workers: WorkerHandle[], controlSocket: string | undefined): void {
  logger.info(
    { workerPids: workers.map((worker) => worker.pid).join(','), control: controlSocket },
    `service ${spec.name} started: ${workers.length} worker${workers.length === 1 ? '' : 's'}`,
  );
}

/**
 * What a primary whose every slot gave up waits for (status's `waiting`), or undefined when it
 * does not wait: it runs, and a slot has a worker or none was given up.
 */
function waitingFor(primary: ClusterPrimary, name: string): string | undefined {
  const givenUp = primary.givenUpSlots().length;
  if (primary.state !== 'running' || givenUp === 0 || givenUp !== primary.targetWorkers) return undefined;
  return `every worker crash-looped; a change to the watched files starts ${workersAgain(givenUp)}, and so does clusterkit reload ${shellWord(name)}`;
}

/** `1 worker again`, `2 workers again`. */
function workersAgain(count: number): string {
  return `${count} worker${count === 1 ? '' : 's'} again`;
}

/**
 * Under --watch, the start went on with initial slots given up in a crash loop (H347: before,
 * run exited 1, and the saved fix brought nothing back). With every slot given up, the primary
 * waits with no worker, as after the start (H333): true. Else the others serve: false.
 */
function waitAfterFailedStart(primary: ClusterPrimary, spec: ServicePrimarySpec): boolean {
  const count = primary.givenUpSlots().length;
  const isEvery = count === primary.targetWorkers;
  if (spec.logger) {
    const again = `a change to the watched files starts ${isEvery ? workersAgain(count) : count === 1 ? 'it again' : 'them again'}; clusterkit reload ${shellWord(spec.name)} also starts ${count === 1 ? 'it' : 'them'}`;
    spec.logger.warn(
      { givenUp: count },
      isEvery
        ? `the start failed: every worker crash-looped; waiting for a change to the watched files to start ${workersAgain(count)}; clusterkit reload ${shellWord(spec.name)} also starts ${count === 1 ? 'it' : 'them'}`
        : `the start failed for ${count} worker slot${count === 1 ? '' : 's'} (crash loop); the other workers serve; ${again}`,
    );
  }
  // The pool holds the process meanwhile (WorkerPool.holdWithoutWorkers(), H504; H333 before it).
  return isEvery;
}

/**
 * A slot that crash-loops after the start is no longer restarted while the others serve on.
 * When the last one gives up, nothing serves any more: stop, and exit 1 if the process is ours.
 * Under --watch, the primary waits with no worker instead: the fix the developer saves next
 * starts them again, as nodemon waits for a change after a crash (H333: before, run ended,
 * and the saved fix brought nothing back).
 */
function watchForLostService(primary: ClusterPrimary, spec: ServicePrimarySpec): void {
  primary.on('crashLoop', ({ error, remainingSlots }) => {
    if (primary.state !== 'running' || remainingSlots > 0) return;
    if (spec.waitsForChange === true) {
      const count = primary.givenUpSlots().length;
      if (spec.logger) {
        spec.logger.warn(
          { givenUp: count },
          `every worker crash-looped; waiting for a change to the watched files to start ${workersAgain(count)}; clusterkit reload ${shellWord(spec.name)} also starts ${count === 1 ? 'it' : 'them'}`,
        );
      }
      // The pool holds the process until a worker forks again (H504; H333 before it).
      return;
    }
    if (spec.logger) spec.logger.error({}, `service ${spec.name} has no worker left: every slot failed too often (${error.message})`);
    void primary.shutdown({ requestedBy: 'no-worker-left' }).then(() => {
      if (spec.ownsProcess) process.exit(1);
    });
  });
}
