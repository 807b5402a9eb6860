/**
 * `clusterkit run --watch` and a change of what the app's settings were made of (H306): the
 * config file its primary was started from, its `--env-file` or its `envFile`. A reload only
 * loads the code on disk; the settings (env, workers, node args, ...) are the primary's, taken
 * when `clusterkit run` started. A reload whose changes include one of those files said
 * `rolling reload complete`, and the user took the new env as applied (newcomer t32 H1).
 *
 * So the command line is planned again as `run` plans it (`planRun`: the config is loaded in a
 * process of its own with its deadline, never in the primary's own thread), and what it gives this
 * app is compared with the settings in force:
 *
 * - it no longer loads or checks: a WARN `ConfigUnloadableError` with the error `run` would
 *   print (the next `clusterkit run`, a restart by systemd too, would fail with it);
 * - this app's settings differ: one line naming the keys (variables by name, never a value:
 *   they may be secrets);
 * - the same settings (a comment, spacing, another app's keys): nothing, unless one of the lines
 *   above came before: then one says that the file's settings are those in force again.
 *
 * The reload itself happens all the same: code next to the config may have changed too.
 */
import { relative, sep } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { isDeepStrictEqual } from 'node:util';
import { ConfigUnloadableError } from '../../errors.js';
import type { Logger } from '../../logger.js';
import { toReadableError } from '../../readable-error.js';
import { planRun } from '../run-plan.js';
import type { RestartSettings, RunSettings, WatchSettings } from '../run-settings.js';
import { UsageError } from '../usage-error.js';
import { shellWord } from '../../shell-word.js';
import { kNoReloadClause } from './no-reload-clause.js';
import { stateOf } from './settings-file-watch.js';

/** Variables and problems named in a line; more are counted. */
const kListed = 5;

export interface ConfigChangeCheck {
  /** The files (absolute) the app's settings were read from: the config file, then the env files. */
  readonly files: readonly string[];
  /**
   * The paths (absolute) a watch reload was started for: those of the app's settings are looked
   * at again. `isReload` false: changed files the watch looks at for the settings alone (a
   * `.env`, a config outside the watched paths), which reload nothing (H316).
   */
  readonly changed: (paths: readonly string[], isReload?: boolean) => void;
  /** The cluster stops: a loading under way is ended, and nothing more is said. */
  readonly close: () => void;
}

/**
 * The check for the app run with `settings` (`logger` its primary's); undefined when no file made its settings.
 * `inForce`: the settings the workers run with now (a `clusterkit reload --update-env` changes their env, H336).
 */
