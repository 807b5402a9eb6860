/**
 * A PM2 ecosystem app (`module.exports = { apps: [{ instances: 'max', kill_timeout: 5000 }] }`)
 * read as clusterkit's: each PM2 key that has a clusterkit twin becomes that key, with its value
 * in the form PM2 gives it (`max_memory_restart: 1048576` is bytes, `instances: -1` all CPUs but
 * one); each key without one is a warning line saying what clusterkit does instead; `env_<name>`
 * objects are kept for `--env <name>`. The meanings are PM2's own, from its sources
 * (Unitech/pm2): lib/API/schema.json (types, aliases, formats), lib/tools/Config.js
 * (`_valid`: how a string becomes a list, `sbyte` and `stime` units), lib/Common.js
 * (`verifyConfs`, `mergeEnvironmentVariables`, `prepareAppConf`) and lib/God.js (`prepare`:
 * instances, `handleExit`: max_restarts and min_uptime).
 *
 * Values are checked by the same rules as clusterkit's keys, and a mistake names the key as
 * the file spells it (`"apps[0].kill_timeout"`): check-config.ts looks up `spelledAs`.
 */
import { formatElapsed } from '../../duration.js';
import { autoWorkerCount } from '../../primary/pool/cpu-limit.js';
import { kDefaultBackoffInitialMs } from '../../primary/primary-options.js';
import { kSafeIntegerRule } from '../../validate.js';
import { checkMemoryLimitMb } from '../arg-values.js';
import { plural } from '../control-outcome.js';
import type { IgnoredSetting } from '../../control/cluster-settings.js';
import { checkEnvObject, describe } from '../env-values.js';
import { UsageError } from '../usage-error.js';
import type { LoadNote } from './load-note.js';
import { kPm2LogFileKeys } from './pm2-log-keys.js';
import { setOwn } from '../../set-own.js';
import { receivedClause } from '../../errors.js';

/** PM2's keys with a clusterkit twin whose value needs no conversion (PM2's aliases included). */
const kSameValue: Readonly<Record<string, string>> = {
  exec: 'script',
  cmd: 'script',
  command: 'script',
  kill_timeout: 'shutdownTimeout',
  listen_timeout: 'readyTimeout',
  wait_ready: 'waitReady',
  watch_delay: 'watchDelay',
  min_uptime: 'startupWindow',
  // A rolling reload at each match, in the primary's local time zone, as PM2's restart (H377).
  cron_restart: 'cronRestart',
  cron: 'cronRestart',
  // Its moment/dayjs tokens are read as PM2 reads them; alone, it stamps the lines, as PM2's does (H335).
  log_date_format: 'timeFormat',
};

/** PM2's keys of a list that PM2 also takes as one string, split as PM2 splits it. */
const kListKeys: Readonly<Record<string, string>> = {
  args: 'args',
  node_args: 'nodeArgs',
  interpreter_args: 'nodeArgs',
  interpreterArgs: 'nodeArgs',
  ignore_watch: 'ignoreWatch',
};

/** The keys a translation writes, each from a PM2 key handled below. */
const kComputed: Readonly<Record<string, string>> = {
  instances: 'workers',
  max_memory_restart: 'maxMemory',
  max_restarts: 'maxStartupFailures',
  log_type: 'logFormat',
  watch: 'watch',
};

const kLogsAlways =
  "the output always goes to clusterkit run's stdout and stderr (and to clusterkit logs <name>); for no log file, leave out outFile, errorFile and logFile (out_file, error_file, log_file)";
/** `merge_logs`/`combine_logs`: PM2's one file for every instance is what clusterkit always writes. */
const kMergedLogs = "the workers' lines always go to one file, each tagged [name:id] as on the terminal";
const kNoPidFile = 'the primary is the process you started (your supervisor has its pid), and clusterkit list and clusterkit status <name> show the pids';
const kInterpreter = 'the script runs on the Node (or Bun) that runs clusterkit; for TypeScript on Node, node_args: ["--import=tsx"]';
const kRunAsUser = 'run clusterkit itself as that user (systemd User=, docker run --user)';
const kPm2Plus = "it is a PM2 Plus (Keymetrics) option; clusterkit's figures are in clusterkit status <name> and clusterkit dashboard <name>";
const kNoDeploy = 'clusterkit does not deploy; deploy with your own tool, then clusterkit reload <name>';
const kNoProcessList = 'clusterkit keeps no process list: each clusterkit run is one app, known by its name';

