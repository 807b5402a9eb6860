/**
 * Checking a loaded config file: every key known, every value valid, before anything starts.
 * A mistake is a usage error (exit 2) naming the key and the file. A PM2 ecosystem file (named
 * ecosystem.*, or with any of PM2's keys or PM2's shapes: `args` as one string) is read in PM2's words (pm2-app.ts): each key with a
 * clusterkit twin becomes it, each without one is a warning. Values become a `RunLayer` with
 * absolute paths: `cwd` relative to the file's directory, every other path relative to the
 * app's `cwd`.
 */
import { statSync } from 'node:fs';
import { isFile, notDirectoryText, unreachableWhy } from '../../file-kind.js';
import { basename, dirname, resolve } from 'node:path';
import type { IgnoredSetting } from '../../control/cluster-settings.js';
import { clusterNameProblem, describeBadName, fileNameOf, nameFromFile, unnamedScript } from '../../control/cluster-name.js';
import { checkCronRestart, checkDurationMs, checkHeartbeatTimeout, checkMemoryLimitMb, isUnitless, parseDuration, parseMemoryLimitMb, type ZeroDuration } from '../arg-values.js';
import { checkEnvObject, describe, readEnvFile } from '../env-values.js';
import type { RunLayer } from '../run-settings.js';
import { closest } from '../suggest.js';
import { commandScriptHint } from '../command-script-hint.js';
import { canRunTypeScript, cliWorkerNodeOptions, typeScriptSiblingOf } from '../../typescript-sibling.js';
import { UsageError } from '../usage-error.js';
import { isNoLogFile } from '../logs/log-files.js';
import { scriptStoppingNodeArg } from '../../primary/script-stopping-node-arg.js';
import { capitalize } from '../../capitalize.js';
import { killTimeoutNote } from './kill-timeout-note.js';
import { kDurationKeys, type DurationKey } from '../bare-duration-note.js';
import type { LoadNote } from './load-note.js';
import { compileTimeFormat } from '../logs/line-time.js';
import { clusterkitKeyOf, isPm2App, kPm2KeysTaken, kPm2KeysWithoutEquivalent, pm2KeyOf, translatePm2App } from './pm2-app.js';
import { kUnreadable, type UnreadableValue } from './plain-config.js';
import { receivedClause } from '../../errors.js';

export interface ConfigApp {
  readonly name: string;
  /** Said at the start when the name was made of a script file name that is no cluster name as it is (H261). */
  readonly nameNote?: string;
  /** No "name" key: the app is named after its script's file (H280: a clash then suggests one). */
  readonly isNameFromScript?: boolean;
  readonly layer: RunLayer;
  /** A PM2 app's `env_<name>` objects, by name: `--env <name>` lays one over `env`. */
  readonly environments?: Readonly<Record<string, Record<string, string>>>;
  /** A PM2 file's keys that clusterkit does without (the file's own, then the app's), one line each. */
  readonly warnings?: readonly string[];
  /** The app's own keys among them, for `clusterkit show` (H243). */
  readonly ignoredPm2Keys?: readonly IgnoredSetting[];
  /** PM2's `autorestart: false`: run with other apps, the app is not started again when its primary exits (H331). */
  readonly noAutorestart?: true;
  /** PM2's `instance_var` other than NODE_APP_INSTANCE: the workers get their slot in it too (H409). */
  readonly instanceVar?: string;
  /** What a PM2 app's `kill_timeout` gives its requests here (kill-timeout-note.ts), said at load unless --shutdown-timeout replaces it. */
  readonly killTimeoutNote?: LoadNote;
  /** What a PM2 app's `instances` of 0 or below came to here (pm2-app.ts), said at load unless --workers replaces it. */
  readonly instancesNote?: LoadNote;
  /**
   * What set the worker count, as the file wrote it (`instances: -1`, `workers: "max"`,
   * `dev: true`), and what it counts when that is not plain (`every CPU but 1`): the start's
   * `starting 1 worker: ...` line names it (H203).
   */
  readonly workersWritten?: { readonly setting: string; readonly meaning?: string };
  /** clusterkit's key -> the key the file wrote (`readyTimeout` -> `listen_timeout`), for each key the app sets. */
  readonly keysWritten?: Readonly<Record<string, string>>;
  /** Read in PM2's words (pm2-app.ts): a key it did not write is named in PM2's spelling (`ignore_watch`). */
  readonly isPm2?: boolean;
  /** The app's `envFile` (absolute): `--watch` tells of its change (H306). */
  readonly envFile?: string;
}

