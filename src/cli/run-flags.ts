/**
 * The command line of `clusterkit run`, parsed into a `RunLayer` (paths relative to the
 * directory it was typed in) and what selects the app: the positionals and `--config`.
 *
 * `--watch` takes optional paths, which `util.parseArgs` cannot express: paths follow as
 * positionals (`run server.js --watch src lib`) or as `--watch=src`.
 */
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { checkCronRestart, checkHeartbeatTimeout, isUnitless, parseCount, parseDuration, parseMemoryLimitMb, parsePort, parseWorkers } from './arg-values.js';
import { parseEnvFlags, readEnvFile } from './env-values.js';
import { configNameOf } from './config/config-file.js';
import { parseCommand } from './parse-command.js';
import type { RunLayer } from './run-settings.js';
import { isPathCommand } from './command-script-hint.js';
import { findScript, scriptCandidates, scriptNotFound } from './script-path.js';
import { UsageError } from './usage-error.js';
import { isNoLogFile } from './logs/log-files.js';
import { scriptStoppingNodeArg } from '../primary/script-stopping-node-arg.js';
import { capitalize } from '../capitalize.js';
import { compileTimeFormat } from './logs/line-time.js';
import { durationFlagOf, kDurationKeys, type DurationKey } from './bare-duration-note.js';

export const kRunOptions = {
  workers: { type: 'string', short: 'w' },
  'max-workers': { type: 'string' },
  dev: { type: 'boolean' },
  name: { type: 'string', short: 'n' },
  'shutdown-timeout': { type: 'string' },
  'gradual-drain': { type: 'string' },
  'min-ready': { type: 'string' },
  'heartbeat-timeout': { type: 'string' },
  'ready-timeout': { type: 'string' },
  'wait-ready': { type: 'boolean' },
  'wait-listen': { type: 'boolean' },
  'health-port': { type: 'string' },
  'health-host': { type: 'string' },
  'health-min-ready': { type: 'string' },
  'max-memory': { type: 'string' },
  'cron-restart': { type: 'string' },
  'max-restarts': { type: 'string' },
  'restart-window': { type: 'string' },
  'startup-window': { type: 'string' },
  'max-startup-failures': { type: 'string' },
  'node-arg': { type: 'string', multiple: true },
  'log-format': { type: 'string' },
  time: { type: 'boolean' },
  'time-format': { type: 'string' },
  env: { type: 'string', multiple: true },
  'env-file': { type: 'string', multiple: true },
  cwd: { type: 'string' },
  watch: { type: 'boolean' },
  'ignore-watch': { type: 'string', multiple: true },
  'watch-delay': { type: 'string' },
  // PM2's `pm2 start -o/-e/-l` (logs/log-files.ts).
  output: { type: 'string', short: 'o' },
  error: { type: 'string', short: 'e' },
  log: { type: 'string', short: 'l' },
  config: { type: 'string', short: 'c' },
  help: { type: 'boolean', short: 'h' },
} as const;

export interface RunFlags {
  readonly layer: RunLayer;
  /** The script or app name, then (with --watch) paths to watch. */
  readonly positionals: string[];
  /** `--config`, or the config file named in place of a script; absolute. */
  readonly configPath: string | undefined;
  /**
   * The config file named in place of a script (`run ecosystem.config.cjs`), as typed, and
   * its index in the arguments; it is not among `positionals`.
   */
  readonly configArg: { readonly typed: string; readonly ending: string; readonly index: number } | undefined;
  readonly isHelp: boolean;
  /** Flags that only make sense for one app (for the error when several would run). */
  readonly singleAppFlags: string[];
  /** `--env production`: PM2's way to pick `env_production` of an ecosystem file (run-plan.ts). */
  readonly environment?: string | undefined;
  /** The `--env-file` paths (absolute), in their order. */
  readonly envFiles?: readonly string[];
}

