/**
 * The settings a primary runs with, for `clusterkit show` (PM2's `show` / `describe`): read
 * from the primary's normalized options, so they are the values in force (defaults included),
 * not what a config file said. Environment variables are named, never given: they hold secrets.
 */
import type { AddressInfo } from 'node:net';
import type { ClusterPrimary } from '../primary/cluster-primary.js';
import type { ClusterStatus } from './control-protocol.js';
import { nextCronRun } from '../primary/lifecycle/cron-restart.js';

/** A duration in ms; `null` for none (an infinite timeout, which JSON cannot write). */
export type SettingMs = number | null;

export interface ClusterSettings {
  /** Always `cluster`: the workers are node:cluster workers sharing their listening ports (PM2's `exec_mode`). */
  readonly execMode: 'cluster';
  /** The script's own arguments. */
  readonly scriptArgs: readonly string[];
  /** The worker count the cluster started with, and why that count (`the configured count`, `one per CPU`). */
  readonly instances: { readonly atStart: number; readonly reason: string | undefined };
  /** The options node runs each worker with. */
  readonly execArgv: readonly string[];
  /** How long a stopping worker may drain before it is killed (PM2's `kill_timeout`). */
  readonly shutdownTimeoutMs: SettingMs;
  /** How long a starting worker may take to be ready (PM2's `listen_timeout`). */
  readonly readyTimeoutMs: SettingMs;
  readonly gradualDrainMs: SettingMs;
  /** How long a replacement must stay up once ready before the worker it replaces stops (Kubernetes' `minReadySeconds`, H349); 0 for off; missing from an older primary. */
  readonly minReadyMs?: SettingMs;
  /** Whether a worker is ready at `process.send('ready')` rather than at listen (PM2's `wait_ready`); undefined for a library primary. */
  readonly waitReady: boolean | undefined;
  /**
   * The format `clusterkit run` stamps each line with (`--time`, `--time-format`, PM2's
   * `log_date_format`); null when its lines carry no time (or are JSON, which has its `time`);
   * missing from a library primary and an older one (H721).
   */
  readonly timeFormat?: string | null;
  /** A worker whose RSS stays above this many MiB is replaced (PM2's `max_memory_restart`); null for no limit. */
  readonly maxMemoryMb: number | null;
  /**
   * `cronRestart` (PM2's `cron_restart`, H377): the expression, and the time of the next
   * scheduled reload in the primary's local time with its offset (`2026-12-04 03:00:00 +00:00`);
   * null for none; missing from an older primary. `source`: the config key that set it, as the
   * file wrote it (`cron_restart in ecosystem.config.js`, H392); missing when a flag or the code did.
   */
  readonly cronRestart?: { readonly expression: string; readonly nextRun: string | null; readonly source?: string } | null;
  readonly restart:
    | false
    | {
        readonly backoff: { readonly initialMs: SettingMs; readonly factor: number; readonly maxMs: SettingMs };
        readonly maxRestarts: number;
        readonly windowMs: SettingMs;
        readonly startupWindowMs: SettingMs;
        readonly maxStartupFailures: number;
        readonly stableAfterMs: SettingMs;
      };
  readonly heartbeat: false | { readonly intervalMs: SettingMs; readonly timeoutMs: SettingMs };
  /**
   * `clusterkit run --watch`: false when off. `missing`: the watched paths that are gone (removed or moved away), not watched until they are back (H256).
   * `dropped`: the paths whose changes during a reload no longer reload, written while each of 3 reloads in a row ran (as an app's output is, H99, H269);
   * a change at another time takes one off (H288). `leftOut`: the paths dropped, watched again after a change at another time, and found looping
   * again: no change of theirs reloads for the rest of the run, until `clusterkit run` starts again (H511); each path is in `dropped` or in
   * `leftOut`, never both (H515); missing from an older primary, which listed them under `dropped`.
   * `looping`: code or config files written during each of the last reloads, each reloading again (H289).
   * `largeDirectories`: directories left out for the rest of the run for holding more than 2000 entries (H650); `full`: where new entries are not
   * watched now, the watch holding 50,000 entries (H650); both missing from an older primary.
   */
  readonly watch:
    | false
    | {
        readonly paths: readonly string[];
        readonly ignore: readonly string[];
        readonly delayMs: number;
        readonly missing: readonly string[];
        readonly dropped: readonly string[];
        readonly leftOut?: readonly string[];
        readonly looping: readonly { readonly path: string; readonly reloads: number }[];
        readonly largeDirectories?: readonly string[];
        readonly full?: readonly string[];
        /** How the watch ended, after which nothing is watched (its process killed, out of memory: H667); missing while it watches. */
        readonly ended?: string;
      };
  /**
   * Where the health endpoint listens, and `minReady`: the ready workers `/readyz` needs to
   * answer 200 (retest t61: `show` did not say it, so a 503 with 1 worker ready was a puzzle),
   * and `role` when it counts only the workers with that role (newcomer t63); null when there is none.
   */
  readonly health: { readonly host: string; readonly port: number; readonly minReady: number; readonly role?: string } | null;
  /** The names of the variables the cluster's settings add to the workers' environment (never their values). */
  readonly envNames: readonly string[];
  /**
   * The config file's keys that were not used (a PM2 ecosystem file's `out_file`, `max_restarts: 0`),
   * each with what clusterkit does instead: `show` says so where PM2's name would suggest it
   * applies (H243). Empty for a library primary, and missing from an older one.
   */
  readonly ignoredPm2Keys: readonly IgnoredSetting[];
  /**
   * `clusterkit run`'s log files (`--output`, `--error`, `--log`), absolute; each missing when
   * not asked for (H314). Missing too from a library primary and from an older one.
   */
  readonly logFiles?: LogFileSettings;
}