/** Why `max_restarts: 0` (PM2: never restart) is not used, and which bound applies instead. */
const kNoMaxRestarts =
  'a crashed worker is always restarted (with backoff), so the pool keeps its size; the bound that applies is maxStartupFailures, the failed starts in a row after which a slot is given up (3 unless set; 1 at the fewest). Run with other apps of this file, the app itself is not started again when its primary exits, as with autorestart: false';

/** PM2's keys that clusterkit does without, and what it does instead. */
export const kPm2KeysWithoutEquivalent: Readonly<Record<string, string>> = {
  exec_mode: 'clusterkit always runs in cluster mode: "instances" workers under node:cluster, which share the ports the script listens on (instances: 1 for a single process)',
  restart_delay: backOffText('restart_delay', undefined),
  exp_backoff_restart_delay: backOffText('exp_backoff_restart_delay', undefined),
  autorestart:
    'a crashed worker is always restarted (with backoff), so the pool keeps its size; the app itself, run with other apps of this file, is not started again when its primary exits (docs/config.md, "Running the apps")',
  merge_logs: kMergedLogs,
  combine_logs: kMergedLogs,
  disable_logs: kLogsAlways,
  pid_file: kNoPidFile,
  pid: kNoPidFile,
  interpreter: kInterpreter,
  exec_interpreter: kInterpreter,
  increment_var: 'each worker has its slot (0, 1...) in NODE_APP_INSTANCE and CLUSTERKIT_SLOT; compute the value from it (3000 + Number(process.env.NODE_APP_INSTANCE))',
  namespace: 'a cluster is known by its name alone (clusterkit list); give related apps a common prefix',
  name_prefix: 'a cluster is known by its name alone (clusterkit list); give related apps a common prefix',
  watch_options: "the watcher's options are not exposed; \"ignore_watch\" and \"watch_delay\" tune it",
  shutdown_with_message:
    'a plain script is stopped through its SIGINT or SIGTERM listener when it has one (docs/cli.md, "Cleanup in a plain script"), and otherwise clusterkit closes its servers and waits for their requests',
  stop_exit_codes: 'a worker that exits on its own, whatever its code, is restarted so that the pool keeps its size (code 0 is not reported as a crash)',
  autostart: 'clusterkit run starts every app of the file, and clusterkit run <app> only that one',
  uid: kRunAsUser,
  user: kRunAsUser,
  gid: kRunAsUser,
  username: kRunAsUser,
  treekill: "a worker that is stopped has its child processes stopped with it (SIGTERM, then SIGKILL after the shutdown timeout)",
  filter_env: "the workers inherit clusterkit run's environment, with \"env\" over it; start clusterkit with the environment you want (env -i, systemd Environment=)",
  append_env_to_name: 'the name is "name" as written; --env <name> does not change it',
  force: kNoProcessList,
  execute_command: 'clusterkit runs Node scripts only',
  install_url: 'clusterkit installs nothing',
  kill_retry_time: 'a worker past its shutdown timeout gets SIGKILL once',
  windowsHide: 'clusterkit runs no window',
  write: kNoProcessList,
  disable_source_map_support: 'source maps are used only with node_args: ["--enable-source-maps"]',
  ...Object.fromEntries(['pmx', 'automation', 'vizion', 'trace', 'disable_trace', 'deep_monitoring', 'event_loop_inspector', 'v8', 'io'].map((key) => [key, kPm2Plus] as const)),
  post_update: kNoDeploy,
  deploy: kNoDeploy,
};

/**
 * What replaces PM2's restart delays: the back-off in force for this app, and the key that sets
 * it (`restartBackoff`, which PM2 files take too). Stating the default to a file that set its
 * own sent readers looking for a setting they had already made (H214).
 */