/** Each app would be a primary process with its workers; more is not a config, it is a mistake. */
const kMaxApps = 100;
/** Longest list (`args`, `nodeArgs`, `watch`, `ignoreWatch`) and string accepted. */
const kMaxListLength = 1_000;
const kMaxStringLength = 128 * 1024 - 1;

export const kAppKeys = [
  'name', 'script', 'args', 'nodeArgs', 'env', 'envFile', 'cwd', 'workers', 'maxWorkers', 'dev', 'shutdownTimeout', 'gradualDrain', 'minReady', 'heartbeatTimeout',
  'readyTimeout', 'waitReady', 'waitListen', 'healthPort', 'healthHost', 'healthMinReady', 'maxMemory', 'cronRestart', 'maxRestarts', 'restartWindow', 'startupWindow', 'maxStartupFailures', 'stableAfter', 'restartBackoff', 'logFormat', 'time', 'timeFormat', 'watch', 'ignoreWatch', 'watchDelay',
  'outFile', 'errorFile', 'logFile',
] as const;

/** A key clusterkit spells its own way that is not PM2's either (PM2 reads env_file as an environment). */
const kOtherSpellings: Record<string, string> = { env_file: 'envFile' };

/** Node options, one per entry. */
const kNodeArgsExample = "['--max-old-space-size=256', '--import=tsx']";

/** Checks the loaded file; returns its apps in order. */
export function checkConfig(raw: unknown, file: string, unreadable: readonly UnreadableValue[] = []): ConfigApp[] {
  try {
    const shaped = pm2Shape(raw);
    return checkApps(shaped.raw, file, shaped.isPm2 || basename(file).startsWith('ecosystem'), unreadable);
  } catch (error) {
    if (error instanceof UsageError) throw new UsageError(`${file}: ${error.headline}`, 'run', error.details);
    throw error;
  }
}

/**
 * The file as `{ apps: [...] }`, from the other shapes `pm2 start` takes (hostile t66, H664: each
 * was refused, a single-app process.json with "5 problems: Unknown key ..."): `apps` as one
 * object, a `pm2` key in its place, a file that is one app (it has `script`), a top-level array
 * of apps, as PM2's `_startJson` (lib/API.js: `config.apps`, else `config.pm2`, else the file;
 * one app becomes a list of one). Those shapes are PM2's: its keys are taken.
 */
function pm2Shape(raw: unknown): { raw: unknown; isPm2: boolean } {
  if (Array.isArray(raw)) return { raw: { apps: raw }, isPm2: true };
  if (!isPlainObject(raw)) return { raw, isPm2: false };
  const { apps } = raw;
  if (isPlainObject(apps)) return { raw: { ...raw, apps: [apps] }, isPm2: true };
  if (apps !== undefined) return { raw, isPm2: false };
  if (Object.hasOwn(raw, 'pm2')) {
    const { pm2, ...rest } = raw;
    return { raw: { ...rest, apps: isPlainObject(pm2) ? [pm2] : pm2 }, isPm2: true };
  }
  // One app: its script, or its name without one (retest t67: "Unknown key "name"" where the script was what was missing).
  if (Object.hasOwn(raw, 'script') || Object.hasOwn(raw, 'name')) return { raw: { apps: [raw] }, isPm2: true };
  return { raw, isPm2: false };
}

/**
 * The config's problems, gathered so that one run reports them all: fixing a file one mistake
 * per run is tedious. A problem that leaves nothing to check further (an app that is not an
 * object, a missing script) still ends its app's checks. `prefix` starts each message kept
 * (`app "api": ` for a PM2 app, whose key alone would not name it).
 */
class Problems {
  constructor(
    readonly messages: string[] = [],
    readonly prefix = '',
    /** Key paths of values that could not be read (plain-config.ts): said once, as that; what the checks say of them is not kept. */
    readonly unreadable: readonly string[] = [],
  ) {}

  /** What `check` returns; undefined when it threw a `UsageError`, whose message is kept. */
  readonly take = <T>(check: () => T): T | undefined => {
    try {
      return check();
    } catch (error) {
      if (!(error instanceof UsageError)) throw error;
      this.#keep(error.message);
      return undefined;
    }
  };

  /** Keeps `error` as a problem found outside a `take()`. */
  add(error: UsageError): void {
    this.#keep(error.message);
  }

  /** The same list, each message of this scope starting with `prefix`. */
  scoped(prefix: string): Problems {
    return new Problems(this.messages, prefix, this.unreadable);
  }

  #keep(message: string): void {
    // A check of the stand-in for an unreadable value (`"apps[0].env" must be an object`) repeats its problem.
    if (this.unreadable.some((path) => message.includes(`"${path}"`) || message.includes(`"${path}.`) || message.includes(`"${path}[`))) return;
    this.messages.push(this.prefix + message);
  }

  /** Throws one `UsageError` listing every problem kept, if any. */
  throwIfAny(): void {
    const messages = this.messages;
    if (messages.length === 1) throw new UsageError(messages[0]!);
    if (messages.length > 1) throw new UsageError(`${messages.length} problems:`, undefined, messages);
  }
}

