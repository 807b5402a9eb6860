/**
 * `startClusteredService` options: the runner's own, and the `ClusterPrimary` options it
 * passes through under the same names (restart, heartbeat, maxMemoryMb, handleSignals...).
 */
import { isAbsolute, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { InvalidOptionError } from '../errors.js';
import type { Logger } from '../logger.js';
import { kPrimaryOptionNames, kPrimarySynonyms, loggerOption, maxWorkersOption } from '../primary/primary-options.js';
import type { PrimaryOptions } from '../primary/primary-options.js';
import type { UncaughtError } from '../messaging/system-types.js';
import { checkClusterName } from '../control/runtime-dir.js';
import { nameFromFile } from '../control/cluster-name.js';
import { booleanOption, knownOptions, kSafeIntegerRule } from '../validate.js';
import { decideWorkerCount } from './worker-count.js';
import { runnablePath, workerNodeOptionList } from '../typescript-sibling.js';
import { serviceHealthOption, type ServiceHealthOptions } from './service-health-option.js';

/** Any ES module namespace: what `import()` of the worker module returns. */
export type WorkerModuleNamespace = Record<string, unknown>;

/** Called in each worker once its module is imported; the worker is ready after it. */
export interface WorkerStartupInfo<Module> {
  readonly workerModule: Module;
  readonly pid: number;
  readonly workerId: number;
}

export interface WorkerShutdownInfo<Module> {
  readonly workerModule: Module;
  readonly pid: number;
  readonly workerId: number;
}

export interface PrimaryStartupInfo {
  /** Workers running now (all ready). */
  readonly workerCount: number;
}

export interface PrimaryShutdownInfo {
  /** The signal that triggered the shutdown; undefined for `stop()` or `clusterkit stop`. */
  readonly signal: NodeJS.Signals | undefined;
}

export interface WorkerSpawnedInfo {
  readonly workerId: number;
  readonly pid: number;
  /** How many workers the service is meant to run (its worker count, changed by `scale`). */
  readonly totalWorkers: number;
}

export interface WorkerCrashedInfo {
  readonly workerId: number;
  readonly pid: number | undefined;
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /**
   * What it died of, when it died of an uncaught exception or an unhandled rejection and said so
   * before its exit (`workerCrash.error`): `{ origin, name, message, code?, location? }`, where
   * `message` is at most 1 024 characters and `location` the first stack frame in the user's
   * code (`/srv/api.js:12:7`). The worker's own text, control characters escaped. Absent for
   * other deaths: a signal, `process.exit(1)`, a native crash.
   */
  readonly error?: UncaughtError;
}

export interface WorkerExitInfo {
  readonly workerId: number;
  readonly pid: number | undefined;
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** True when the primary stopped it (shutdown, reload, scale), false for a crash. */
  readonly expected: boolean;
}

type MaybePromise = void | Promise<void>;

export interface ClusteredServiceOptions<Module extends object = WorkerModuleNamespace> extends Omit<PrimaryOptions, 'workerCount'> {
  /**
   * The service's name: the prefix of its log lines and, when given, the name of its control
   * socket (`clusterkit status <serviceName>`). Any name `clusterkit run --name` takes
   * (`'Billing API'`, `api@v2`; docs/cli.md, Cluster names).
   * @default the worker module's file name, and no control socket
   * @example 'api'
   */
  serviceName?: string;
  /**
   * The module each worker imports. It starts the service on import (listens, connects) and
   * exports what must be cleaned up. A path (relative to the current directory) or a `file:`
   * URL; `.ts` works when the primary runs with a loader such as `--import tsx`.
   * @example new URL('./server.js', import.meta.url)
   */
  workerModule: string | URL;
  /**
   * Number of workers, always honoured up to `maxWorkers`; or `'auto'`: one per core
   * (`os.availableParallelism()`, capped by a container's CPU quota and by `maxWorkers`), except
   * in development mode, which runs one; or `'max'`: one per core always, development mode or
   * not (PM2's `instances: 'max'`, as `clusterkit run -w max`). The count and its reason are
   * logged once at start.
   * @default 'auto'
   */
  workers?: number | 'auto' | 'max';
  /**
   * Development mode, for a `workers` left out or `'auto'`: one worker, so logs and breakpoints
   * stay simple. Cannot be `true` with a number of `workers` or `'max'`.
   * @default true unless `NODE_ENV` (the workers': the `env` option's, else the process's) is `'production'`
   */
  dev?: boolean;
  /**
   * Serve `clusterkit status|reload|stop|scale <serviceName>` on a Unix socket only this user
   * can reach. Needs `serviceName`.
   * @default true when `serviceName` is given
   */
  control?: boolean;
  /**
   * Register every server the worker module listens on with `trackServer()`, so stop and
   * reload drain its connections instead of cutting them. The runner then closes those servers
   * itself, before `onWorkerShutdown`.
   * @default true
   */
  trackServers?: boolean;
  /**
   * The primary's health endpoint, as `primary.listenHealth()` serves it (and `clusterkit run
   * --health-port`): `GET /healthz` 200 while the primary answers (liveness); `GET /readyz` 200
   * while at least `minReady` workers are ready and answer the heartbeat, 503 otherwise and from
   * the moment shutdown begins; `GET /metrics`, the Prometheus text. It listens as the primary
   * starts, before any fork (a port in use fails the start; `/readyz` answers 503 while the
   * workers start), and closes when the shutdown completes.
   * - `port`: TCP port, 0 to 65535 (0: any free port; `describe().settings.health` says which). Required.
   * - `host`: address to listen on. @default every address
   * - `minReady`: ready workers `/readyz` needs, an integer >= 0 (0: 200 with no worker at all;
   *   more than `workers`: 503 until a scale-up brings that many). @default 1
   * @default none
   * @example health: { port: 9090, minReady: 2 }
   */
  health?: ServiceHealthOptions;
  /** In the primary, once every worker is ready. @default a log line */
  onPrimaryStartup?: (event: PrimaryStartupInfo) => MaybePromise;
  /** In the primary, when the shutdown begins; awaited before the primary exits. */
  onPrimaryShutdown?: (event: PrimaryShutdownInfo) => MaybePromise;
  /** In the primary, when a worker process is running (initial, restart, reload, scale). */
  onWorkerSpawned?: (event: WorkerSpawnedInfo) => void;
  /**
   * In the primary, when a worker exited unexpectedly with a failure (`workerCrash`: an uncaught
   * error, a non-zero code, a signal); it is restarted per `restart`. An unplanned exit with code
   * 0 is told by `onWorkerExit` (`expected: false`) only.
   */
  onWorkerCrashed?: (event: WorkerCrashedInfo) => void;
  /** In the primary, after every worker exit, expected or not. */
  onWorkerExit?: (event: WorkerExitInfo) => void;
  /** In each worker, after the module was imported; throwing fails the worker's start. */
  onWorkerStartup?: (event: WorkerStartupInfo<Module>) => MaybePromise;
  /**
   * In each worker when it stops (shutdown, reload, scale-down), after its servers drained:
   * close pools and queues here. Bounded by `shutdownTimeoutMs`.
   * @example async ({ workerModule }) => { await workerModule.pool.end(); }
   */
  onWorkerShutdown?: (event: WorkerShutdownInfo<Module>) => MaybePromise;
}

export const kCallbackNames = [
  'onPrimaryStartup',
  'onPrimaryShutdown',
  'onWorkerSpawned',
  'onWorkerCrashed',
  'onWorkerExit',
  'onWorkerStartup',
  'onWorkerShutdown',
] as const;

type CallbackName = (typeof kCallbackNames)[number];
const kRunnerKeys = ['serviceName', 'workerModule', 'workers', 'dev', 'control', 'trackServers', 'health', ...kCallbackNames] as const;

/** What `startClusteredService` takes: its own options, then ClusterPrimary's (`workerCount` among them only to be refused with its name here). */
// Not `workerCount`: the runner refuses it ("workers"), so a typo's list of known options must not offer it (newcomer t63).
const kServiceOptionNames: readonly string[] = [...kRunnerKeys, ...kPrimaryOptionNames.filter((name) => name !== 'workerCount' && !(kRunnerKeys as readonly string[]).includes(name))];

/** PM2's words for the runner's options, over ClusterPrimary's. */
const kServiceSynonyms: Readonly<Record<string, string>> = { ...kPrimarySynonyms, instances: 'workers', script: 'workerModule', exec: 'workerModule' };

export interface NormalizedServiceOptions<Module extends object> {
  readonly serviceName: string | undefined;
  /** `serviceName`, or the module's file name: the prefix of log lines. */
  readonly displayName: string;
  readonly modulePath: string;
  /** `workerModule` was a relative path: a missing module's error says it was found from the current directory. */
  readonly isModuleRelative: boolean;
  readonly moduleUrl: string;
  /** Development mode chose the worker count (1). */
  readonly isDev: boolean;
  /** Workers to run (worker-count.ts), and why, for the start line. */
  readonly workerCount: number;
  readonly workerCountReason: string;
  readonly control: boolean;
  readonly trackServers: boolean;
  /** `health` checked; undefined for no health endpoint. */
  readonly health: ServiceHealthOptions | undefined;
  readonly ownsProcess: boolean;
  readonly callbacks: Readonly<Pick<ClusteredServiceOptions<Module>, CallbackName>>;
  /** Everything else, for `ClusterPrimary` (which validates it). */
  readonly primaryOptions: Readonly<Omit<PrimaryOptions, 'workerCount'>> & { logger?: Logger | false };
}

/** A count of workers; a refusal names the words too, which are accepted. */
function workersOption(value: unknown): number {
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 1) return value;
  throw new InvalidOptionError('workers', `a positive integer ${kSafeIntegerRule}, 'auto' (one per CPU, one in development mode) or 'max' (one per CPU)`, value);
}