export function parseRunFlags(args: string[], invocationDir: string): RunFlags {
  const { args: plain, watchPaths } = takeWatchValues(args);
  const commandError = pathCommandWithItsWords(args, plain, invocationDir);
  if (commandError) throw commandError;
  const parsed = parseCommand('run', plain, kRunOptions);
  const { values, rest } = parsed;
  if (values.help) return { layer: {}, positionals: parsed.positionals, configPath: undefined, configArg: undefined, isHelp: true, singleAppFlags: [] };
  if (values.dev && values.workers !== undefined) throw new UsageError('--dev runs a single worker; leave out --workers, or leave out --dev.', 'run');
  const logFormat = values['log-format'];
  if (logFormat !== undefined && logFormat !== 'line' && logFormat !== 'json') throw new UsageError(`--log-format must be "line" or "json". Received "${logFormat}".`, 'run');
  if (logFormat === 'json' && (values.time === true || values['time-format'] !== undefined)) {
    throw new UsageError(`${values.time === true ? '--time' : '--time-format'} applies to the line format only: with --log-format json, each line has its "time" field (ms since the epoch).`, 'run');
  }
  const isWatching = values.watch === true || watchPaths.length > 0;
  if (values['health-host'] !== undefined && values['health-port'] === undefined) throw new UsageError('--health-host only applies with --health-port.', 'run');
  if (values['health-min-ready'] !== undefined && values['health-port'] === undefined) throw new UsageError('--health-min-ready only applies with --health-port.', 'run');
  if (!isWatching && (values['ignore-watch'] !== undefined || values['watch-delay'] !== undefined)) {
    throw new UsageError(`${values['ignore-watch'] ? '--ignore-watch' : '--watch-delay'} only applies with --watch.`, 'run');
  }
  const at = (path: string) => resolve(invocationDir, path);
  // `run ecosystem.config.cjs` reads the file as `--config` would: what follows is an app.
  const configArg = values.config === undefined ? configFileArg(parsed.positionals[0], optional(values.cwd, at), invocationDir) : undefined;
  const positionals = configArg === undefined ? parsed.positionals : parsed.positionals.slice(1);
  // With --watch, the positionals after the first are paths to watch.
  const watched = isWatching ? [...positionals.slice(1), ...watchPaths].map(at) : undefined;
  if (!isWatching && positionals.length > 1) {
    throw pathCommandError(positionals[0]!, [...positionals.slice(1), ...rest], optional(values.cwd, at), invocationDir) ?? new UsageError(`Unexpected argument "${positionals[1]}". Pass arguments for the script after "--".`, 'run');
  }
  const { names: environments, pairs } = splitEnvValues(values.env ?? []);
  const envFiles = (values['env-file'] ?? []).map(at);
  const env = {
    ...Object.assign({}, ...envFiles.map((file) => readEnvFile(file, '--env-file'))),
    ...parseEnvFlags(pairs),
  } as Record<string, string>;
  const layer: RunLayer = {
    scriptArgs: rest,
    name: values.name,
    workers: values.workers === undefined ? undefined : parseWorkers(values.workers, '--workers', 'run'),
    maxWorkers: optional(values['max-workers'], (value) => parseCount(value, '--max-workers', 'run')),
    isDev: values.dev,
    shutdownTimeoutMs: optional(values['shutdown-timeout'], (value) => parseDuration(value, '--shutdown-timeout', 'run')),
    // 0 turns the gradual drain off: a replaced worker releases its connections at once.
    gradualDrainMs: optional(values['gradual-drain'], (value) => parseDuration(value, '--gradual-drain', 'run', 'gradualDrain')),
    // 0 turns it off: a replacement takes over as soon as it is ready (H349).
    minReadyMs: optional(values['min-ready'], (value) => parseDuration(value, '--min-ready', 'run', 'minReady')),
    // `--min-ready 5`, `--shutdown-timeout 30` are ms: the start says so (H359, H463).
    bareDurations: bareDurationFlags(values),
    readyTimeoutMs: optional(values['ready-timeout'], (value) => parseDuration(value, '--ready-timeout', 'run')),
    // A hung worker is killed after this much silence (H367; the library's heartbeat.timeoutMs).
    heartbeatTimeoutMs: optional(values['heartbeat-timeout'], (value) => checkHeartbeatTimeout(parseDuration(value, '--heartbeat-timeout', 'run'), '--heartbeat-timeout', value)),
    waitReady: values['wait-ready'],
    waitListen: values['wait-listen'],
    healthPort: optional(values['health-port'], (value) => parsePort(value, '--health-port', 'run')),
    healthHost: values['health-host'],
    // A number of workers, not a duration (--min-ready's): at least 1, else /readyz says nothing.
    healthMinReady: optional(values['health-min-ready'], (value) => parseCount(value, '--health-min-ready', 'run')),
    maxMemoryMb: optional(values['max-memory'], (value) => parseMemoryLimitMb(value, '--max-memory', 'run')),
    // Checked now, by the parser the primary uses (H377).
    cronRestart: optional(values['cron-restart'], (value) => checkCronRestart(value, '--cron-restart', 'run')),
    maxRestarts: optional(values['max-restarts'], (value) => parseCount(value, '--max-restarts', 'run')),
    restartWindowMs: optional(values['restart-window'], (value) => parseDuration(value, '--restart-window', 'run')),
    startupWindowMs: optional(values['startup-window'], (value) => parseDuration(value, '--startup-window', 'run', 'startupWindow')),
    maxStartupFailures: optional(values['max-startup-failures'], (value) => parseCount(value, '--max-startup-failures', 'run')),
    nodeArgs: values['node-arg'] === undefined ? undefined : checkNodeArgs(values['node-arg']),
    logFormat,
    time: values.time,
    // Checked now: a token it does not know is refused by name, before anything starts (H335).
    timeFormat: optional(values['time-format'], (value) => (compileTimeFormat(value, '--time-format', 'run'), value)),
    env: Object.keys(env).length > 0 ? env : undefined,
    cwd: optional(values.cwd, at),
    watch: watched,
    ignoreWatch: values['ignore-watch'],
    watchDelayMs: optional(values['watch-delay'], (value) => parseDuration(value, '--watch-delay', 'run')),
    // Relative to --cwd when given, as a config file's are to the app's cwd; else to where it was typed.
    outFile: optional(values.output, logPathAt('--output', values.cwd === undefined ? invocationDir : at(values.cwd))),
    errorFile: optional(values.error, logPathAt('--error', values.cwd === undefined ? invocationDir : at(values.cwd))),
    logFile: optional(values.log, logPathAt('--log', values.cwd === undefined ? invocationDir : at(values.cwd))),
  };
  // Each app is a primary of its own: one port cannot serve two.
  const singleAppFlags = [...(values.name === undefined ? [] : ['--name']), ...(values['health-port'] === undefined ? [] : ['--health-port']), ...(rest.length > 0 ? ['-- <script args>'] : [])];
  const configPath = configArg?.path ?? optional(values.config, at);
  return {
    layer,
    positionals: positionals.slice(0, 1),
    configPath,
    configArg: configArg && { typed: configArg.typed, ending: configArg.ending, index: parsed.positionalIndexes[0]! },
    isHelp: false,
    singleAppFlags,
    environment: environments[0],
    envFiles,
  };
}