function checkApps(raw: unknown, file: string, isNamedEcosystem: boolean, unreadable: readonly UnreadableValue[]): ConfigApp[] {
  if (raw === kUnreadable && unreadable.length > 0) throw new UsageError(unreadable[0]!.message);
  if (!isPlainObject(raw)) throw new UsageError(`The config must be an object with "apps", as in { apps: [{ name: 'api', script: './server.js' }] }. ${receivedClause(raw, (value) => describeNotPlain(value, "{ apps: [...] }"))}.`);
  const apps = raw.apps;
  const isPm2 = isNamedEcosystem || Object.hasOwn(raw, 'deploy') || (Array.isArray(apps) && apps.some((app) => isPlainObject(app) && isPm2App(app)));
  // Each value that could not be read is one problem among the others (hostile t58: the first hid the rest).
  const problems = new Problems(unreadable.map((value) => pm2AppLabel(isPm2 ? apps : undefined, value.path) + value.message), '', unreadable.map((value) => value.path));
  // A key of the file's own is reported with the apps' problems, not before them (H129).
  rejectUnknownKeys(raw, isPm2 ? ['apps', 'deploy'] : ['apps'], '', problems);
  const fileWarnings = isPm2 && raw.deploy !== undefined ? [`PM2's "deploy" has no equivalent, and is not used: ${kPm2KeysWithoutEquivalent.deploy}.`] : [];
  if (!Array.isArray(apps) || apps.length === 0 || apps.length > kMaxApps) {
    problems.add(new UsageError(Array.isArray(apps) && apps.length > 0 ? `"apps" has ${apps.length} apps; the limit is ${kMaxApps}.` : `"apps" must be a non-empty array of apps. ${Array.isArray(apps) ? 'Received an empty array' : receivedClause(apps, describe)}.`));
    problems.throwIfAny();
  }
  const list = apps as unknown[];
  const checked = list.map((app, index) => {
    const key = `apps[${index}]`;
    if (!isPm2 || !isPlainObject(app)) return problems.take(() => checkApp(app, key, file, problems));
    // A PM2 app is named in each of its problems: PM2 users know their apps by name, not index.
    const name = typeof app.name === 'string' && app.name !== '' ? app.name : undefined;
    const scope = name === undefined ? problems : problems.scoped(`app "${name.length > 64 ? `${name.slice(0, 61)}...` : name}": `);
    return scope.take(() => checkPm2App(app, key, file, scope, fileWarnings));
  });
  // An app with other problems still has its name: a duplicate is said in the same run (H129).
  // Names that differ only in letter case too (H287): each app's start refused the other's at
  // run time, in whichever order they came up (H282's check), leaving one app of the two.
  const seen = new Map<string, { name: string; index: number }>();
  checked.forEach((app, index) => {
    const name = app?.name ?? nameAsWritten(list[index]);
    if (name === undefined) return;
    const folded = fileNameOf(name).toLowerCase();
    const first = seen.get(folded);
    if (first === undefined) seen.set(folded, { name, index });
    else if (first.name === name) problems.add(new UsageError(`"apps[${index}]" has the name "${name}", like "apps[${first.index}]"; each app needs its own name.`));
    else {
      problems.add(
        new UsageError(
          `"apps[${index}]" has the name "${name}", and "apps[${first.index}]" has "${first.name}": they differ only in letter case, and on a case-insensitive file system (macOS by default) their control sockets would be one file, so the second app's start would be refused. Name them apart (for example "${name}-2").`,
        ),
      );
    }
  });
  problems.throwIfAny();
  return checked as ConfigApp[];
}

/**
 * A PM2 app: translated, then checked as clusterkit's. An app without `instances` is one
 * process under PM2 (Common.sink.determineExecMode: `instances` defaults to 1), so it runs one
 * worker here too, whatever NODE_ENV says.
 */
/**
 * `app "api": ` for a problem at `path` inside a PM2 app with a name, as its other problems are
 * labelled (open item t58: an unreadable value's line had none); '' otherwise.
 */
function pm2AppLabel(apps: unknown, path: string): string {
  const index = /^apps\[(\d+)\]/.exec(path)?.[1];
  const app = index === undefined || !Array.isArray(apps) ? undefined : (apps as unknown[])[Number(index)];
  if (!isPlainObject(app) || typeof app.name !== 'string' || app.name === '') return '';
  return `app "${app.name.length > 64 ? `${app.name.slice(0, 61)}...` : app.name}": `;
}