function backOffText(key: 'restart_delay' | 'exp_backoff_restart_delay', restartBackoffMs: number | undefined): string {
  const first = formatElapsed(restartBackoffMs ?? kDefaultBackoffInitialMs);
  const from = restartBackoffMs === undefined ? `from ${first} (restartBackoff sets it)` : `from ${first} (this app's restartBackoff)`;
  // The library's cap: 30 s, or the first back-off when that is longer.
  const cap = restartBackoffMs !== undefined && restartBackoffMs > 30_000 ? formatElapsed(restartBackoffMs) : '30 s';
  // Reset only by a worker ready stableAfter, as PM2 resets its exponential back-off after 30 s up (H449).
  return key === 'restart_delay'
    ? `restarts back off on their own, ${from} doubling up to ${cap}, reset once a worker stayed ready stableAfter (30 s unless set)`
    : `restarts always back off, ${from} doubling up to ${cap}, reset once a worker stayed ready stableAfter (30 s unless set), as PM2's is after 30 s up`;
}

/**
 * Values of keys without an equivalent that ask for what clusterkit does anyway: no warning.
 * `exec_mode: 'cluster'` is clusterkit's only mode; `autorestart: true`, `treekill: true`,
 * `source_map_support: false` are PM2's defaults and
 * clusterkit's behaviour (schema.json `default`).
 */
function isAlreadySo(key: string, value: unknown): boolean {
  switch (key) {
    case 'exec_mode':
      return value === 'cluster' || value === 'cluster_mode';
    case 'autorestart':
    case 'treekill':
    case 'autostart':
    case 'vizion':
    case 'pmx':
    case 'automation':
    case 'disable_source_map_support':
      return value === true;
    case 'merge_logs':
    case 'combine_logs':
      // One file for every worker is what clusterkit writes, whatever the value (H314).
      return true;
    case 'disable_logs':
    case 'force':
    case 'trace':
    case 'deep_monitoring':
    case 'event_loop_inspector':
    case 'v8':
    case 'filter_env':
    case 'append_env_to_name':
    case 'execute_command':
    case 'shutdown_with_message':
      return value === false;
    case 'disable_trace':
      return true;
    case 'windowsHide':
    case 'namespace':
      return value === true || value === 'default';
    case 'interpreter':
    case 'exec_interpreter':
      // PM2's default; a path to a node binary runs the script on Node too.
      return value === 'node' || (typeof value === 'string' && /(?:^|\/)node$/.test(value));
    default:
      return false;
  }
}

/**
 * The PM2 keys clusterkit takes, in the order PM2's docs give them: what an unknown key of a PM2
 * app is listed against, first (H198). PM2's aliases (`exec`, `cmd`) are left out of the list.
 */
export const kPm2KeysTaken: readonly string[] = [
  'name', 'script', 'args', 'node_args', 'interpreter_args', 'cwd', 'env', 'env_<name>', 'instances', 'max_memory_restart', 'max_restarts', 'min_uptime', 'cron_restart',
  'kill_timeout', 'listen_timeout', 'wait_ready', 'watch', 'ignore_watch', 'watch_delay', 'log_type', 'log_date_format', 'time', 'port', 'source_map_support', 'instance_var',
  'out_file', 'error_file', 'log_file',
];

/** The clusterkit key a PM2 key of `kPm2KeysTaken` becomes (`instances`: `workers`), if any. */
export function clusterkitKeyOf(pm2Key: string): string | undefined {
  for (const table of [kSameValue, kListKeys, kComputed, kPm2LogFileKeys]) if (Object.hasOwn(table, pm2Key)) return table[pm2Key];
  return undefined;
}

/**
 * PM2's own spelling of a clusterkit key (`nodeArgs`: `node_args`), for a message to a PM2 file
 * that names a key the file did not write (H391); undefined for a key PM2 has no twin of.
 */
export function pm2KeyOf(clusterkitKey: string): string | undefined {
  return kPm2KeysTaken.find((key) => clusterkitKeyOf(key) === clusterkitKey);
}