/** @throws InvalidOptionError naming the first invalid option. */
export function normalizeServiceOptions<Module extends object>(input: ClusteredServiceOptions<Module>): NormalizedServiceOptions<Module> {
  // Read once, into a plain copy: a getter or Proxy trap that throws is an InvalidOptionError.
  // A typo is named against the runner's own options and ClusterPrimary's, the runner's first, with its own words for PM2's.
  // ClusterPrimary's `workerCount` is the runner's `workers`: named so, and not offered in the list of known options.
  const options = knownOptions(input, kServiceOptionNames, 'options', '', { workerCount: 'workers' }, kServiceSynonyms) as Partial<ClusteredServiceOptions<Module>> & Record<string, unknown>;
  // `new URL('./server.js', import.meta.url)` with only server.ts there, the workers loading TypeScript: import server.ts (H380).
  const modulePath = runnablePath(workerModuleOption(options.workerModule), workerNodeOptionList(givenExecArgv(options.execArgv), givenNodeOptions(options.env)));
  const isModuleRelative = typeof options.workerModule === 'string' && !options.workerModule.startsWith('file:') && !isAbsolute(options.workerModule);
  const serviceName = options.serviceName === undefined ? undefined : checkClusterName(options.serviceName);
  const maxWorkers = maxWorkersOption(options.maxWorkers);
  const workers = options.workers === undefined || options.workers === 'auto' ? 'auto' : options.workers === 'max' ? 'max' : workersOption(options.workers);
  if (typeof workers === 'number' && workers > maxWorkers) {
    throw new InvalidOptionError('workers', `at most ${maxWorkers}, the "maxWorkers" option (raise it to run more workers)`, workers);
  }
  const dev = options.dev === undefined ? undefined : booleanOption(options.dev, 'dev', false);
  if (dev === true && workers !== 'auto') {
    throw new InvalidOptionError('dev', `left out when "workers" is ${workers === 'max' ? "'max'" : 'a number'} (development mode runs one worker; an explicit count is always honoured)`, true);
  }
  const env = options.env;
  const nodeEnv = typeof env === 'object' && env !== null && Object.hasOwn(env, 'NODE_ENV') ? env.NODE_ENV : process.env.NODE_ENV;
  // The option's name, as ClusterPrimary names "workerCount": not "the configured count" (H226).
  const count = decideWorkerCount({ workers, dev, nodeEnv, devOption: 'dev: true', maxWorkers, source: typeof workers === 'number' ? 'the "workers" option' : undefined });
  const control = booleanOption(options.control, 'control', serviceName !== undefined);
  if (control && serviceName === undefined) throw new InvalidOptionError('control', 'false (or left out) when there is no "serviceName" to name the socket', true);
  const callbacks: Partial<Record<CallbackName, unknown>> = {};
  for (const name of kCallbackNames) callbacks[name] = functionOption(options[name], name);
  const primaryOptions: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(options)) if (!(kRunnerKeys as readonly string[]).includes(key)) primaryOptions[key] = value;
  // Guarded here, not only by the primary: the runner's own lines and its workers' go through the same logger (H727).
  if (primaryOptions.logger !== undefined) primaryOptions.logger = loggerOption(primaryOptions.logger);
  return Object.freeze({
    serviceName,
    displayName: serviceName ?? moduleBaseName(modulePath),
    modulePath,
    isModuleRelative,
    moduleUrl: pathToFileURL(modulePath).href,
    isDev: count.isDev,
    workerCount: count.count,
    workerCountReason: count.reason,
    control,
    trackServers: booleanOption(options.trackServers, 'trackServers', true),
    health: serviceHealthOption(options.health),
    ownsProcess: booleanOption(options.handleSignals, 'handleSignals', true),
    callbacks: Object.freeze(callbacks) as NormalizedServiceOptions<Module>['callbacks'],
    primaryOptions: Object.freeze(primaryOptions),
  });
}