function checkPm2App(app: Record<string, unknown>, key: string, file: string, problems: Problems, fileWarnings: readonly string[]): ConfigApp | undefined {
  const named = typeof app.name === 'string' && app.name !== '' ? ` ("${app.name.length > 64 ? `${app.name.slice(0, 61)}...` : app.name}")` : '';
  const label = `${key}${named}`;
  // Its restart_delay warnings state the back-off in force; a bad value is reported by checkApp.
  const restartBackoffMs = app.restartBackoff === undefined ? undefined : new Problems().take(() => checkDuration(app.restartBackoff, `${key}.restartBackoff`));
  const translated = translatePm2App(app, key, label, problems.take, restartBackoffMs);
  const plain = translated.app.workers === undefined && translated.app.dev === undefined ? { ...translated.app, workers: 1 } : translated.app;
  const checked = checkApp(plain, key, file, problems, translated.spelledAs, true);
  if (!checked) return checked;
  const { shutdownTimeoutMs } = checked.layer;
  const note = translated.spelledAs.shutdownTimeout === 'kill_timeout' && shutdownTimeoutMs !== undefined ? { killTimeoutNote: killTimeoutNote(label, shutdownTimeoutMs) } : {};
  const instances = translated.instancesNote === undefined ? {} : { instancesNote: translated.instancesNote };
  // PM2's own spelling of the count, or its default of one process when `instances` is left out.
  const workersWritten =
    app.instances !== undefined
      ? { setting: `instances: ${describe(app.instances)}`, ...(translated.instancesMeaning === undefined ? {} : { meaning: translated.instancesMeaning }) }
      : plain === translated.app
        ? checked.workersWritten
        : { setting: 'no "instances"', meaning: 'one process, as PM2 runs it' };
  return { ...checked, environments: translated.environments, warnings: [...fileWarnings, ...translated.warnings], ignoredPm2Keys: translated.ignored, ...(translated.noAutorestart ? { noAutorestart: true as const } : {}), ...(translated.instanceVar === undefined ? {} : { instanceVar: translated.instanceVar }), ...note, ...instances, ...(workersWritten === undefined ? {} : { workersWritten }), isPm2: true };
}

/**
 * One app, every key checked even after another failed (H129): each problem is kept in
 * `problems` (which the caller throws), and the app is undefined when it has no script or name
 * to give. Only a bad `cwd` leaves something unchecked: the files named relative to it
 * (`script`, `envFile`) are not looked for in a directory that is not there.
 */