export function configChangeCheck(settings: RunSettings, logger: Logger, inForce: () => RunSettings = () => settings): ConfigChangeCheck | undefined {
  const origin = settings.origin;
  if (origin === undefined) return undefined;
  const sources = [...(origin.configFile === undefined ? [] : [origin.configFile]), ...origin.envFiles];
  if (sources.length === 0) return undefined;
  const abort = new AbortController();
  const shown = (path: string) => relative(settings.cwd, path) || path;
  /** What the last check said: nothing (the settings in force), that they differ, or that the files fail. */
  let last: 'same' | 'differ' | 'fail' = 'same';
  let isChecking = false;
  /** Files changed while a check ran: checked once more after it; `isQueuedReload` whether one of those changes reloaded. */
  let queued: Set<string> | undefined;
  let isQueuedReload = false;

  const checkOnce = async (files: readonly string[], isReload: boolean): Promise<void> => {
    const names = files.map(shown);
    /** What happens to the code meanwhile: a reload, or nothing. */
    const meanwhile = isReload ? 'this reload only loads the code on disk' : kNoReloadClause;
    let now: RunSettings | undefined;
    let apps: readonly string[] = [];
    // A file written while it was loaded (truncated, then written: an editor, a script's
    // writeFileSync, a starved writer) was read half-way: its result is not the file's, and the
    // write's own change checks it again (H320: a spurious "no longer loads" under load).
    const before = sources.map(stateOf).join('|');
    try {
      const plan = await planRun(origin.args, origin.invocationDir, { isRecheck: true, signal: abort.signal, warn: (text) => logger.warn({}, text) });
      if (plan.kind === 'one') now = plan.settings;
      else if (plan.kind === 'apps') {
        apps = plan.apps.map((app) => app.name);
        now = plan.apps.find((app) => app.name === settings.name);
      }
    } catch (error) {
      if (abort.signal.aborted) return;
      // A failure waits for the file to be quiet for the watch's delay, as a reload does.
      await sleep(settings.watch?.delayMs ?? 0, undefined, { ref: false }).catch(() => undefined);
      if (abort.signal.aborted || sources.map(stateOf).join('|') !== before) return;
      const warning = new ConfigUnloadableError(names, asRunPrintsIt(error), { cause: error, isReload });
      logger.warn({ err: warning }, warning.message);
      last = 'fail';
      return;
    }
    if (abort.signal.aborted || sources.map(stateOf).join('|') !== before) return;
    if (now === undefined) {
      logger.info(
        {},
        `${listed(names)} changed, and has no app ${settings.name} now (its apps: ${apps.join(', ')}): this cluster runs on as it started; the next clusterkit run would run those apps instead`,
      );
      last = 'differ';
      return;
    }
    const keys = changedKeys(inForce(), now);
    if (keys.length > 0) {
      logger.info({}, `${listed(names)} changed ${keys.join(', ')} of app ${settings.name}: ${whenApplied(keys, settings.name)}; ${meanwhile}`);
      last = 'differ';
    } else if (last !== 'same') {
      logger.info({}, `${listed(names)} changed: ${files.length === 1 ? 'it loads' : 'they load'}, and the settings of app ${settings.name} are again those in force`);
      last = 'same';
    }
  };
  const check = async (files: readonly string[], isReload: boolean): Promise<void> => {
    isChecking = true;
    try {
      await checkOnce(files, isReload);
    } finally {
      isChecking = false;
    }
    if (queued === undefined || abort.signal.aborted) return;
    const next = [...queued];
    const isNextReload = isQueuedReload;
    queued = undefined;
    isQueuedReload = false;
    await check(next, isNextReload);
  };
  return {
    files: sources,
    changed: (paths, isReload = true) => {
      // The file itself, or a directory it is in (a watched root made again at once, H270).
      const files = sources.filter((source) => paths.some((path) => source === path || source.startsWith(path.endsWith(sep) ? path : `${path}${sep}`)));
      if (files.length === 0 || abort.signal.aborted) return;
      if (!isChecking) {
        // Never a rejection left unhandled in the primary: a fault of the check itself is said, and the cluster runs on.
        check(files, isReload).catch((error: unknown) => logger.warn({ err: error }, `looking at ${listed(files.map(shown))} again failed: ${toReadableError(error).message}`));
        return;
      }
      queued ??= new Set();
      for (const file of files) queued.add(file);
      isQueuedReload ||= isReload;
    },
    close: () => abort.abort(),
  };
}

/**
 * When changed settings take effect: an env with `clusterkit reload <name> --update-env` (H336),
 * the others when clusterkit run restarts.
 */
function whenApplied(keys: readonly string[], name: string): string {
  const env = keys.filter(isEnvKey);
  const others = keys.filter((key) => !isEnvKey(key));
  const update = `clusterkit reload ${shellWord(name)} --update-env`;
  if (others.length === 0) return `it takes effect with ${update} (or when clusterkit run restarts)`;
  const restart = `${others.length === 1 ? 'it takes' : 'they take'} effect when clusterkit run restarts`;
  if (env.length === 0) return restart;
  return `the env takes effect with ${update}, ${others.join(', ')} when clusterkit run restarts`;
}

/** `env (A, B)`: the key `changedKeys` gives for a changed env. */
export function isEnvKey(key: string): boolean {
  return key.startsWith('env (');
}

/** The error on one line, as `clusterkit run` prints it (its problems after its headline). */
export function asRunPrintsIt(error: unknown): string {
  if (!(error instanceof UsageError)) return toReadableError(error).message.split('\n')[0]!;
  const { headline, details } = error;
  if (details.length === 0) return headline;
  const more = details.length > kListed ? `; and ${details.length - kListed} more` : '';
  return `${headline} ${details.slice(0, kListed).join('; ')}${more}`;
}

type Comparison = string | null | ((before: RunSettings, after: RunSettings) => string[]);

/**
 * Each setting, by the config key that sets it; `null` for what only says where a setting came
 * from. Every key of `RunSettings` is here: a new one must be placed.
 */
