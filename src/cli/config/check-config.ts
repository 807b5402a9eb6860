/**
 * Checking a loaded config file: every key known, every value valid, before anything starts.
 * A mistake is a usage error (exit 2) naming the key and the file; a PM2 key gets the name
 * clusterkit uses for it. Values become a `RunLayer` with absolute paths: `cwd` relative to
 * the file's directory, every other path relative to the app's `cwd`.
 */
import { statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { kClusterNamePattern } from '../../control/runtime-dir.js';
import { moduleBaseName } from '../../runner/service-options.js';
import { checkDurationMs, checkMemoryLimitMb, parseDuration, parseMemoryLimitMb, type ZeroDuration } from '../arg-values.js';
import { checkEnvObject, describe, readEnvFile } from '../env-values.js';
import type { RunLayer } from '../run-settings.js';
import { closest } from '../suggest.js';
import { UsageError } from '../usage-error.js';

export interface ConfigApp {
  readonly name: string;
  readonly layer: RunLayer;
}

/** Each app would be a primary process with its workers; more is not a config, it is a mistake. */
const kMaxApps = 100;
/** Longest list (`args`, `nodeArgs`, `watch`, `ignoreWatch`) and string accepted. */
const kMaxListLength = 1_000;
const kMaxStringLength = 128 * 1024 - 1;

const kAppKeys = [
  'name', 'script', 'args', 'nodeArgs', 'env', 'envFile', 'cwd', 'workers', 'maxWorkers', 'dev', 'shutdownTimeout', 'gradualDrain',
  'readyTimeout', 'waitReady', 'healthPort', 'healthHost', 'maxMemory', 'maxRestarts', 'restartWindow', 'startupWindow', 'maxStartupFailures', 'logFormat', 'watch', 'ignoreWatch', 'watchDelay',
] as const;

/** What PM2's ecosystem keys are called here. */
const kPm2Keys: Record<string, string> = {
  instances: 'workers', node_args: 'nodeArgs', interpreter_args: 'nodeArgs', kill_timeout: 'shutdownTimeout', listen_timeout: 'readyTimeout', wait_ready: 'waitReady',
  max_memory_restart: 'maxMemory', ignore_watch: 'ignoreWatch', watch_delay: 'watchDelay', env_file: 'envFile', log_type: 'logFormat',
  max_restarts: 'maxRestarts', min_uptime: 'startupWindow', exec: 'script', interpreterArgs: 'nodeArgs',
};

/** Node options, one per entry: what PM2's node_args string becomes. */
const kNodeArgsExample = "['--max-old-space-size=256', '--import=tsx']";
const kNodeArgsNote = `an array here, one Node option per entry, as in ${kNodeArgsExample}; PM2 also takes one string`;

/** Where a PM2 key's clusterkit twin means something a little different, what. */
const kPm2KeyNotes: Record<string, string> = {
  node_args: kNodeArgsNote,
  interpreter_args: kNodeArgsNote,
  interpreterArgs: kNodeArgsNote,
  max_restarts: 'the crashes allowed within "restartWindow" (60s) before the worker is no longer restarted, counting only workers that never served a request; PM2 counts only restarts sooner than min_uptime',
  instances: "'max' runs one worker per core, as in PM2, and so does leaving it out when NODE_ENV=production (otherwise one worker: development mode)",
  wait_ready: "the script calls process.send('ready') as under PM2, and a start or reload waits for it within \"readyTimeout\" (PM2's listen_timeout; 30s by default here)",
  min_uptime: 'a worker that dies this soon after it is ready (1s by default) without having served a request failed to start, and "maxStartupFailures" (3) of those in a row stop its restarts',
};

const kNoLogFiles =
  "clusterkit keeps no log files: the workers' output goes to clusterkit run's stdout and stderr, prefixed [name:id]; redirect it (>> app.log 2>&1), or read it with clusterkit logs <name>";
const kNoPidFile = "the primary is the process you started (your supervisor has its pid), and clusterkit list and clusterkit status <name> show the pids";
const kInterpreter = 'the script runs on the Node (or Bun) that runs clusterkit; for TypeScript on Node, nodeArgs: ["--import=tsx"]';
const kCronRestart = 'run clusterkit reload <name> from cron or a systemd timer: it replaces the workers one by one, with no downtime';
const kRunAsUser = 'run clusterkit itself as that user (systemd User=, docker run --user)';
const kPm2Plus = "it is a PM2 Plus (Keymetrics) option; clusterkit's figures are in clusterkit status <name> and clusterkit dashboard <name>";
const kNoDeploy = 'clusterkit does not deploy; deploy with your own tool, then clusterkit reload <name>';

/** PM2's ecosystem keys that need nothing here, and why. */
const kPm2KeysWithoutEquivalent: Record<string, string> = {
  exec_mode: 'clusterkit always runs in cluster mode',
  restart_delay: 'restarts back off on their own, from 100 ms doubling up to 30 s, and a worker that served a request restarts after 100 ms',
  exp_backoff_restart_delay: 'restarts always back off, from 100 ms doubling up to 30 s, except after a worker that served a request (100 ms)',
  autorestart: 'a crashed worker is always restarted (with backoff), so the pool keeps its size',
  ...Object.fromEntries(
    ['out_file', 'out', 'output', 'out_log', 'error_file', 'error', 'err', 'err_file', 'err_log', 'log_file', 'log', 'merge_logs', 'combine_logs', 'disable_logs'].map(
      (key) => [key, kNoLogFiles] as const,
    ),
  ),
  log_date_format: 'lines have no timestamp of their own; with logFormat: "json" each has a "time" field, and a supervisor (journald, docker logs) adds its own',
  time: 'lines have no timestamp of their own; with logFormat: "json" each has a "time" field, and a supervisor (journald, docker logs) adds its own',
  pid_file: kNoPidFile,
  pid: kNoPidFile,
  interpreter: kInterpreter,
  exec_interpreter: kInterpreter,
  cron_restart: kCronRestart,
  cron: kCronRestart,
  instance_var: 'clusterkit run always sets NODE_APP_INSTANCE (and CLUSTERKIT_SLOT) to the worker\'s slot, 0, 1..., kept across restarts and reloads',
  increment_var: 'each worker has its slot (0, 1...) in NODE_APP_INSTANCE and CLUSTERKIT_SLOT; compute the value from it (3000 + Number(process.env.NODE_APP_INSTANCE))',
  port: 'set the variable in "env" instead: env: { PORT: "3000" }',
  namespace: 'a cluster is known by its name alone (clusterkit list); give related apps a common prefix',
  watch_options: 'the watcher\'s options are not exposed; "ignoreWatch" and "watchDelay" tune it',
  shutdown_with_message: 'a plain script is stopped through its SIGINT or SIGTERM listener when it has one (docs/cli.md, "Cleanup in a plain script"), and otherwise clusterkit closes its servers and waits for their requests',
  stop_exit_codes: 'a worker that exits on its own, whatever its code, is restarted so that the pool keeps its size (code 0 is not reported as a crash)',
  autostart: 'clusterkit run starts every app of the file, and clusterkit run <app> only that one',
  uid: kRunAsUser,
  user: kRunAsUser,
  gid: kRunAsUser,
  source_map_support: 'add nodeArgs: ["--enable-source-maps"]',
  disable_source_map_support: 'source maps are used only with nodeArgs: ["--enable-source-maps"]',
  ...Object.fromEntries(
    ['pmx', 'automation', 'vizion', 'trace', 'disable_trace', 'deep_monitoring', 'event_loop_inspector', 'v8', 'io'].map((key) => [key, kPm2Plus] as const),
  ),
  post_update: kNoDeploy,
  deploy: kNoDeploy,
};

/** PM2's `env_production`, `env_staging`...: the variables of `pm2 start --env <name>`. */
const kPm2EnvironmentKey = /^env_(?!file$)\w+$/;
const kPm2EnvironmentNote =
  'an app has one set of variables, "env", over "envFile"; keep one file per environment and choose it on the command line (clusterkit run --env-file .env.production)';

/** Checks the loaded file; returns its apps in order. */
export function checkConfig(raw: unknown, file: string): ConfigApp[] {
  try {
    return checkApps(raw, dirname(file));
  } catch (error) {
    if (error instanceof UsageError) throw new UsageError(`${file}: ${error.headline}`, 'run', error.details);
    throw error;
  }
}

/**
 * The config's problems, gathered so that one run reports them all: a file written for PM2
 * has several (`instances`, `exec_mode`, `kill_timeout`...), and fixing them one run at a time
 * is tedious. A problem that leaves nothing to check further (an app that is not an object, a
 * missing script) still ends its app's checks.
 */
class Problems {
  readonly #messages: string[] = [];

  /** What `check` returns; undefined when it threw a `UsageError`, whose message is kept. */
  take<T>(check: () => T): T | undefined {
    try {
      return check();
    } catch (error) {
      if (!(error instanceof UsageError)) throw error;
      this.#messages.push(error.message);
      return undefined;
    }
  }

  /** Keeps `error` as a problem found outside a `take()`. */
  add(error: UsageError): void {
    this.#messages.push(error.message);
  }

  /** Throws one `UsageError` listing every problem kept, if any. */
  throwIfAny(): void {
    const messages = this.#messages;
    if (messages.length === 1) throw new UsageError(messages[0]!);
    if (messages.length > 1) throw new UsageError(`${messages.length} problems:`, undefined, messages);
  }
}

function checkApps(raw: unknown, directory: string): ConfigApp[] {
  if (!isPlainObject(raw)) throw new UsageError(`The config must be an object with "apps", as in { apps: [{ name: 'api', script: './server.js' }] }. Received ${describe(raw)}.`);
  rejectUnknownKeys(raw, ['apps'], '');
  const apps = raw.apps;
  if (!Array.isArray(apps) || apps.length === 0) throw new UsageError(`"apps" must be a non-empty array of apps. Received ${describe(apps)}.`);
  if (apps.length > kMaxApps) throw new UsageError(`"apps" has ${apps.length} apps; the limit is ${kMaxApps}.`);
  const problems = new Problems();
  const checked = apps.map((app, index) => problems.take(() => checkApp(app, `apps[${index}]`, directory, problems)));
  const seen = new Map<string, number>();
  checked.forEach((app, index) => {
    if (app === undefined) return;
    const { name } = app;
    if (seen.has(name)) problems.add(new UsageError(`"apps[${index}]" has the name "${name}", like "apps[${seen.get(name)}]"; each app needs its own name.`));
    else seen.set(name, index);
  });
  problems.throwIfAny();
  return checked as ConfigApp[];
}

function checkApp(app: unknown, key: string, directory: string, problems: Problems): ConfigApp {
  if (!isPlainObject(app)) throw new UsageError(`"${key}" must be an object with at least "script". Received ${describe(app)}.`);
  rejectUnknownKeys(app, kAppKeys, `${key}.`, problems);
  const at = (name: string) => `${key}.${name}`;
  const cwd = app.cwd === undefined ? directory : checkDirectory(resolve(directory, checkString(app.cwd, at('cwd'))), at('cwd'));
  if (app.script === undefined) throw new UsageError(`"${key}" has no "script": the file every worker runs, as in script: './server.js'.`);
  const script = resolve(cwd, checkString(app.script, at('script')));
  if (!isFile(script)) throw new UsageError(`"${at('script')}": ${existsAsOther(script) ? `not a regular file: ${script}` : `script not found: ${script}`}`);
  const name = app.name === undefined ? moduleBaseName(script) : checkString(app.name, at('name'));
  if (!kClusterNamePattern.test(name)) {
    throw new UsageError(`"${at('name')}" must be letters, digits, ".", "_" or "-", starting with a letter or digit (at most 64). Received ${describe(name)}.`);
  }
  if (app.dev === true && app.workers !== undefined) throw new UsageError(`"${key}" has both "dev" (a single worker) and "workers"; keep one.`);
  const envFile = app.envFile === undefined ? {} : (problems.take(() => readEnvFile(resolve(cwd, checkString(app.envFile, at('envFile'))), `"${at('envFile')}"`)) ?? {});
  const env = { ...envFile, ...(app.env === undefined ? {} : (problems.take(() => checkEnvObject(app.env, at('env'))) ?? {})) };
  // Each key is checked even after another failed: every problem is reported at once.
  const optional = <T>(value: unknown, check: (value: unknown) => T): T | undefined => problems.take(() => optionalValue(value, check));
  const layer: RunLayer = {
    script,
    scriptArgs: optional(app.args, (value) => checkStrings(value, at('args'))),
    name,
    workers: optional(app.workers, (value) => checkWorkers(value, at('workers'))),
    maxWorkers: optional(app.maxWorkers, (value) => checkCount(value, at('maxWorkers'))),
    isDev: optional(app.dev, (value) => checkBoolean(value, at('dev'))),
    waitReady: optional(app.waitReady, (value) => checkBoolean(value, at('waitReady'))),
    healthPort: optional(app.healthPort, (value) => checkPort(value, at('healthPort'))),
    healthHost: optional(app.healthHost, (value) => checkString(value, at('healthHost'))),
    shutdownTimeoutMs: optional(app.shutdownTimeout, (value) => checkDuration(value, at('shutdownTimeout'))),
    gradualDrainMs: optional(app.gradualDrain, (value) => checkDuration(value, at('gradualDrain'), 'gradualDrain')),
    readyTimeoutMs: optional(app.readyTimeout, (value) => checkDuration(value, at('readyTimeout'))),
    maxMemoryMb: optional(app.maxMemory, (value) => checkSize(value, at('maxMemory'))),
    maxRestarts: optional(app.maxRestarts, (value) => checkCount(value, at('maxRestarts'))),
    restartWindowMs: optional(app.restartWindow, (value) => checkDuration(value, at('restartWindow'))),
    startupWindowMs: optional(app.startupWindow, (value) => checkDuration(value, at('startupWindow'), 'startupWindow')),
    maxStartupFailures: optional(app.maxStartupFailures, (value) => checkCount(value, at('maxStartupFailures'))),
    nodeArgs: optional(app.nodeArgs, (value) => checkStrings(value, at('nodeArgs'), kNodeArgsExample)),
    logFormat: optional(app.logFormat, (value) => checkLogFormat(value, at('logFormat'))),
    env: Object.keys(env).length > 0 ? env : undefined,
    cwd,
    watch: optional(app.watch, (value) => checkWatch(value, at('watch'), cwd)),
    ignoreWatch: optional(app.ignoreWatch, (value) => checkStrings(value, at('ignoreWatch'), "['logs', '*.tmp']")),
    watchDelayMs: optional(app.watchDelay, (value) => checkDuration(value, at('watchDelay'))),
  };
  return { name, layer };
}

function rejectUnknownKeys(object: Record<string, unknown>, known: readonly string[], prefix: string, problems?: Problems): void {
  for (const key of Object.keys(object)) {
    if (known.includes(key)) continue;
    const pm2 = Object.hasOwn(kPm2Keys, key) ? kPm2Keys[key] : undefined;
    const unneeded = Object.hasOwn(kPm2KeysWithoutEquivalent, key)
      ? kPm2KeysWithoutEquivalent[key]
      : kPm2EnvironmentKey.test(key)
        ? kPm2EnvironmentNote
        : undefined;
    const near = pm2 === undefined && unneeded === undefined ? closest(key, known) : undefined;
    const hint =
      pm2 !== undefined
        ? ` PM2's "${key}" is "${pm2}" here${Object.hasOwn(kPm2KeyNotes, key) ? `: ${kPm2KeyNotes[key]}` : ''}.`
        : unneeded !== undefined
          ? ` PM2's "${key}" has no equivalent: ${unneeded}; remove it.`
          : near
            ? ` Did you mean "${near}"?`
            : ` Known keys: ${known.join(', ')}.`;
    const error = new UsageError(`Unknown key "${prefix}${key.length > 80 ? `${key.slice(0, 77)}...` : key}".${hint}`);
    if (!problems) throw error;
    problems.add(error);
  }
}

function checkString(value: unknown, key: string): string {
  if (typeof value !== 'string' || value === '') throw new UsageError(`"${key}" must be a non-empty string. Received ${describe(value)}.`);
  if (value.length > kMaxStringLength || value.includes('\0')) throw new UsageError(`"${key}" is longer than ${kMaxStringLength} characters or contains a NUL byte.`);
  return value;
}

/** `example`: a value of that key, so that the advice fits it (Node options are no script args). */
function checkStrings(value: unknown, key: string, example = "['--port', '3000']"): string[] {
  if (!Array.isArray(value)) throw new UsageError(`"${key}" must be an array of strings, as in ${example}. Received ${describe(value)}.`);
  if (value.length > kMaxListLength) throw new UsageError(`"${key}" has ${value.length} entries; the limit is ${kMaxListLength}.`);
  return value.map((entry, index) => checkString(entry, `${key}[${index}]`));
}

function checkBoolean(value: unknown, key: string): boolean {
  if (typeof value !== 'boolean') throw new UsageError(`"${key}" must be true or false. Received ${describe(value)}.`);
  return value;
}

function checkWorkers(value: unknown, key: string): number | 'auto' | 'max' {
  if (value === 'auto' || value === 'max') return value;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) throw new UsageError(`"${key}" must be a positive integer, "auto" or "max". Received ${describe(value)}.`);
  return value;
}