/** `file`: the config file's absolute path. */
function checkApp(app: unknown, key: string, file: string, problems: Problems, spelledAs: Readonly<Record<string, string>> = {}, isPm2 = false): ConfigApp | undefined {
  const directory = dirname(file);
  if (!isPlainObject(app)) throw new UsageError(`"${key}" must be an object with at least "script". ${receivedClause(app, (value) => describeNotPlain(value))}.`);
  rejectUnknownKeys(app, kAppKeys, `${key}.`, problems, isPm2 ? kPm2AppHints : kAppHints);
  // A translated key is named as the file wrote it: "apps[0].kill_timeout", not "shutdownTimeout".
  const at = (name: string) => `${key}.${Object.hasOwn(spelledAs, name) ? spelledAs[name] : name}`;
  // A key the hints name, as the file spells it: as written, else in the file's own dialect (H391: `node_args` in a PM2 file).
  const keyOf = (name: string) => (Object.hasOwn(spelledAs, name) ? spelledAs[name]! : app[name] === undefined && isPm2 ? (pm2KeyOf(name) ?? name) : name);
  const cwd = app.cwd === undefined ? directory : problems.take(() => checkDirectory(resolve(directory, checkString(app.cwd, at('cwd'))), at('cwd')));
  const script = problems.take(() => checkScript(app, key, at, cwd, keyOf));
  const name = problems.take(() => checkName(app.name, at('name'), script));
  if (app.dev === true && app.workers !== undefined) problems.add(new UsageError(`"${key}" has both "dev" (a single worker) and "${at('workers').slice(key.length + 1)}"; keep one.`));
  const envFilePath = app.envFile === undefined || cwd === undefined ? undefined : problems.take(() => resolve(cwd, checkString(app.envFile, at('envFile'))));
  // Each bad variable and each bad line of the env file is a problem of its own (H524), as each bad entry of a list.
  const report = (error: UsageError) => problems.add(error);
  const envFile = envFilePath === undefined ? {} : (problems.take(() => readEnvFile(envFilePath, `"${at('envFile')}"`, report)) ?? {});
  const env = { ...envFile, ...(app.env === undefined ? {} : (problems.take(() => checkEnvObject(app.env, at('env'), report)) ?? {})) };
  // Each key is checked even after another failed: every problem is reported at once.
  const optional = <T>(value: unknown, check: (value: unknown) => T): T | undefined => problems.take(() => optionalValue(value, check));
  const layer: Omit<RunLayer, 'script'> = {
    scriptArgs: optional(app.args, (value) => checkStrings(value, at('args'), undefined, report)),
    name,
    workers: optional(app.workers, (value) => checkWorkers(value, at('workers'))),
    maxWorkers: optional(app.maxWorkers, (value) => checkCount(value, at('maxWorkers'))),
    isDev: optional(app.dev, (value) => checkBoolean(value, at('dev'))),
    waitReady: optional(app.waitReady, (value) => checkBoolean(value, at('waitReady'))),
    waitListen: optional(app.waitListen, (value) => checkBoolean(value, at('waitListen'))),
    healthPort: optional(app.healthPort, (value) => checkPort(value, at('healthPort'))),
    healthHost: optional(app.healthHost, (value) => checkString(value, at('healthHost'))),
    healthMinReady: optional(app.healthMinReady, (value) => checkCount(value, at('healthMinReady'))),
    shutdownTimeoutMs: optional(app.shutdownTimeout, (value) => checkDuration(value, at('shutdownTimeout'))),
    gradualDrainMs: optional(app.gradualDrain, (value) => checkDuration(value, at('gradualDrain'), 'gradualDrain')),
    minReadyMs: optional(app.minReady, (value) => checkDuration(value, at('minReady'), 'minReady')),
    // `minReady: 5`, `shutdownTimeout: 30` are ms: the start says so (H359, H463). PM2's own keys
    // (kill_timeout, listen_timeout, min_uptime, watch_delay) are milliseconds in PM2 too: not said.
    bareDurations: bareDurationKeys(app, spelledAs),
    readyTimeoutMs: optional(app.readyTimeout, (value) => checkDuration(value, at('readyTimeout'))),
    heartbeatTimeoutMs: optional(app.heartbeatTimeout, (value) =>
      checkHeartbeatTimeout(checkDuration(value, at('heartbeatTimeout')), `"${at('heartbeatTimeout')}"`, value as string | number, file),
    ),
    maxMemoryMb: optional(app.maxMemory, (value) => checkSize(value, at('maxMemory'))),
    cronRestart: optional(app.cronRestart, (value) => checkCronRestart(value, `"${at('cronRestart')}"`, 'run')),
    maxRestarts: optional(app.maxRestarts, (value) => checkCount(value, at('maxRestarts'))),
    restartWindowMs: optional(app.restartWindow, (value) => checkDuration(value, at('restartWindow'))),
    startupWindowMs: optional(app.startupWindow, (value) => checkDuration(value, at('startupWindow'), 'startupWindow')),
    maxStartupFailures: optional(app.maxStartupFailures, (value) => checkCount(value, at('maxStartupFailures'))),
    stableAfterMs: optional(app.stableAfter, (value) => checkDuration(value, at('stableAfter'))),
    restartBackoffMs: optional(app.restartBackoff, (value) => checkDuration(value, at('restartBackoff'))),
    nodeArgs: optional(app.nodeArgs, (value) => checkNodeArgs(checkStrings(value, at('nodeArgs'), kNodeArgsExample, report), at('nodeArgs'))),
    logFormat: optional(app.logFormat, (value) => checkLogFormat(value, at('logFormat'))),
    time: optional(app.time, (value) => checkBoolean(value, at('time'))),
    // Compiled now: a token it does not know is refused by name, with the file's other problems (H335).
    timeFormat: optional(app.timeFormat, (value) => checkTimeFormat(value, at('timeFormat'))),
    env: Object.keys(env).length > 0 ? env : undefined,
    cwd,
    watch: optional(app.watch, (value) => checkWatch(value, at('watch'), cwd ?? directory, report)),
    ignoreWatch: optional(app.ignoreWatch, (value) => checkStrings(value, at('ignoreWatch'), "['logs', '*.tmp']", report)),
    watchDelayMs: optional(app.watchDelay, (value) => checkDuration(value, at('watchDelay'))),
    // Relative to the app's cwd, as envFile and watch (H314).
    outFile: optional(app.outFile, (value) => logPathOf(cwd ?? directory, checkLogPath(value, at('outFile'), app.name))),
    errorFile: optional(app.errorFile, (value) => logPathOf(cwd ?? directory, checkLogPath(value, at('errorFile'), app.name))),
    logFile: optional(app.logFile, (value) => logPathOf(cwd ?? directory, checkLogPath(value, at('logFile'), app.name))),
  };
  // The file's host and minimum go with the file's port (a --health-port flag brings its own): alone, they would do nothing.
  for (const alone of ['healthHost', 'healthMinReady'] as const) {
    if (app[alone] !== undefined && app.healthPort === undefined) problems.add(new UsageError(`"${at(alone)}" only applies with "${at('healthPort')}" (the health endpoint's port): add it, or remove "${at(alone)}".`));
  }
  if (script === undefined || name === undefined) return undefined;
  // Each key the app sets, as the file wrote it: a message about its value names that key (H146).
  const keysWritten = Object.fromEntries(kAppKeys.filter((name) => app[name] !== undefined).map((name) => [name, Object.hasOwn(spelledAs, name) ? spelledAs[name]! : name]));
  const workersWritten = app.workers !== undefined ? { setting: `workers: ${describe(app.workers)}` } : app.dev === true ? { setting: 'dev: true' } : undefined;
  const nameNote = app.name === undefined ? nameFromFile(script).note : undefined;
  return { name, layer: { ...layer, script }, keysWritten, ...(envFilePath === undefined ? {} : { envFile: envFilePath }), ...(workersWritten === undefined ? {} : { workersWritten }), ...(nameNote === undefined ? {} : { nameNote }), ...(app.name === undefined ? { isNameFromScript: true } : {}) };
}

