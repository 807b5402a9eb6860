/**
 * What `clusterkit run` runs, and how the command line and the config file combine into it.
 * Both are parsed into a `RunLayer` (paths already absolute); `mergeRunLayers` lays the
 * command line over the file's app: a flag replaces the file's value, except `--env` and
 * `--node-arg`, which add to it (a variable given in both takes the flag's value; node uses
 * the last of a repeated option, so an added node option also wins).
 */
import type { IgnoredSetting } from '../control/cluster-settings.js';
import type { OptionSources } from './flag-names.js';
import { basename } from 'node:path';
import { nameFromFile, unnamedScript } from '../control/cluster-name.js';
import type { LogFormat } from './output-prefix.js';
import type { IgnoreKey } from './watch/ignore-advice.js';
import { UsageError } from './usage-error.js';
import { checkSocketRoom } from './arg-values.js';
import type { LogFilePaths } from './logs/log-files.js';
import { kDefaultTimeFormat } from './logs/line-time.js';
import { isBareDurationSaid, kDurationKeys, type BareDuration, type DurationKey } from './bare-duration-note.js';

/** Quiet time after the last change before a watch reload. */
export const kDefaultWatchDelayMs = 300;

export interface WatchSettings {
  /** Absolute files or directories. */
  readonly paths: readonly string[];
  /** Extra patterns (names, paths relative to the app's cwd, `*.ext`); node_modules and dot entries always. */
  readonly ignore: readonly string[];
  readonly delayMs: number;
  /** The config file's key for `ignore`, as the file spells it, when a config file is run: the warnings name it. */
  readonly ignoreKey?: IgnoreKey;
}

/** `restart` options of the primary, as given on the command line or in the config file. */
export interface RestartSettings {
  maxRestarts?: number;
  windowMs?: number;
  startupWindowMs?: number;
  maxStartupFailures?: number;
  /** A config file's `stableAfter`: no flag, as PM2 has no setting for it (its reset is a fixed 30 s). */
  stableAfterMs?: number;
  /** A config file's `restartBackoff`: the first delay; the factor and cap stay the library's. */
  backoff?: { initialMs: number };
}