function checkPort(value: unknown, key: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > 65_535) throw new UsageError(`"${key}" must be a port number from 1 to 65535. Received ${describe(value)}.`);
  return value;
}

function checkCount(value: unknown, key: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) throw new UsageError(`"${key}" must be a positive integer. Received ${describe(value)}.`);
  return value;
}

/**
 * A number of milliseconds or a string with a unit, by the same rules as `parseDuration`'s
 * (`zero` for a key whose 0 means something: `gradualDrain: 0` is off). A fraction of a
 * millisecond is refused as a number (1.5) as in a string ('1.5').
 */
function checkDuration(value: unknown, key: string, zero?: ZeroDuration): number {
  if (typeof value === 'string') return parseDuration(value, `"${key}"`, 'run', zero);
  // -0 (JSON.parse('-0')) is 0; NaN, Infinity and negatives are no duration at all.
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new UsageError(`"${key}" must be a duration such as '10s', '500ms' or '2m' (a number is milliseconds). Received ${describe(value)}.`);
  }
  return checkDurationMs(value === 0 ? 0 : value, Number.isInteger(value), value, `"${key}"`, 'run', zero);
}

/** A memory limit: a number of MiB or a string with a unit, as `--max-memory`. */
function checkSize(value: unknown, key: string): number {
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 1) return checkMemoryLimitMb(value, value, `"${key}"`, 'run');
  if (typeof value !== 'string') throw new UsageError(`"${key}" must be a memory size such as '512M' or '1G' (a number is MiB). Received ${describe(value)}.`);
  return parseMemoryLimitMb(value, `"${key}"`, 'run');
}