/**
 * The script's absolute path; with `cwd` undefined (not a directory, already reported), only
 * its form is checked, and the path is undefined.
 */
function checkScript(app: Record<string, unknown>, key: string, at: (name: string) => string, cwd: string | undefined, keyOf: (name: string) => string): string | undefined {
  if (app.script === undefined) throw new UsageError(`"${key}" has no "script": the file every worker runs, as in script: './server.js'.`);
  const written = checkString(app.script, at('script'));
  if (cwd === undefined) return undefined;
  const script = resolve(cwd, written);
  if (isFile(script)) return script;
  const unreachable = unreachableWhy(script);
  if (unreachable !== undefined) throw new UsageError(`"${at('script')}": ${script} cannot be reached: ${unreachable}`);
  if (existsAsOther(script)) throw new UsageError(`"${at('script')}": not a regular file: ${script}`);
  // `script: './server.js'` with only server.ts there: run it when the workers load TypeScript, else say how (H380).
  const sibling = typeScriptSiblingOf(script);
  if (sibling !== undefined && canRunTypeScript(sibling, cliWorkerNodeOptions(stringsOf(app.nodeArgs)))) return sibling;
  const hint = sibling === undefined ? commandScriptHint(written, stringsOf(app.args), cwd) : `. ${sibling} exists: run it with a TypeScript loader (${keyOf('nodeArgs')}: ['--import=tsx']), or build it and point at the built file.`;
  throw new UsageError(`"${at('script')}": script not found: ${script}${hint}`);
}

/**
 * The app's name (in NFC): as written, PM2's `'Billing API'` included (H260), or its script's
 * (`server` for ./server.js) when left out (H261).
 */
function checkName(value: unknown, key: string, script: string | undefined): string | undefined {
  if (value === undefined) {
    if (script === undefined) return undefined;
    const { name } = nameFromFile(script);
    if (name === undefined) throw new UsageError(unnamedScript(script, `"${key}"`));
    return name;
  }
  const name = checkString(value, key).normalize('NFC');
  if (clusterNameProblem(name) !== undefined) throw new UsageError(describeBadName(value as string, `"${key}" is not a cluster name (received ${describe(value)})`));
  return name;
}

/** The name an app that failed its checks would have had, for the duplicate check. */
function nameAsWritten(app: unknown): string | undefined {
  if (!isPlainObject(app)) return undefined;
  if (typeof app.name === 'string') return clusterNameProblem(app.name.normalize('NFC')) === undefined ? app.name.normalize('NFC') : undefined;
  return app.name === undefined && typeof app.script === 'string' && app.script !== '' ? nameFromFile(app.script).name : undefined;
}

/**
 * How an app's unknown key is answered (H198): the nearest key it may have meant, else the list.
 * A PM2 app is answered in PM2's names first (the ones clusterkit takes), then clusterkit's
 * own; a clusterkit app's near miss of a PM2 key names the key clusterkit spells it as.
 */
interface KeyHints {
  /** Looked through in this order: the first of equally near keys is named. */
  readonly candidates: readonly string[];
  readonly list: string;
  readonly describe?: (key: string) => string;
}

const kPm2Candidates = kPm2KeysTaken.filter((key) => !key.includes('<'));
const kOwnKeys = kAppKeys.filter((key) => !kPm2KeysTaken.includes(key));