const kComparisons: { readonly [Key in keyof RunSettings]-?: Comparison } = {
  name: 'name',
  script: 'script',
  scriptArgs: 'args',
  cwd: 'cwd',
  env: (before, after) => envChange(before.env, after.env),
  workers: 'workers',
  dev: 'dev',
  maxWorkers: 'maxWorkers',
  nodeArgs: 'nodeArgs',
  shutdownTimeoutMs: 'shutdownTimeout',
  gradualDrainMs: 'gradualDrain',
  minReadyMs: 'minReady',
  // How the durations were written: their values are compared on their own.
  bareDurations: null,
  readyTimeoutMs: 'readyTimeout',
  heartbeatTimeoutMs: 'heartbeatTimeout',
  waitReady: 'waitReady',
  waitListen: 'waitListen',
  healthPort: 'healthPort',
  healthHost: 'healthHost',
  healthMinReady: 'healthMinReady',
  maxMemoryMb: 'maxMemory',
  cronRestart: 'cronRestart',
  restart: (before, after) => restartChange(before.restart, after.restart),
  logFormat: 'logFormat',
  timeFormat: (before, after) => (before.timeFormat === after.timeFormat ? [] : before.timeFormat === undefined || after.timeFormat === undefined ? ['time'] : ['timeFormat']),
  watch: (before, after) => watchChange(before.watch, after.watch),
  // A changed log file path waits for a restart, as the other settings (H314).
  logFiles: (before, after) => (['outFile', 'errorFile', 'logFile'] as const).filter((key) => before.logFiles[key] !== after.logFiles[key]),
  workersSource: null,
  optionSources: null,
  keyNames: null,
  nameNote: null,
  nameFromScript: null,
  ignoredPm2Keys: null,
  // The launcher's, not the app's: read once, when it starts the apps (H331).
  noAutorestart: null,
  // Each new worker's environment: a change waits for a restart, as env's (H409).
  instanceVar: 'instance_var',
  origin: null,
};

const kRestartKeys: { readonly [Key in keyof RestartSettings]-?: string } = {
  maxRestarts: 'maxRestarts',
  windowMs: 'restartWindow',
  startupWindowMs: 'startupWindow',
  maxStartupFailures: 'maxStartupFailures',
  stableAfterMs: 'stableAfter',
  backoff: 'restartBackoff',
};

/**
 * The keys whose value differs, in the order of `kComparisons`: `env (APP_LABEL)`, `workers`;
 * each as the file spells it (H391: `max_memory_restart` in an ecosystem file, not `maxMemory`).
 */
export function changedKeys(before: RunSettings, after: RunSettings): string[] {
  const names = { ...before.keyNames, ...after.keyNames };
  const named = (key: string) => (Object.hasOwn(names, key) ? names[key]! : key);
  return Object.entries(kComparisons).flatMap(([field, comparison]: [string, Comparison]) => {
    if (comparison === null) return [];
    if (typeof comparison === 'function') return comparison(before, after).map(named);
    const key = field as keyof RunSettings;
    return isDeepStrictEqual(before[key], after[key]) ? [] : [named(comparison)];
  });
}

/** `env (A, B)`: the variables set, changed or removed, by name only. */
function envChange(before: Readonly<Record<string, string>>, after: Readonly<Record<string, string>>): string[] {
  const names = [...new Set([...Object.keys(before), ...Object.keys(after)])].filter((name) => before[name] !== after[name]);
  if (names.length === 0) return [];
  const more = names.length > kListed ? ` and ${names.length - kListed} more` : '';
  return [`env (${names.slice(0, kListed).join(', ')}${more})`];
}

function restartChange(before: RestartSettings, after: RestartSettings): string[] {
  return Object.entries(kRestartKeys).flatMap(([field, key]) => (isDeepStrictEqual(before[field as keyof RestartSettings], after[field as keyof RestartSettings]) ? [] : [key]));
}

/** `watch` (on, off, its paths), `ignoreWatch`, `watchDelay`. */
function watchChange(before: WatchSettings | undefined, after: WatchSettings | undefined): string[] {
  if (before === undefined || after === undefined) return before === after ? [] : ['watch'];
  return [
    ...(isDeepStrictEqual(before.paths, after.paths) ? [] : ['watch']),
    ...(isDeepStrictEqual(before.ignore, after.ignore) ? [] : ['ignoreWatch']),
    ...(before.delayMs === after.delayMs ? [] : ['watchDelay']),
  ];
}

/** `a`, `a and b`, `a, b and c`. */
function listed(items: readonly string[]): string {
  return items.length <= 1 ? (items[0] ?? '') : `${items.slice(0, -1).join(', ')} and ${items.at(-1)}`;
}