function workerModuleOption(value: unknown): string {
  if (value instanceof URL) {
    if (value.protocol !== 'file:') throw new InvalidOptionError('workerModule', 'a path or a file: URL', value.href);
    return fileURLToPath(value);
  }
  if (typeof value === 'string' && value.startsWith('file:')) return fileURLToPath(value);
  if (typeof value === 'string' && value.length > 0) return isAbsolute(value) ? value : resolve(value);
  throw new InvalidOptionError('workerModule', 'a path or a file: URL of the module each worker imports', value);
}

/** The workers' Node options as ClusterPrimary will take them (it checks them): given, else the primary's own. */
function givenExecArgv(value: unknown): readonly string[] {
  return Array.isArray(value) && value.every((option) => typeof option === 'string') ? (value as string[]) : process.execArgv;
}

/** The workers' NODE_OPTIONS: the `env` option's when it has the key, else the primary's. */
function givenNodeOptions(env: unknown): string | undefined {
  if (typeof env === 'object' && env !== null && Object.hasOwn(env, 'NODE_OPTIONS')) {
    const value = (env as Record<string, unknown>).NODE_OPTIONS;
    return typeof value === 'string' ? value : undefined;
  }
  return process.env.NODE_OPTIONS;
}

function functionOption(value: unknown, name: string): unknown {
  if (value !== undefined && typeof value !== 'function') throw new InvalidOptionError(name, 'a function', value);
  return value;
}

/** `/srv/api/server.ts` -> `server`, as `clusterkit run` names a cluster (H261); `service` when nothing is left of the file name. */
function moduleBaseName(path: string): string {
  return nameFromFile(path).name ?? 'service';
}