/**
 * `clusterkit run npx autocannon -c 10 URL`: a command PM2 would run from PATH, typed with its
 * own words and no `--`. Every word after it is the command's, whatever clusterkit would make of
 * it (`-c` is `--config`, `-w` `--workers`, `--watch` takes paths): the hint quotes them all, as
 * typed (H128, H143). The script's position is found by a lenient parse, so that clusterkit's
 * options before it (`run -w 2 npx ...`) are skipped with their values. With a `--`, the
 * options before it were meant for clusterkit, and their own error stands (parseRunFlags).
 */
function pathCommandWithItsWords(args: string[], plain: string[], invocationDir: string): UsageError | undefined {
  if (args.includes('--')) return undefined;
  const { tokens } = parseArgs({ args: plain, options: kRunOptions, allowPositionals: true, strict: false, tokens: true });
  const at = tokens.findIndex((token) => token.kind === 'positional');
  if (at === -1) return undefined;
  const before = tokens.slice(0, at);
  // With --config, the first positional names an app, not a script.
  if (before.some((token) => token.kind === 'option' && token.name === 'config')) return undefined;
  let cwd: string | undefined;
  for (const token of before) if (token.kind === 'option' && token.name === 'cwd' && token.value !== undefined) cwd = resolve(invocationDir, token.value);
  const index = tokens[at]!.index;
  return pathCommandError(args[index]!, args.slice(index + 1), cwd, invocationDir);
}

/** The script-not-found error with the command's hint, when `first` is such a command and no file of that name is there. */
function pathCommandError(first: string, words: readonly string[], cwd: string | undefined, invocationDir: string): UsageError | undefined {
  if (!isPathCommand(first) || findScript(first, cwd, invocationDir) !== undefined) return undefined;
  return scriptNotFound(first, cwd, invocationDir, words);
}

/**
 * The config file named where a script goes, by its name as PM2 decides (`configNameOf`), if
 * it is a file (looked for as a script is). A YAML file is a usage error: PM2 reads one,
 * clusterkit does not.
 */