const kPm2AppHints: KeyHints = {
  candidates: [...kPm2Candidates, ...kOwnKeys, ...Object.keys(kPm2KeysWithoutEquivalent)],
  list: `PM2's that clusterkit takes: ${kPm2KeysTaken.join(', ')}; and clusterkit's own: ${kOwnKeys.join(', ')}`,
};

const kAppHints: KeyHints = {
  candidates: [...kAppKeys, ...kPm2Candidates],
  list: kAppKeys.join(', '),
  describe: (key) => {
    const twin = (kAppKeys as readonly string[]).includes(key) ? undefined : clusterkitKeyOf(key);
    return twin === undefined ? `"${key}"` : `"${twin}" (PM2's "${key}")`;
  },
};

function rejectUnknownKeys(object: Record<string, unknown>, known: readonly string[], prefix: string, problems?: Problems, hints: KeyHints = { candidates: known, list: known.join(', ') }): void {
  for (const key of Object.keys(object)) {
    if (known.includes(key)) continue;
    const other = Object.hasOwn(kOtherSpellings, key) ? kOtherSpellings[key] : undefined;
    const near = other ?? closest(key, hints.candidates);
    const hint = near ? ` Did you mean ${hints.describe?.(near) ?? `"${near}"`}?` : ` Known keys: ${hints.list}.`;
    const error = new UsageError(`Unknown key "${prefix}${key.length > 80 ? `${key.slice(0, 77)}...` : key}".${hint}`);
    if (!problems) throw error;
    problems.add(error);
  }
}

function checkString(value: unknown, key: string): string {
  if (typeof value !== 'string' || value === '') throw new UsageError(`"${key}" must be a non-empty string. ${receivedClause(value, describe)}.`);
  // Which of the two (hostile t58: "longer than ... or contains a NUL byte" did not say).
  if (value.length > kMaxStringLength) throw new UsageError(`"${key}" is longer than ${kMaxStringLength} characters (${value.length}).`);
  if (value.includes('\0')) throw new UsageError(`"${key}" contains a NUL byte (U+0000, at character ${value.indexOf('\0') + 1}), which no file name, argument or variable can hold.`);
  return value;
}

/**
 * `example`: a value of that key, so that the advice fits it (Node options are no script args).
 * Every bad entry is a problem (H524): each but the last goes to `report`, the last is thrown
 * (so the list is not used); by default the first is thrown.
 */
function checkStrings(value: unknown, key: string, example = "['--port', '3000']", report: (error: UsageError) => void = throwIt): string[] {
  if (!Array.isArray(value)) throw new UsageError(`"${key}" must be an array of strings, as in ${example}. ${receivedClause(value, describe)}.`);
  if (value.length > kMaxListLength) throw new UsageError(`"${key}" has ${value.length} entries; the limit is ${kMaxListLength}.`);
  const refused: UsageError[] = [];
  const strings = value.map((entry, index) => {
    try {
      return checkString(entry, `${key}[${index}]`);
    } catch (error) {
      if (!(error instanceof UsageError)) throw error;
      refused.push(error);
      return '';
    }
  });
  const last = refused.pop();
  if (last === undefined) return strings;
  for (const error of refused) report(error);
  throw last;
}

function throwIt(error: UsageError): never {
  throw error;
}

/** A config's Node options: none that stops Node from running the workers' script (H310). */
function checkNodeArgs(nodeArgs: string[], key: string): string[] {
  const found = scriptStoppingNodeArg(nodeArgs);
  if (found === undefined) return nodeArgs;
  throw new UsageError(`"${key}[${found.index}]" is ${found.arg === '' ? 'empty' : `"${found.shown}"`}, which would stop the workers from running their script: ${found.problem}. ${capitalize(found.instead)}.`);
}

function checkBoolean(value: unknown, key: string): boolean {
  if (typeof value !== 'boolean') throw new UsageError(`"${key}" must be true or false. ${receivedClause(value, describe)}.`);
  return value;
}

function checkWorkers(value: unknown, key: string): number | 'auto' | 'max' {
  if (value === 'auto' || value === 'max') return value;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) throw new UsageError(`"${key}" must be a positive integer, "auto" or "max". ${receivedClause(value, describe)}.`);
  return value;
}

function checkPort(value: unknown, key: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > 65_535) throw new UsageError(`"${key}" must be a port number from 1 to 65535. ${receivedClause(value, describe)}.`);
  return value;
}

function checkCount(value: unknown, key: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) throw new UsageError(`"${key}" must be a positive integer. ${receivedClause(value, describe)}.`);
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
    throw new UsageError(`"${key}" must be a duration such as 10s, 500ms or 2m (a number is milliseconds). ${receivedClause(value, describe)}.`);
  }
  return checkDurationMs(value === 0 ? 0 : value, Number.isInteger(value), value, `"${key}"`, 'run', zero);
}