export interface RunSettings {
  script: string;
  scriptArgs: string[];
  name: string;
  /** `'max'`: one per core, whatever NODE_ENV says; `'auto'`: one per core or, in development mode, one. */
  workers: number | 'auto' | 'max';
  /** The ceiling of the worker count (`--max-workers`); undefined for the default. */
  maxWorkers: number | undefined;
  /** `--dev` / `dev`: true or false when given; undefined decides by NODE_ENV (runner/worker-count.ts). */
  dev: boolean | undefined;
  shutdownTimeoutMs: number | undefined;
  /** `--gradual-drain` / `gradualDrain`: the primary's `gradualDrainMs` (0: off); undefined for its default. */
  gradualDrainMs: number | undefined;
  /** `--min-ready` / `minReady`: the primary's `minReadyMs` (0: off), H349; undefined for its default. */
  minReadyMs: number | undefined;
  /** `--heartbeat-timeout` / `heartbeatTimeout`: the primary's `heartbeat.timeoutMs` (H367); undefined for its default (10 s). */
  heartbeatTimeoutMs: number | undefined;
  /**
   * The durations in force from 1 to 999 ms that were written without a unit (`--min-ready 5`,
   * `shutdownTimeout: 30`): the start warns of each (H359, H463); a PM2-spelled key is never one.
   */
  bareDurations?: readonly BareDuration[] | undefined;
  readyTimeoutMs: number | undefined;
  /**
   * `--wait-ready` / `waitReady` (PM2's wait_ready): a worker is ready when its script calls
   * `process.send('ready')`, not when it listens.
   */
  waitReady: boolean;
  /** `--wait-listen` / `waitListen`: even the first workers are ready only once their script listens (H227). */
  waitListen: boolean;
  /**
   * `--health-port` / `healthPort`: the primary serves /healthz, /readyz and /metrics there
   * (`listenHealth()`), on `healthHost` (every address when undefined).
   */
  healthPort: number | undefined;
  healthHost: string | undefined;
  /** `--health-min-ready` / `healthMinReady`: the ready workers `/readyz` needs (`listenHealth()`'s `minReady`); undefined for its default, 1. */
  healthMinReady?: number | undefined;
  maxMemoryMb: number | undefined;
  /** `--cron-restart` / `cronRestart` (PM2's `cron_restart`, H377): a rolling reload at each match; undefined for none. */
  cronRestart?: string | undefined;
  /** The restart policy's settings given (`--max-restarts`...); unset ones keep the library's defaults. */
  restart: RestartSettings;
  nodeArgs: string[];
  logFormat: LogFormat;
  /**
   * `--time` / `time: true`, with `--time-format` / `timeFormat` (PM2's `log_date_format`): the
   * format of the time each text line starts with (H335); undefined for no time, and always with
   * `logFormat: 'json'`, whose lines have their `time` field.
   */
  timeFormat: string | undefined;
  /** Added to the inherited environment of the workers. */
  env: Record<string, string>;
  /** The app's working directory (the primary's and the workers'). */
  cwd: string;
  watch: WatchSettings | undefined;
  /** `--output`/`--error`/`--log` (`outFile`, `errorFile`, `logFile`): absolute paths; each undefined when not asked for (logs/log-files.ts). */
  logFiles: LogFilePaths;
  /** What set `workers` or `dev`, when a config file did and no flag replaced it: `instances: -1 in ecosystem.config.js, every CPU but 1`. */
  workersSource?: string | undefined;
  /**
   * A config key -> the config file's spelling of it, where the two differ: the key as the file
   * wrote it, else PM2's for a PM2 ecosystem file (`maxMemory` -> `max_memory_restart`). A line
   * that names a changed key names it so (H391).
   */
  keyNames?: Readonly<Record<string, string>> | undefined;
  /** The API options a config file set (not overridden by a flag), by the key it wrote: `listen_timeout in wr.config.js` (flag-names.ts). */
  optionSources?: OptionSources | undefined;
  /** Said at the start when the name was made of a script file name that is no cluster name as it is (H261). */
  nameNote?: string | undefined;
  /** The script's file name when the cluster is named after it (no --name, no "name" key): a name clash then suggests --name (H280). */
  nameFromScript?: string | undefined;
  /** A PM2 ecosystem app's keys that were not used (`out_file`, `max_restarts: 0`), for `clusterkit show` (H243). */
  ignoredPm2Keys?: readonly IgnoredSetting[] | undefined;
  /** PM2's `autorestart: false`: run with other apps, the launcher does not start the app again when its primary exits (H331). */
  noAutorestart?: boolean | undefined;
  /** PM2's `instance_var` (other than NODE_APP_INSTANCE): each worker gets its slot in it too (H409). */
  instanceVar?: string | undefined;
  /** What the settings were made of (run-plan.ts): `--watch` tells when a change of it would change them (H306). */
  origin?: RunOrigin | undefined;
}

/** The command line and the files a `RunSettings` was made of. */
export interface RunOrigin {
  /** The arguments after `run`, and the directory they were typed in: planned again, they give what `run` would run now. */
  readonly args: readonly string[];
  readonly invocationDir: string;
  /** The config file read (absolute), if any. */
  readonly configFile: string | undefined;
  /** The env files read (absolute): `--env-file`'s, then the app's `envFile`. */
  readonly envFiles: readonly string[];
}