/** PM2's `env_production`, `env_staging`...: the variables of `--env <name>` (schema.json `^env_\S*$`). */
export const kPm2EnvironmentKey = /^env_(?!file$)[\w-]+$/;

/** Keys that only a PM2 ecosystem file has: one of them makes the whole file read as one. */
function isPm2Key(key: string): boolean {
  return (
    Object.hasOwn(kSameValue, key) ||
    Object.hasOwn(kPm2LogFileKeys, key) ||
    (Object.hasOwn(kListKeys, key) && key !== 'args') ||
    (Object.hasOwn(kComputed, key) && key !== 'watch') ||
    key === 'port' ||
    key === 'source_map_support' ||
    key === 'instance_var' ||
    Object.hasOwn(kPm2KeysWithoutEquivalent, key) ||
    kPm2EnvironmentKey.test(key)
  );
}

/**
 * Whether `app` is written in PM2's words: one of PM2's own keys, or a key both share in the
 * shape only PM2 gives it (H127): `args` as one string (clusterkit's is an array), `watch` as one
 * path (clusterkit's is true or an array). Either makes the whole file read as PM2's, as a file
 * named ecosystem.* is.
 */
export function isPm2App(app: Record<string, unknown>): boolean {
  return Object.keys(app).some(isPm2Key) || typeof app.args === 'string' || typeof app.watch === 'string';
}

export interface Pm2App {
  /** The app in clusterkit's keys; keys the translation did not touch are as they were. */
  readonly app: Record<string, unknown>;
  /** clusterkit's key → the key the file wrote (`shutdownTimeout` → `kill_timeout`), for messages. */
  readonly spelledAs: Readonly<Record<string, string>>;
  /** `env_<name>` of the file, checked, by name. */
  readonly environments: Readonly<Record<string, Record<string, string>>>;
  /** One line per key clusterkit does without, saying what it does instead. */
  readonly warnings: readonly string[];
  /** The same keys, for `clusterkit show` (H243). */
  readonly ignored: readonly IgnoredSetting[];
  /** What an `instances` of 0 or below came to here (a count of CPUs), said at load unless -w replaces it. */
  readonly instancesNote?: LoadNote;
  /** What a negative `instances` counts, for the worker count line (`every CPU but 1`). */
  readonly instancesMeaning?: string;
  /** `autorestart: false`: run with other apps, the launcher does not start the app again when its primary exits (H331). */
  readonly noAutorestart?: true;
  /** `instance_var` other than NODE_APP_INSTANCE: each worker gets its slot in it too (H409). */
  readonly instanceVar?: string;
}

/**
 * Translates PM2's keys of `raw`. `take` runs one key's check and keeps its `UsageError` as a
 * problem (check-config.ts), so that every mistake of the file is reported at once; `key` is
 * `apps[0]`, `label` what the warnings call the app (`apps[0] ("api")`); `restartBackoffMs`
 * the app's own `restartBackoff`, if it has a valid one.
 */