/** The log files of `clusterkit run`: stdout's, stderr's, and both's. */
export interface LogFileSettings {
  readonly outFile?: string | undefined;
  readonly errorFile?: string | undefined;
  readonly logFile?: string | undefined;
  /** Each open file's state, as `show` is asked (H322); missing from an older primary. */
  readonly states?: readonly LogFileState[] | undefined;
}

/**
 * One log file's state (H322): `written`, or `failing` since `since` (ISO time) with the error's
 * `code` (a write failed, or the file is gone and cannot be created again): it gets no lines
 * until SIGUSR2 or a fixed path reopens it.
 */
export interface LogFileState {
  readonly path: string;
  readonly state: 'written' | 'failing';
  readonly since?: string | undefined;
  readonly code?: string | undefined;
}

/** A config file's key that was not used, and why. */
export interface IgnoredSetting {
  /** The key as the file wrote it: `out_file`. */
  readonly key: string;
  /** Its value, as a message shows it: `"./logs/out.log"`, `0`. */
  readonly value: string;
  /** What clusterkit does instead, a sentence without its final period. */
  readonly instead: string;
}

/** What `clusterkit show` gets: the status, and the settings. */
export type ClusterDescription = ClusterStatus & { settings: ClusterSettings };

/** What the primary's options do not hold: the runner's (or the library's) own knowledge. */
export interface SettingsSource {
  readonly scriptArgs: readonly string[];
  readonly countReason: string | undefined;
  /** Where `cronRestart` came from when a config file set it: `cron_restart in ecosystem.config.js` (H392). */
  readonly cronSource?: string | undefined;
  readonly waitReady?: boolean | undefined;
  /** `clusterkit run`'s line stamp format, null for none; undefined (left out) for a library primary. */
  readonly timeFormat?: string | null | undefined;
  /**
   * Only under `clusterkit run --watch`, each read as `show` is asked: `missing()`: the watched paths gone now, `dropped()`: the paths no longer
   * watched during reloads, those left out for the rest of the run among them, `leftOut()`: those left out (H511), `looping()`: code reloading again and again.
   */
  readonly watch?:
    | {
        readonly paths: readonly string[];
        readonly ignore: readonly string[];
        readonly delayMs: number;
        readonly missing?: (() => readonly string[]) | undefined;
        readonly dropped?: (() => readonly string[]) | undefined;
        readonly leftOut?: (() => readonly string[]) | undefined;
        readonly looping?: (() => readonly { readonly path: string; readonly reloads: number }[]) | undefined;
        readonly largeDirectories?: (() => readonly string[]) | undefined;
        readonly full?: (() => readonly string[]) | undefined;
        readonly ended?: (() => string | undefined) | undefined;
      }
    | undefined;
  readonly health: (AddressInfo & { readonly minReady: number; readonly role?: string | undefined }) | undefined;
  /** The variables the user's settings added (the runner leaves its own internal ones out). */
  readonly envNames: readonly string[];
  /** The config file's keys that were not used (`clusterkit run` of a PM2 ecosystem file). */
  readonly ignoredPm2Keys?: readonly IgnoredSetting[] | undefined;
  /** `clusterkit run`'s log files; `states()`: each file's state, as `show` is asked (H322). */
  readonly logFiles?: (Omit<LogFileSettings, 'states'> & { readonly states?: (() => readonly LogFileState[]) | undefined }) | undefined;
}