function configFileArg(typed: string | undefined, cwd: string | undefined, invocationDir: string): { path: string; typed: string; ending: string } | undefined {
  if (typed === undefined) return undefined;
  const name = configNameOf(typed);
  const path = name && findScript(typed, cwd, invocationDir);
  if (name === undefined) return undefined;
  if (path === undefined) {
    // A config file's name that is no file (H465): before, the directory's clusterkit.config.*
    // was read instead, and its complaint (no env_production, no app of that name) hid the typo.
    // Something there that is not a file (a directory) is said as a script's would be.
    const candidates = scriptCandidates(typed, cwd, invocationDir);
    if (candidates.some((candidate) => existsSync(candidate))) return undefined;
    throw new UsageError(`No such config file: ${candidates.join(', nor ')} (a name ending in ${name.ending} is read as a config file, as in PM2).${configFilesBeside(candidates[0]!)}`, 'run');
  }
  if (name.kind === 'yaml') {
    throw new UsageError(
      `${typed} is a YAML config file (PM2 reads a file named *${name.ending} as one); clusterkit reads config files in TypeScript, JavaScript or JSON: write its apps in clusterkit.config.ts (see docs/config.md), or as JSON in ${typed.slice(0, -name.ending.length)}.json, and run clusterkit run ${typed.slice(0, -name.ending.length)}.json.`,
      'run',
    );
  }
  return { path, typed, ending: name.ending };
}

/** The config files in the directory of `missing`, to pick from (`ecosystem.config.cjs` for a typed `.js`), or what to check. */
function configFilesBeside(missing: string): string {
  let names: string[];
  try {
    names = readdirSync(dirname(missing)).filter((name) => configNameOf(name)?.kind === 'config' && name !== 'package.json' && !name.startsWith('tsconfig') && name.includes('config'));
  } catch {
    names = [];
  }
  if (names.length === 0) return ' Check the name and the directory.';
  const shown = names.sort().slice(0, 5).map((name) => join(dirname(missing), name));
  return ` ${dirname(missing)} has ${shown.join(', ')}${names.length > 5 ? ' and more' : ''}: name one of them, or run the config file of the directory (clusterkit.config.*) with "clusterkit run" alone.`;
}

/** What `--env` takes besides KEY=VALUE: the name of an environment (`env_production`). */
const kEnvironmentName = /^[a-z][a-z0-9_-]{0,63}$/;

/**
 * `--env production` is how PM2 picks `env_production` of an ecosystem file
 * (`pm2 start ecosystem.config.js --env production`); `--env KEY=VALUE` sets one variable.
 * At most one name: PM2 takes one.
 */
function splitEnvValues(values: readonly string[]): { names: string[]; pairs: string[] } {
  const names = values.filter((value) => kEnvironmentName.test(value));
  if (names.length > 1) throw new UsageError(`--env names one environment of the config file (env_${names[0]}); it was given ${names.map((name) => `"${name}"`).join(' and ')}. Give variables as --env KEY=VALUE.`, 'run');
  return { names, pairs: values.filter((value) => !kEnvironmentName.test(value)) };
}

/** Turns each `--watch=<path>` (before a `--`) into `--watch`, collecting the paths. */
function takeWatchValues(args: string[]): { args: string[]; watchPaths: string[] } {
  const watchPaths: string[] = [];
  const terminator = args.indexOf('--');
  const own = terminator === -1 ? args : args.slice(0, terminator);
  const mapped = own.map((arg) => {
    if (!arg.startsWith('--watch=')) return arg;
    const path = arg.slice('--watch='.length);
    if (path === '') throw new UsageError('--watch= needs a path; write --watch alone to watch the working directory.', 'run');
    watchPaths.push(path);
    return '--watch';
  });
  return { args: terminator === -1 ? mapped : [...mapped, ...args.slice(terminator)], watchPaths };
}

/** `--node-arg` values: none that stops Node from running the workers' script (H310). */
function checkNodeArgs(nodeArgs: string[]): string[] {
  const found = scriptStoppingNodeArg(nodeArgs);
  if (found === undefined) return nodeArgs;
  const typed = found.arg === '' ? '--node-arg=' : `--node-arg=${found.shown}`;
  throw new UsageError(`${typed} would stop the workers from running their script: ${found.problem}. ${capitalize(found.instead)}.`, 'run');
}

/** A log file's path, absolute; an empty one is refused. */
function logPathAt(flag: string, directory: string): (value: string) => string | undefined {
  return (value) => {
    if (value === '' || value.includes('\0')) throw new UsageError(`${flag} needs the path of a file, as in ${flag} logs/app.log.`, 'run');
    return isNoLogFile(value) ? undefined : resolve(directory, value);
  };
}

/** The duration flags given without a unit (`--shutdown-timeout 30`), by their config key. */
function bareDurationFlags(values: Readonly<Record<string, unknown>>): DurationKey[] | undefined {
  const bare = kDurationKeys.filter((key) => {
    const flag = durationFlagOf(key);
    const value = flag === undefined ? undefined : values[flag.slice(2)];
    return typeof value === 'string' && isUnitless(value);
  });
  return bare.length === 0 ? undefined : bare;
}

function optional<T>(value: string | undefined, parse: (value: string) => T): T | undefined {
  return value === undefined ? undefined : parse(value);
}