/** One source of settings; unset keys are undefined. */
export interface RunLayer {
  script?: string | undefined;
  scriptArgs?: string[] | undefined;
  name?: string | undefined;
  /** `name` was made of the script's file name (a config app without "name"). */
  isNameFromScript?: boolean | undefined;
  workers?: number | 'auto' | 'max' | undefined;
  maxWorkers?: number | undefined;
  isDev?: boolean | undefined;
  shutdownTimeoutMs?: number | undefined;
  gradualDrainMs?: number | undefined;
  minReadyMs?: number | undefined;
  heartbeatTimeoutMs?: number | undefined;
  /** The duration keys this layer wrote without a unit (`minReady: 5`, `--shutdown-timeout 30`), H359, H463. */
  bareDurations?: readonly DurationKey[] | undefined;
  readyTimeoutMs?: number | undefined;
  waitReady?: boolean | undefined;
  waitListen?: boolean | undefined;
  healthPort?: number | undefined;
  healthHost?: string | undefined;
  healthMinReady?: number | undefined;
  maxMemoryMb?: number | undefined;
  cronRestart?: string | undefined;
  maxRestarts?: number | undefined;
  restartWindowMs?: number | undefined;
  startupWindowMs?: number | undefined;
  maxStartupFailures?: number | undefined;
  stableAfterMs?: number | undefined;
  restartBackoffMs?: number | undefined;
  nodeArgs?: string[] | undefined;
  logFormat?: LogFormat | undefined;
  /** `--time` / `time`: each text line starts with its time. */
  time?: boolean | undefined;
  /** `--time-format` / `timeFormat` (checked): the time's format; alone, it turns `time` on, as PM2's `log_date_format` does. */
  timeFormat?: string | undefined;
  /** From the env file, then the explicit variables over it. */
  env?: Record<string, string> | undefined;
  cwd?: string | undefined;
  /** Paths to watch ([] for the app's cwd), or false for no watching. */
  watch?: string[] | false | undefined;
  ignoreWatch?: string[] | undefined;
  watchDelayMs?: number | undefined;
  /** Log files (absolute): a flag's replaces the file's of the same kind. */
  outFile?: string | undefined;
  errorFile?: string | undefined;
  logFile?: string | undefined;
}

/** The command line over the file's app (if any), with defaults. */
export function mergeRunLayers(file: RunLayer | undefined, flags: RunLayer, invocationDir: string): RunSettings {
  const base = file ?? {};
  const script = flags.script ?? base.script;
  if (script === undefined) throw new UsageError('Missing the script to run.', 'run');
  const cwd = flags.cwd ?? base.cwd ?? invocationDir;
  // `--dev` on the command line overrides the file's `workers`, and `-w` its `dev`.
  const isDev = flags.isDev ?? (flags.workers === undefined ? base.isDev : undefined);
  const watch = flags.watch ?? base.watch;
  const given = flags.name ?? base.name;
  // Named after the script's file (H261); a file name that is no cluster name is mapped, and said so.
  const fromFile = given === undefined ? nameFromFile(script) : undefined;
  if (fromFile !== undefined && fromFile.name === undefined) throw new UsageError(unnamedScript(script, '--name'), 'run');
  const name = given ?? fromFile!.name!;
  checkSocketRoom(name, 'run');
  const logFormat = flags.logFormat ?? base.logFormat ?? 'line';
  // The file's minReady goes with the file's port, as its host: --health-port alone needs 1 ready worker, the default.
  const healthMinReady = flags.healthPort === undefined ? (flags.healthMinReady ?? base.healthMinReady) : flags.healthMinReady;
  return {
    script,
    scriptArgs: flags.scriptArgs && flags.scriptArgs.length > 0 ? flags.scriptArgs : (base.scriptArgs ?? []),
    name,
    ...(fromFile?.note === undefined ? {} : { nameNote: fromFile.note }),
    ...(flags.name === undefined && (fromFile !== undefined || base.isNameFromScript === true) ? { nameFromScript: basename(script) } : {}),
    workers: isDev ? 'auto' : (flags.workers ?? base.workers ?? 'auto'),
    maxWorkers: flags.maxWorkers ?? base.maxWorkers,
    dev: isDev,
    shutdownTimeoutMs: flags.shutdownTimeoutMs ?? base.shutdownTimeoutMs,
    // `??`, not `||`: a 0 given (off) is a value, and wins over the file's.
    gradualDrainMs: flags.gradualDrainMs ?? base.gradualDrainMs,
    minReadyMs: flags.minReadyMs ?? base.minReadyMs,
    ...bareDurationsOf(base, flags, watch !== undefined && watch !== false),
    readyTimeoutMs: flags.readyTimeoutMs ?? base.readyTimeoutMs,
    heartbeatTimeoutMs: flags.heartbeatTimeoutMs ?? base.heartbeatTimeoutMs,
    waitReady: flags.waitReady ?? base.waitReady ?? false,
    waitListen: flags.waitListen ?? base.waitListen ?? false,
    healthPort: flags.healthPort ?? base.healthPort,
    // The file's host goes with the file's port: --health-port alone listens everywhere.
    healthHost: flags.healthPort === undefined ? (flags.healthHost ?? base.healthHost) : flags.healthHost,
    ...(healthMinReady === undefined ? {} : { healthMinReady }),
    maxMemoryMb: flags.maxMemoryMb ?? base.maxMemoryMb,
    ...((flags.cronRestart ?? base.cronRestart) === undefined ? {} : { cronRestart: flags.cronRestart ?? base.cronRestart }),
    restart: definedOnly<RestartSettings>({
      maxRestarts: flags.maxRestarts ?? base.maxRestarts,
      windowMs: flags.restartWindowMs ?? base.restartWindowMs,
      startupWindowMs: flags.startupWindowMs ?? base.startupWindowMs,
      maxStartupFailures: flags.maxStartupFailures ?? base.maxStartupFailures,
      stableAfterMs: flags.stableAfterMs ?? base.stableAfterMs,
      backoff: backoffOf(flags.restartBackoffMs ?? base.restartBackoffMs),
    }),
    nodeArgs: [...(base.nodeArgs ?? []), ...(flags.nodeArgs ?? [])],
    logFormat,
    timeFormat: logFormat === 'line' && isTimed(flags, base) ? (flags.timeFormat ?? base.timeFormat ?? kDefaultTimeFormat) : undefined,
    env: { ...base.env, ...flags.env },
    cwd,
    watch: watch
      ? { paths: watch.length > 0 ? watch : [cwd], ignore: [...(base.ignoreWatch ?? []), ...(flags.ignoreWatch ?? [])], delayMs: flags.watchDelayMs ?? base.watchDelayMs ?? kDefaultWatchDelayMs }
      : undefined,
    logFiles: definedOnly<LogFilePaths>({ outFile: flags.outFile ?? base.outFile, errorFile: flags.errorFile ?? base.errorFile, logFile: flags.logFile ?? base.logFile }),
  };
}