export function translatePm2App(raw: Record<string, unknown>, key: string, label: string, take: <T>(check: () => T) => T | undefined, restartBackoffMs?: number): Pm2App {
  const app: Record<string, unknown> = {};
  const spelledAs: Record<string, string> = {};
  const environments: Record<string, Record<string, string>> = {};
  const warnings: string[] = [];
  const ignored: IgnoredSetting[] = [];
  const ignore = (name: string, value: unknown, instead: string) => {
    ignored.push({ key: name, value: describe(value), instead });
    // `autorestart: false` is taken for the app, run with others (H331): "is not used" read as if
    // the app would be started again (PM2 user t58).
    const isAppOnly = name === 'autorestart' && (value === false || value === 'false');
    const what = isAppOnly ? 'applies to the app, not to its workers' : 'has no equivalent, and is not used';
    warnings.push(`${label}: PM2's "${name}" (${describe(value)}) ${what}: ${instead}.`);
  };
  let instancesNote: LoadNote | undefined;
  let instancesMeaning: string | undefined;
  let noAutorestart = false;
  let instanceVar: string | undefined;
  const at = (name: string) => `${key}.${name}`;
  /** Keeps `error` as a problem of the file, the check going on (an `env_<name>`'s bad variables, each one: H524). */
  const keep = (error: UsageError) => void take(() => {
    throw error;
  });
  const set = (target: string, from: string, value: unknown) => {
    if (Object.hasOwn(spelledAs, target) || (Object.hasOwn(raw, target) && target !== from)) {
      const other = spelledAs[target] ?? target;
      keep(new UsageError(`"${key}" has both "${other}" and "${from}", which are the same setting ("${target}" here); keep one.`));
      return;
    }
    if (target !== from) spelledAs[target] = from;
    setOwn(app, target, value);
  };
  for (const [name, value] of Object.entries(raw)) {
    if (Object.hasOwn(kSameValue, name)) set(kSameValue[name]!, name, value);
    // A path, relative to the app's cwd (check-config.ts); PM2's `log: true` is refused there.
    else if (Object.hasOwn(kPm2LogFileKeys, name)) set(kPm2LogFileKeys[name]!, name, value);
    else if (Object.hasOwn(kListKeys, name)) set(kListKeys[name]!, name, typeof value === 'string' ? splitLikePm2(value) : value);
    else if (name === 'instances') {
      const counted = take(() => workersOf(value, at(name), label));
      if (counted !== undefined) {
        set('workers', name, counted.workers);
        instancesNote = counted.note;
        instancesMeaning = counted.meaning;
      }
    }
    else if (name === 'max_memory_restart') take(() => set('maxMemory', name, memoryOf(value, at(name))));
    else if (name === 'log_type') take(() => set('logFormat', name, logFormatOf(value, at(name))));
    // PM2's watch is true, a list, or one path (schema.json: boolean first, so a string is not split).
    else if (name === 'watch') set('watch', name, typeof value === 'string' ? [value] : value);
    else if (name === 'max_restarts')
      take(() =>
        restartsOf(
          value,
          at(name),
          (count) => set('maxStartupFailures', name, count),
          () => {
            ignore(name, value, kNoMaxRestarts);
            // PM2's "never restart" for the app: its launcher does not start it again (H331).
            noAutorestart = true;
          },
        ),
      );
    // PM2's `time: false` leaves a log_date_format in force: only true is clusterkit's `time` (H335).
    else if (name === 'time') {
      if (value !== false) set('time', name, value);
    }
    else if (name === 'port' || name === 'source_map_support') continue; // below, with env and nodeArgs
    // The slot in a variable of the file's choice, besides NODE_APP_INSTANCE (H409; before: a warning, and the variable unset).
    else if (name === 'instance_var') {
      const variable = take(() => instanceVarOf(value, at(name)));
      if (variable !== undefined && variable !== 'NODE_APP_INSTANCE') instanceVar = variable;
    }
    else if (kPm2EnvironmentKey.test(name)) {
      const env = take(() => checkEnvObject(value, at(name), keep));
      if (env !== undefined) setOwn(environments, name.slice('env_'.length), env);
    } else if (Object.hasOwn(kPm2KeysWithoutEquivalent, name)) {
      if (name === 'exec_mode') take(() => checkExecMode(value, at(name)));
      const instead = name === 'restart_delay' || name === 'exp_backoff_restart_delay' ? backOffText(name, restartBackoffMs) : kPm2KeysWithoutEquivalent[name]!;
      if (!isAlreadySo(name, value)) ignore(name, value, instead);
      // PM2 takes the string too (God.handleExit: `autorestart === "false"`).
      if (name === 'autorestart' && (value === false || value === 'false')) noAutorestart = true;
    } else setOwn(app, name, value);
  }
  // PM2 sets PORT from `port`, over `env` (Common.prepareAppConf).
  if (raw.port !== undefined) {
    const port = take(() => portOf(raw.port, at('port')));
    if (port !== undefined) {
      if (app.env === undefined) app.env = { PORT: port };
      else if (typeof app.env === 'object' && app.env !== null && !Array.isArray(app.env)) app.env = { ...app.env, PORT: port };
    }
  }
  if (raw.source_map_support === true) {
    if (app.nodeArgs === undefined) app.nodeArgs = ['--enable-source-maps'];
    else if (Array.isArray(app.nodeArgs)) app.nodeArgs = ['--enable-source-maps', ...(app.nodeArgs as unknown[])];
  } else if (raw.source_map_support !== undefined && raw.source_map_support !== false) {
    take(() => {
      throw new UsageError(`"${at('source_map_support')}" must be true or false. ${receivedClause(raw.source_map_support, describe)}.`);
    });
  }
  return { app, spelledAs, environments, warnings, ignored, ...(instancesNote === undefined ? {} : { instancesNote }), ...(instancesMeaning === undefined ? {} : { instancesMeaning }), ...(noAutorestart ? { noAutorestart } : {}), ...(instanceVar === undefined ? {} : { instanceVar }) };
}