function checkLogFormat(value: unknown, key: string): 'line' | 'json' {
  if (value !== 'line' && value !== 'json') throw new UsageError(`"${key}" must be "line" or "json". Received ${describe(value)}.`);
  return value;
}

function checkWatch(value: unknown, key: string, cwd: string): string[] | false {
  if (value === true) return [];
  if (value === false) return false;
  if (!Array.isArray(value)) throw new UsageError(`"${key}" must be true or an array of paths. Received ${describe(value)}.`);
  return checkStrings(value, key).map((path) => resolve(cwd, path));
}

function checkDirectory(path: string, key: string): string {
  let isDirectory = false;
  try {
    isDirectory = statSync(path).isDirectory();
  } catch {
    // reported below
  }
  if (!isDirectory) throw new UsageError(`"${key}": no such directory: ${path}`);
  return path;
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

function existsAsOther(path: string): boolean {
  try {
    return !statSync(path).isFile();
  } catch {
    return false;
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const prototype = Object.getPrototypeOf(value) as unknown;
  // A module namespace object (a config that re-exports) has a null prototype.
  return prototype === Object.prototype || prototype === null;
}

function optionalValue<T>(value: unknown, check: (value: unknown) => T): T | undefined {
  return value === undefined ? undefined : check(value);
}