/**
 * The durations in force written without a unit, from 1 to 999 ms: each as the layer that set it
 * wrote it (a flag's `--min-ready 5s` over the file's `minReady: 5` is silent). `watchDelay` only
 * with a watch, which alone uses it.
 */
function bareDurationsOf(base: RunLayer, flags: RunLayer, isWatching: boolean): { bareDurations?: readonly BareDuration[] } {
  const bare = kDurationKeys.flatMap((key): BareDuration[] => {
    if (key === 'watchDelay' && !isWatching) return [];
    const field = `${key}Ms` as const;
    const isFromFile = flags[field] === undefined;
    const ms = isFromFile ? base[field] : flags[field];
    return isBareDurationSaid(ms) && ((isFromFile ? base : flags).bareDurations ?? []).includes(key) ? [{ key, ms, isFromFile }] : [];
  });
  return bare.length === 0 ? {} : { bareDurations: bare };
}

/** `time`, or a `timeFormat` alone (PM2's `log_date_format` implies its `time`); a flag's over the file's. */
export function isTimed(flags: RunLayer, base: RunLayer): boolean {
  return flags.time ?? (flags.timeFormat !== undefined ? true : undefined) ?? base.time ?? base.timeFormat !== undefined;
}

/** The keys that have a value (the library's options refuse an explicit undefined under exactOptionalPropertyTypes). */
function backoffOf(initialMs: number | undefined): RestartSettings['backoff'] {
  return initialMs === undefined ? undefined : { initialMs };
}

function definedOnly<T extends object>(settings: Record<keyof T, unknown>): T {
  return Object.fromEntries(Object.entries(settings).filter(([, value]) => value !== undefined)) as T;
}