export function clusterSettings(primary: ClusterPrimary, source: SettingsSource): ClusterSettings {
  const { options } = primary;
  const { restart, heartbeat } = options;
  return {
    execMode: 'cluster',
    scriptArgs: [...source.scriptArgs],
    instances: { atStart: options.workerCount, reason: source.countReason },
    execArgv: [...options.execArgv],
    shutdownTimeoutMs: ms(options.shutdownTimeoutMs),
    readyTimeoutMs: ms(options.readyTimeoutMs),
    gradualDrainMs: ms(options.gradualDrainMs),
    minReadyMs: ms(options.minReadyMs),
    waitReady: source.waitReady,
    ...(source.timeFormat === undefined ? {} : { timeFormat: source.timeFormat }),
    maxMemoryMb: options.maxMemoryMb ?? null,
    cronRestart: options.cronRestart === undefined ? null : { expression: options.cronRestart, nextRun: nextCronRun(options.cronRestart), ...(source.cronSource === undefined ? {} : { source: source.cronSource }) },
    restart:
      restart === false
        ? false
        : {
            backoff: { initialMs: ms(restart.backoff.initialMs), factor: restart.backoff.factor, maxMs: ms(restart.backoff.maxMs) },
            maxRestarts: restart.maxRestarts,
            windowMs: ms(restart.windowMs),
            startupWindowMs: ms(restart.startupWindowMs),
            maxStartupFailures: restart.maxStartupFailures,
            stableAfterMs: ms(restart.stableAfterMs),
          },
    heartbeat: heartbeat === false ? false : { intervalMs: ms(heartbeat.intervalMs), timeoutMs: ms(heartbeat.timeoutMs) },
    watch: source.watch === undefined ? false : watchSettings(source.watch),
    health: source.health === undefined ? null : { host: source.health.address, port: source.health.port, minReady: source.health.minReady, ...(source.health.role === undefined ? {} : { role: source.health.role }) },
    envNames: [...source.envNames].sort(),
    ignoredPm2Keys: [...(source.ignoredPm2Keys ?? [])],
    ...(source.logFiles === undefined ? {} : { logFiles: logFileSettings(source.logFiles) }),
  };
}

/**
 * The watch's settings and state now. A path left out for the rest of the run is listed under
 * `leftOut` alone (H515): under `dropped` too, `show` said a change at another time watches it
 * again, which no change does.
 */
function watchSettings(watch: NonNullable<SettingsSource['watch']>): Exclude<ClusterSettings['watch'], false> {
  const leftOut = [...(watch.leftOut?.() ?? [])];
  const isLeftOut = new Set(leftOut);
  const ended = watch.ended?.();
  return {
    paths: [...watch.paths],
    ignore: [...watch.ignore],
    delayMs: watch.delayMs,
    missing: [...(watch.missing?.() ?? [])],
    dropped: (watch.dropped?.() ?? []).filter((path) => !isLeftOut.has(path)),
    leftOut,
    looping: [...(watch.looping?.() ?? [])],
    largeDirectories: [...(watch.largeDirectories?.() ?? [])],
    full: [...(watch.full?.() ?? [])],
    ...(ended === undefined ? {} : { ended }),
  };
}

function logFileSettings(files: NonNullable<SettingsSource['logFiles']>): LogFileSettings {
  const { states, ...paths } = files;
  return { ...paths, ...(states === undefined ? {} : { states: states().map((state) => ({ ...state })) }) };
}

function ms(value: number): SettingMs {
  return Number.isFinite(value) ? value : null;
}