/**
 * PM2's `instance_var`: the name of the variable that holds each worker's slot (0, 1...). Not
 * one of clusterkit's own CLUSTERKIT_* variables, which the primary sets itself.
 */
function instanceVarOf(value: unknown, key: string): string {
  if (typeof value !== 'string' || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(value)) {
    throw new UsageError(`"${key}" must be an environment variable name (letters, digits and _, not starting with a digit), as "INSTANCE_ID": each worker gets its slot (0, 1...) in it. ${receivedClause(value, describe)}.`);
  }
  if (value.startsWith('CLUSTERKIT_')) {
    throw new UsageError(
      `"${key}" names ${value}, one of clusterkit's own variables, which the primary sets itself in each worker: name a variable of your own, as "INSTANCE_ID", or leave "instance_var" out (NODE_APP_INSTANCE and CLUSTERKIT_SLOT hold the worker's slot). ${receivedClause(value, describe)}.`,
    );
  }
  return value;
}

/**
 * A string where PM2 takes a list (`args: '--port 3000'`): split on white space, a quoted part
 * kept whole without its quotes, as lib/tools/Config.js `_valid` does.
 */
export function splitLikePm2(value: string): string[] {
  return (value.match(/[^\s"'=]+="[^"]*"|[^\s"'=]+='[^']*'|"([^"]*)"|'([^']*)'|\S+/g) ?? [])
    .map((part) => ((part.startsWith('"') && part.endsWith('"')) || (part.startsWith("'") && part.endsWith("'")) ? part.slice(1, -1) : part))
    .filter((part) => part.trim() !== '');
}

/**
 * `instances` as PM2 counts it (Common.verifyConfs, God.prepare): `'max'` and 0 are every CPU
 * (clusterkit's `'max'`), -N every CPU but N (at least one), a numeric string its number. A
 * count of 0 or below depends on the machine, so the note says what it came to here (H183);
 * one that PM2 raises to 1 is a warning: the file asks for fewer CPUs than there are. A
 * fraction, NaN or a word is refused, as clusterkit's own `workers` is: PM2 would start
 * `parseInt` of it, or one per CPU for a word, which no one writes on purpose.
 */
function workersOf(value: unknown, key: string, label: string): { workers: number | 'max'; note?: LoadNote; meaning?: string } {
  const count = value === 'max' ? 0 : typeof value === 'string' && /^-?\d+$/.test(value.trim()) ? Number(value.trim()) : value;
  if (typeof count !== 'number' || !Number.isSafeInteger(count)) {
    throw new UsageError(`"${key}" must be a whole number${beyondSafe(count)} or "max", as PM2 takes it: 4, "max" or 0 (one per CPU), -1 (every CPU but one). ${receivedClause(value, describe)}.`);
  }
  if (count > 0) return { workers: count };
  const said = `${label}: PM2's "instances" (${describe(value)})`;
  const cpus = autoWorkerCount();
  if (count === 0) return { workers: 'max', note: value === 'max' ? undefined : { text: `${said} is one worker per CPU, as "max": ${plural(cpus, 'worker')} here.`, isWarning: false } };
  const workers = cpus + count;
  if (workers >= 1) return { workers, meaning: `every CPU but ${-count}`, note: { text: `${said} is every CPU but ${-count}, as PM2 counts it: ${plural(workers, 'worker')} here, with ${plural(cpus, 'CPU')}.`, isWarning: false } };
  return {
    workers: 1,
    meaning: `every CPU but ${-count}, and at least 1 (${plural(cpus, 'CPU')} here)`,
    note: {
      text: `${said} is every CPU but ${-count}, and this machine has ${plural(cpus, 'CPU')}: 1 worker, the fewest (PM2 raises it to 1 too). Write instances: 1 for one worker, or "max" for one per CPU.`,
      isWarning: true,
    },
  };
}

/** 1e20 is a whole number, but not one a number holds exactly: its refusal says the real bound (H237). */
function beyondSafe(value: unknown): string {
  return typeof value === 'number' && Number.isInteger(value) && !Number.isSafeInteger(value) ? `, ${kSafeIntegerRule}` : '';
}

/** Bytes per unit of PM2's sizes: none (bytes), K, M, G. */
const kBytesPer: Record<string, number> = { '': 1, K: 1024, M: 2 ** 20, G: 2 ** 30 };

/** PM2's sizes (schema.json `sbyte`): a number, or digits alone, is bytes; K, M and G are KiB, MiB, GiB. */
function memoryOf(value: unknown, key: string): string {
  const text = typeof value === 'number' && Number.isSafeInteger(value) && value > 0 ? String(value) : typeof value === 'string' ? value.trim() : '';
  const match = /^(\d+)([KMG])?$/.exec(text);
  if (match === null || Number(match[1]) === 0) {
    throw new UsageError(`"${key}" must be a memory size as PM2 takes it: '512M', '1G', '300K', or a number of bytes. ${receivedClause(value, describe)}.`);
  }
  // Checked here against the floor, so the refusal quotes the value as written (`1`, not the "1K" it becomes).
  const mib = Math.ceil((Number(match[1]) * kBytesPer[match[2] ?? '']!) / 2 ** 20);
  checkMemoryLimitMb(mib, typeof value === 'number' ? value : text, `"${key}"`, 'run', 'bytes');
  // clusterkit's sizes: a bare number is MiB, K is KiB (rounded up to a whole MiB).
  return match[2] === undefined ? `${Math.ceil(Number(match[1]) / 1024)}K` : `${match[1]}${match[2]}`;
}

function logFormatOf(value: unknown, key: string): 'json' {
  if (value !== 'json') throw new UsageError(`"${key}" must be "json", the only log type PM2 has (leave it out for lines). ${receivedClause(value, describe)}.`);
  return value;
}

/**
 * PM2's max_restarts counts restarts of a process that lived less than min_uptime, and gives up
 * at that many (God.handleExit): clusterkit's failed starts in a row (maxStartupFailures, with
 * startupWindow as min_uptime). 0 gives up at the first exit, as autorestart: false.
 */
function restartsOf(value: unknown, key: string, count: (count: number) => void, ignoreZero: () => void): void {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new UsageError(`"${key}" must be a whole number, 0 or more${beyondSafe(value)}. ${receivedClause(value, describe)}.`);
  }
  if (value > 0) count(value);
  else ignoreZero();
}

function portOf(value: unknown, key: string): string {
  const port = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value;
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65_535) {
    throw new UsageError(`"${key}" must be a port number from 1 to 65535 (it becomes PORT in the environment, as under PM2). ${receivedClause(value, describe)}.`);
  }
  return String(port);
}

/** schema.json: `^(cluster|fork)(_mode)?$`. */
function checkExecMode(value: unknown, key: string): void {
  if (typeof value !== 'string' || !/^(?:cluster|fork)(?:_mode)?$/.test(value)) {
    throw new UsageError(`"${key}" must be "cluster" or "fork" (PM2 also takes "cluster_mode" and "fork_mode"). ${receivedClause(value, describe)}.`);
  }
}