/** The duration keys `app` wrote without a unit, in clusterkit's spelling (a PM2-spelled one is PM2's milliseconds). */
function bareDurationKeys(app: Record<string, unknown>, spelledAs: Readonly<Record<string, string>>): DurationKey[] | undefined {
  const bare = kDurationKeys.filter((key) => {
    const value = app[key];
    return (typeof value === 'number' || typeof value === 'string') && !Object.hasOwn(spelledAs, key) && isUnitless(value);
  });
  return bare.length === 0 ? undefined : bare;
}

/** A memory limit: a number of MiB or a string with a unit, as `--max-memory`. */
function checkSize(value: unknown, key: string): number {
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 1) return checkMemoryLimitMb(value, value, `"${key}"`, 'run');
  if (typeof value !== 'string') throw new UsageError(`"${key}" must be a memory size such as '512M' or '1G' (a number is MiB). ${receivedClause(value, describe)}.`);
  return parseMemoryLimitMb(value, `"${key}"`, 'run');
}

/** A time format (`'YYYY-MM-DD HH:mm:ss Z'`) whose every token the formatter knows (logs/line-time.ts). */
function checkTimeFormat(value: unknown, key: string): string {
  if (typeof value !== 'string' || value === '') throw new UsageError(`"${key}" must be a date format such as "YYYY-MM-DD HH:mm:ss Z". ${receivedClause(value, describe)}.`);
  compileTimeFormat(value, `"${key}"`);
  return value;
}

function checkLogFormat(value: unknown, key: string): 'line' | 'json' {
  if (value !== 'line' && value !== 'json') throw new UsageError(`"${key}" must be "line" or "json". ${receivedClause(value, describe)}.`);
  return value;
}

/**
 * A log file's path. PM2's `log: true` (and `out_file: true`...) is a default path under
 * ~/.pm2/logs: clusterkit has no default, so the message names one to give.
 */
/** The log file's absolute path, or none for PM2's `'NULL'`, `/dev/null` or `/dev/stdout` (H319). */
function logPathOf(directory: string, path: string): string | undefined {
  return isNoLogFile(path) ? undefined : resolve(directory, path);
}

function checkLogPath(value: unknown, key: string, name: unknown): string {
  if (value === true) {
    const file = typeof name === 'string' && /^[\w.-]+$/.test(name) ? name : 'app';
    const suffix = key.endsWith('errorFile') || /\.(?:error|err)(?:_file|_log)?$/.test(key) ? '-error' : key.endsWith('outFile') || /\.(?:out|output)(?:_file|_log)?$/.test(key) ? '-out' : '';
    throw new UsageError(`"${key}" is true, which PM2 takes for a file of its own under ~/.pm2/logs; clusterkit has no default log path: give one, as in ${key.slice(key.lastIndexOf('.') + 1)}: './logs/${file}${suffix}.log' (relative to the app's cwd).`);
  }
  return checkString(value, key);
}

function checkWatch(value: unknown, key: string, cwd: string, report: (error: UsageError) => void): string[] | false {
  if (value === true) return [];
  if (value === false) return false;
  if (!Array.isArray(value)) throw new UsageError(`"${key}" must be true, false or an array of paths. ${receivedClause(value, describe)}.`);
  return checkStrings(value, key, undefined, report).map((path) => resolve(cwd, path));
}

function checkDirectory(path: string, key: string): string {
  let isDirectory = false;
  try {
    isDirectory = statSync(path).isDirectory();
  } catch {
    // reported below
  }
  if (!isDirectory) throw new UsageError(`"${key}": ${notDirectoryText(path)}`);
  return path;
}

function existsAsOther(path: string): boolean {
  try {
    return !statSync(path).isFile();
  } catch {
    return false;
  }
}

/** `value` if it is a list of strings (a checked or translated `args`), else none. */
function stringsOf(value: unknown): string[] {
  return Array.isArray(value) && value.every((entry) => typeof entry === 'string') ? value : [];
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

/**
 * What a value that is no plain object is, for "must be an object": an object whose keys are
 * inherited (`{ __proto__: base }`, `Object.create(base)`) or a class instance read "Received an
 * object" (hostile t58), which it is; its own keys are what the checks read.
 */
function describeNotPlain(value: unknown, example = "{ script: './server.js' }"): string {
  if (typeof value !== 'object' || value === null || Array.isArray(value) || value === kUnreadable) return describe(value);
  return `an object that is not a plain one (its keys inherited from a prototype, or a class instance): give it its own keys, as in ${example}`;
}
