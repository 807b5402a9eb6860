/**
 * What `clusterkit run <args>` is asked to do:
 *
 * - `run server.js`: a script named on the command line (no config file is read);
 * - `run ecosystem.config.cjs [app]`: a file named as PM2 names a config file is read as one,
 *   as with `--config` (run-flags.ts), and said so on stderr;
 * - `run api`: the app `api` of the config file;
 * - `run`: every app of the config file (one app runs in this process, several each in
 *   their own primary process, see `run-apps`).
 *
 * Everything is checked here, before anything starts: bad input is a usage error (exit 2).
 */
import { existsSync, statSync } from 'node:fs';
import { basename, join, relative, resolve } from 'node:path';
import { escapeControlChars } from '../control/control-chars.js';
import { clusterNameProblem, describeBadName } from '../control/cluster-name.js';
import { defaultMaxWorkers } from '../primary/pool/cpu-limit.js';
import { kAppKeys, type ConfigApp } from './config/check-config.js';
import { pm2KeyOf } from './config/pm2-app.js';
import { checkConfigPath, findConfigFile } from './config/config-file.js';
import { loadConfig } from './config/config-loader.js';
import { kConfigKeyOfOption, type OptionSources } from './flag-names.js';
import { parseRunFlags, type RunFlags } from './run-flags.js';
import { isTimed, mergeRunLayers, type RunLayer, type RunOrigin, type RunSettings } from './run-settings.js';
import { kindOf, notDirectoryText } from '../file-kind.js';
import { takeLauncherLink } from './launcher-link.js';
import { addEarlyFileOutput, writingAs, type OutputStream } from './logs/log-files.js';
import { findRunnableScript, scriptCandidates, scriptNotFound } from './script-path.js';
import { closestName } from './suggest.js';
import { UsageError } from './usage-error.js';
import { checkScriptModuleSyntax } from './script-module-check.js';
import type { IgnoreKey } from './watch/ignore-advice.js';

export type RunPlan =
  | { readonly kind: 'help' }
  | { readonly kind: 'one'; readonly settings: RunSettings }
  /** `childArgs(app)` is the command line (after `run`) that runs one of the apps. */
  | { readonly kind: 'apps'; readonly configFile: string; readonly apps: RunSettings[]; readonly childArgs: (app: string) => string[] };

/** How `planRun` plans again for a running cluster (config-change-check.ts, H306). */
export interface PlanOptions {
  /** Planned again while the cluster runs: nothing is written to stderr, the config is loaded as a recheck (config-loader.ts). */
  readonly isRecheck?: boolean;
  /** Stops the config's loading (the cluster stops). */
  readonly signal?: AbortSignal;
  /** Says a warning of the config's loading (config-loader.ts); by default on stderr. */
  readonly warn?: (text: string) => void;
}

export async function planRun(args: readonly string[], invocationDir: string, options: PlanOptions = {}): Promise<RunPlan> {
  const flags = parseRunFlags([...args], invocationDir);
  const envFiles = flags.envFiles ?? [];
  if (flags.isHelp) return { kind: 'help' };
  const [first] = flags.positionals;
  if (flags.layer.cwd !== undefined && !isDirectory(flags.layer.cwd)) throw new UsageError(`--cwd: ${notDirectoryText(flags.layer.cwd)}`, 'run');
  // A file named on the command line is a script, whatever config file lies around.
  if (first !== undefined && flags.configPath === undefined) {
    const script = findRunnableScript(first, flags.layer.cwd, invocationDir, flags.layer.nodeArgs);
    if (script !== undefined) {
      if (flags.environment !== undefined) throw environmentWithoutConfig(flags.environment);
      const origin: RunOrigin = { args: [...args], invocationDir, configFile: undefined, envFiles };
      return { kind: 'one', settings: { ...finish(mergeRunLayers(undefined, { ...flags.layer, script }, invocationDir)), workersSource: flagWorkersSource(flags.layer), origin } };
    }
  }
  const configFile = flags.configPath === undefined ? findConfigFile(invocationDir) : checkConfigPath(flags.configPath, relative(invocationDir, flags.configPath));
  if (configFile === undefined) {
    if (first === undefined) throw missingScript(invocationDir, flags.layer.scriptArgs);
    // Something is there but is not a file (a directory, a device): say what it is.
    const present = scriptCandidates(first, flags.layer.cwd, invocationDir).find((path) => statOf(path) !== undefined);
    // An app is named alone: with arguments (`run npx next start`), it is a command's hint that helps.
    const appHint = (flags.layer.scriptArgs ?? []).length === 0 ? ecosystemAppNotNamed(first, invocationDir) : undefined;
    if (present === undefined) throw appHint ?? scriptNotFound(first, flags.layer.cwd, invocationDir, flags.layer.scriptArgs);
    throw scriptError(present);
  }
  if (flags.configArg && options.isRecheck !== true) writingAs('stdout', () => process.stderr.write(`clusterkit: ${configArgNotice(flags.configArg!.typed, flags.configArg!.ending)}\n`));
  const apps = await loadConfig(configFile, undefined, options);
  const { environment } = flags;
  if (environment !== undefined && !apps.some((app) => app.environments?.[environment] !== undefined)) throw environmentNotFound(environment, apps, configFile);
  // PM2's order (Common.mergeEnvironmentVariables): env, then env_<name> over it; --env KEY=VALUE over both.
  const settingsOf = (app: ConfigApp) => {
    const chosen = environment === undefined ? undefined : app.environments?.[environment];
    const watchKey = flags.layer.watch === undefined && app.layer.watch ? `${app.keysWritten?.watch ?? 'watch'} in ${basename(configFile)}` : undefined;
    const settings = finish(mergeRunLayers({ ...app.layer, name: app.name, isNameFromScript: app.isNameFromScript, env: { ...app.layer.env, ...chosen } }, flags.layer, invocationDir), watchKey);
    const watch = settings.watch && { ...settings.watch, ignoreKey: ignoreKeyOf(app, configFile) };
    const origin: RunOrigin = { args: [...args], invocationDir, configFile, envFiles: app.envFile === undefined ? envFiles : [...envFiles, app.envFile] };
    return { ...settings, watch, optionSources: optionSources(app, flags.layer, configFile), keyNames: keyNamesOf(app), workersSource: workersSource(app, flags.layer, configFile), ignoredPm2Keys: app.ignoredPm2Keys, noAutorestart: app.noAutorestart === true, instanceVar: app.instanceVar, nameNote: flags.layer.name === undefined ? app.nameNote : undefined, origin };
  };
  // An app started by the launcher says nothing on the terminal (the launcher said it for every
  // app), but its own lines are still the first of its log files, as for a single app (H334).
  const warn = (chosen: readonly ConfigApp[]) => {
    if (options.isRecheck === true) return;
    const isLaunched = takeLauncherLink() !== undefined;
    // A warning to the error file, a note (what a key means here) to the output file, as `logs --err` / `--out` sort them.
    const say = (output: OutputStream, text: string) => (isLaunched ? addEarlyFileOutput(output, text) : writingAs(output, () => process.stderr.write(text)));
    const lines = new Set(chosen.flatMap((app) => [...(app.warnings ?? []), ...(environment !== undefined && app.environments?.[environment] === undefined ? [environmentMissing(app, environment)] : [])]));
    for (const line of lines) say('stderr', `clusterkit: warning: ${escapeControlChars(configFile)}: ${escapeControlChars(line)}\n`);
    // A key that does nothing without another is most likely the other left off by mistake: a
    // list of paths to ignore with no watch (open item t58), a watch delay, a time format with
    // no time (retest t59).
    for (const app of chosen) {
      const notUsed = (key: string, why: string) => say('stderr', `clusterkit: warning: ${escapeControlChars(configFile)}: app "${escapeControlChars(app.name)}": "${key}" is not used: ${why}\n`);
      const watch = flags.layer.watch ?? app.layer.watch;
      const isWatched = watch !== undefined && watch !== false;
      const toWatch = 'the app is not watched. Set watch: true in the file, or pass --watch, to reload it on changes.';
      if (!isWatched && (app.layer.ignoreWatch ?? []).length > 0) notUsed(ignoreKeyOf(app, configFile).key, toWatch);
      if (!isWatched && app.layer.watchDelayMs !== undefined) notUsed(app.keysWritten?.watchDelay ?? 'watchDelay', toWatch);
      if (app.layer.timeFormat !== undefined && flags.layer.timeFormat === undefined) {
        const key = app.keysWritten?.timeFormat ?? 'timeFormat';
        if ((flags.layer.logFormat ?? app.layer.logFormat) === 'json') notUsed(key, 'JSON lines carry their time in their "time" field. Leave it out, or use logFormat: "line".');
        else if (!isTimed(flags.layer, app.layer)) notUsed(key, 'lines carry no time, as "time" is false. Leave it out, or set time: true.');
      }
    }
    // kill_timeout and instances are used, and these say how; the flag that replaces one silences it.
    const notes = chosen.flatMap((app) => [
      ...(flags.layer.shutdownTimeoutMs === undefined && app.killTimeoutNote !== undefined ? [app.killTimeoutNote] : []),
      ...(flags.layer.workers === undefined && flags.layer.isDev === undefined && app.instancesNote !== undefined ? [app.instancesNote] : []),
    ]);
    for (const { text, isWarning } of notes) say(isWarning ? 'stderr' : 'stdout', `clusterkit: ${isWarning ? 'warning: ' : ''}${escapeControlChars(configFile)}: ${escapeControlChars(text)}\n`);
  };
  if (first !== undefined) {
    const app = pickApp(apps, first, configFile, flags);
    warn([app]);
    return { kind: 'one', settings: settingsOf(app) };
  }
  warn(apps);
  if (apps.length === 1) return { kind: 'one', settings: settingsOf(apps[0]!) };
  if (flags.singleAppFlags.length > 0) {
    throw new UsageError(`${flags.singleAppFlags.join(' and ')} apply to one app, and ${configFile} has ${apps.length}; run one with "${appCommand('<app>', configFile, flags)}".`, 'run');
  }
  // The child runs the same command line for one app, with the same file even if a file of
  // the app's name lies in the directory; a config file named in place of a script becomes
  // its --config.
  const own = (args.includes('--') ? args.slice(0, args.indexOf('--')) : args).filter((_, index) => index !== flags.configArg?.index);
  return { kind: 'apps', configFile, apps: eachOrAllProblems(apps, settingsOf), childArgs: (app) => [app, ...own, `--config=${configFile}`] };
}

/**
 * The settings of every app, or one `UsageError` listing every app's problems of the merged
 * settings, each named by its app (H524: before, the first app's first one alone, one per run).
 */
function eachOrAllProblems(apps: readonly ConfigApp[], settingsOf: (app: ConfigApp) => RunSettings): RunSettings[] {
  const problems: string[] = [];
  const settings = apps.map((app) => {
    try {
      return settingsOf(app);
    } catch (error) {
      if (!(error instanceof UsageError)) throw error;
      const lines = error.details.length === 0 ? [error.headline] : error.details;
      problems.push(...lines.map((line) => `app "${app.name}": ${line}`));
      return undefined;
    }
  });
  throwProblems(problems);
  return settings as RunSettings[];
}

/** One problem as it is; several as `N problems:` with a line each, as a config file's (check-config.ts). */
function throwProblems(problems: readonly string[]): void {
  if (problems.length === 1) throw new UsageError(problems[0]!, 'run');
  if (problems.length > 1) throw new UsageError(`${problems.length} problems:`, 'run', problems);
}

/**
 * Said before a config file named in place of a script is read: PM2 users type
 * `pm2 start ecosystem.config.js`, and a script that happens to be named so is read as a
 * config too, so the line says why, and how to run such a script.
 */
export function configArgNotice(typed: string, ending: string): string {
  const shown = escapeControlChars(typed);
  return `reading ${shown} as a config file (a name ending in ${ending} is one, as in PM2), as "clusterkit run -c ${shown}" does; to run a script of that name, rename it.`;
}

function pickApp(apps: ConfigApp[], name: string, configFile: string, flags: RunFlags): ConfigApp {
  const app = apps.find((candidate) => candidate.name === name);
  if (app) return app;
  const hint = flags.layer.watch
    ? ` To watch a path while running the file's apps, write --watch=${name}.`
    : flags.configPath !== undefined && isFile(resolve(name))
      ? flags.configArg
        ? ` After a config file, name an app of it; to run the script, name it alone: clusterkit run ${name}.`
        : ' With --config, name an app of the file; to run a script, leave out --config.'
      : nearMiss(name, apps.map((candidate) => candidate.name), (near) => appCommand(near, configFile, flags));
  throw new UsageError(`"${name}" is neither a script nor an app of ${configFile} (apps: ${apps.map((candidate) => candidate.name).join(', ')}).${hint}`, 'run');
}

/**
 * The command that runs `app` of `configFile` as this one found it: only clusterkit.config.* is
 * found without being named (newcomer t25: `run ecosystem.config.js nc25ap` suggested
 * `clusterkit run nc25api`, which then looked for a script of that name).
 */
function appCommand(app: string, configFile: string, flags: RunFlags): string {
  if (flags.configArg) return `clusterkit run ${escapeControlChars(flags.configArg.typed)} ${app}`;
  if (flags.configPath !== undefined) return `clusterkit run ${app} --config ${escapeControlChars(configFile)}`;
  return `clusterkit run ${app}`;
}

/**
 * The checks that need the merged settings (a flag replaces the file's value: they run after the
 * file's own checks, config-loader.ts). Every problem is said in one run (H524: each missing
 * watched path was one run before). `watchKey`: the config file's key that set the
 * watched paths when no --watch replaced it (`watch in ecosystem.config.js`), for the message
 * of a missing one (H404: it named --watch, a flag never typed).
 */
function finish(settings: RunSettings, watchKey?: string): RunSettings {
  const problems: string[] = [];
  const say = (error: UsageError) => problems.push(error.message);
  if (!isFile(settings.script)) say(scriptError(settings.script));
  else {
    try {
      // A load that no retry can pass is refused once, with what to do (H411, H412).
      checkScriptModuleSyntax(settings.script, settings.nodeArgs, settings.env.NODE_OPTIONS ?? process.env.NODE_OPTIONS);
    } catch (error) {
      if (!(error instanceof UsageError)) throw error;
      say(error);
    }
  }
  if (!isDirectory(settings.cwd)) say(new UsageError(`--cwd: ${notDirectoryText(settings.cwd)}`, 'run'));
  for (const path of settings.watch?.paths ?? []) {
    if (!exists(path)) say(new UsageError(`${watchKey ?? '--watch'}: no such file or directory: ${path}`, 'run'));
  }
  const maxWorkers = settings.maxWorkers ?? defaultMaxWorkers();
  if (typeof settings.workers === 'number' && settings.workers > maxWorkers) {
    const which = settings.maxWorkers === undefined ? 'by default 4 × the CPUs, at least 64' : 'from --max-workers or "maxWorkers"';
    say(new UsageError(`${settings.workers} workers is more than the maximum, ${maxWorkers} (${which}); raise it with --max-workers (or "maxWorkers" in the config file) to run more.`, 'run'));
  }
  const name = settings.name.normalize('NFC');
  if (clusterNameProblem(name) !== undefined) say(new UsageError(describeBadName(settings.name, `--name ${JSON.stringify(settings.name)} is not a cluster name`), 'run'));
  throwProblems(problems);
  return { ...settings, name };
}

/** `run /dev/zero` is not "not found": the path exists, and is not a script. */
function scriptError(path: string): UsageError {
  const stats = statOf(path);
  if (stats === undefined) return new UsageError(`Script not found: ${path}`, 'run');
  return new UsageError(`The script ${path} is not a regular file (it is ${kindOf(stats)}); name the file your workers run.`, 'run');
}

function isFile(path: string): boolean {
  return statOf(path)?.isFile() ?? false;
}

function isDirectory(path: string): boolean {
  return statOf(path)?.isDirectory() ?? false;
}

function exists(path: string): boolean {
  return statOf(path) !== undefined;
}

function statOf(path: string) {
  try {
    return statSync(path);
  } catch {
    return undefined;
  }
}

/** `--env production` with a script: there is no ecosystem file to pick `env_production` from. */
function environmentWithoutConfig(name: string): UsageError {
  return new UsageError(
    `--env ${name} picks "env_${name}" of a config file's apps, as PM2's --env does, and a script was named, so no config file is read; give the variables instead: --env NODE_ENV=${name}, or --env-file .env.${name} (--env also takes KEY=VALUE).`,
    'run',
  );
}

/** No app has `env_<name>`: a typo, or a variable missing its `=value`. */
function environmentNotFound(name: string, apps: readonly ConfigApp[], configFile: string): UsageError {
  const known = [...new Set(apps.flatMap((app) => Object.keys(app.environments ?? {})))];
  const has = known.length === 0 ? 'none of its apps has an "env_<name>" object' : `its apps have ${known.map((known) => `"env_${known}"`).join(', ')}`;
  return new UsageError(
    `--env ${name}: no app of ${configFile} has "env_${name}" (${has}).${nearMiss(name, known, (near) => `--env ${near}`, true)} --env <name> picks an app's "env_<name>", as PM2's --env does; to set a variable, write --env ${name}=<value>.`,
    'run',
  );
}

/**
 * ` Did you mean clusterkit run api?` for a name near a known one (H198; one edit up to 5 characters, two from 6: suggest.ts closestName); with
 * `byPrefix`, also for the one known name the typed one begins (`--env prod`: production); else nothing.
 */
function nearMiss(typed: string, known: readonly string[], spelled: (near: string) => string, byPrefix = false): string {
  const starting = byPrefix && typed.length > 0 ? known.filter((name) => name.startsWith(typed)) : [];
  const near = closestName(typed, known) ?? (starting.length === 1 ? starting[0] : undefined);
  return near === undefined ? '' : ` Did you mean ${spelled(near)}?`;
}

/** PM2 warns the same way ("Environment [production] is not defined in process file") and runs the app with its env. */
function environmentMissing(app: ConfigApp, name: string): string {
  return `app "${app.name}" has no "env_${name}": it runs with its "env" alone (--env ${name} picks the "env_${name}" of the apps that have one).`;
}

/** PM2's config file names, looked for when nothing says what to run. */
const kEcosystemFiles = ['ecosystem.config.js', 'ecosystem.config.cjs', 'ecosystem.config.mjs', 'ecosystem.json', 'process.json'];

/** No script and no clusterkit config: a PM2 ecosystem file lying here is what was meant. */
function missingScript(invocationDir: string, scriptArgs: readonly string[] = []): UsageError {
  // `run --name api -- server.js`: the script came after "--", which passes what follows to the
  // script as its arguments (hostile tester t55: the error did not say why it was not taken).
  const [afterDash] = scriptArgs;
  if (afterDash !== undefined) {
    return new UsageError(
      `Missing the script to run: ${JSON.stringify(escapeControlChars(afterDash))} came after "--", which passes what follows to the script as its arguments. Name the script before "--" (clusterkit run ${escapeControlChars(afterDash)} [options] -- [its arguments]).`,
      'run',
    );
  }
  const ecosystem = kEcosystemFiles.find((name) => existsSync(join(invocationDir, name)));
  if (ecosystem !== undefined) {
    return new UsageError(`Missing the script to run. ${ecosystem} is here: run its apps with clusterkit run ${ecosystem} (as pm2 start does: its PM2 keys are translated, and each one clusterkit does without is named in a warning), or name a script (clusterkit run server.js).`, 'run');
  }
  return new UsageError(`Missing the script to run. Name one (clusterkit run server.js), or put a clusterkit.config.ts in ${invocationDir}.`, 'run');
}

/**
 * `run api` in a PM2 project: an app's name (no path, no script's ending) where no
 * clusterkit.config.* is and a PM2 ecosystem file is. Only clusterkit.config.* is read without
 * being named, so the app is run by naming the file (pm2 tester t53: "Script not found" named
 * neither the file nor the command). Undefined when that is not the case.
 */
function ecosystemAppNotNamed(name: string, invocationDir: string): UsageError | undefined {
  if (/[\\/]/.test(name) || /\.(?:[cm]?[jt]sx?|json)$/i.test(name)) return undefined;
  const ecosystem = kEcosystemFiles.find((file) => existsSync(join(invocationDir, file)));
  if (ecosystem === undefined) return undefined;
  const shown = escapeControlChars(name);
  return new UsageError(
    `"${shown}" is not a script here, and no clusterkit.config.* is here to have an app of that name. ${ecosystem} is here: if "${shown}" is an app of it, type clusterkit run ${ecosystem} ${shown} (clusterkit run ${ecosystem} runs all its apps; a PM2 file is read when it is named, only clusterkit.config.* is found without being named).`,
    'run',
  );
}

/** The key that lists the app's ignored paths: as the file wrote it, else in the file's style (H212). */
function ignoreKeyOf(app: ConfigApp, configFile: string): IgnoreKey {
  const written = app.keysWritten?.ignoreWatch;
  return { key: written ?? (app.isPm2 ? 'ignore_watch' : 'ignoreWatch'), file: basename(configFile), isWritten: written !== undefined };
}

/**
 * What set the app's worker count: a flag, or the file when no flag replaced it. The start's
 * line says `starting 1 worker: instances: -1 in ecosystem.config.js, every CPU but 1` (H203),
 * `starting 3 workers: --workers 3 on the command line` (H226), not "the configured count".
 */
function workersSource(app: ConfigApp, flags: RunLayer, configFile: string): string | undefined {
  const written = app.workersWritten;
  if (written === undefined || flags.workers !== undefined || flags.isDev !== undefined) return flagWorkersSource(flags);
  return `${written.setting} in ${basename(configFile)}${written.meaning === undefined ? '' : `, ${written.meaning}`}`;
}

/** `--workers 3 on the command line` (however it was typed: -w 3, --workers=3); undefined without the flag. */
function flagWorkersSource(flags: RunLayer): string | undefined {
  return flags.workers === undefined ? undefined : `--workers ${flags.workers} on the command line`;
}

/** Each config key the file spells otherwise (H391): as written, else in PM2's words for a PM2 file. */
function keyNamesOf(app: ConfigApp): Record<string, string> {
  const written = app.keysWritten ?? {};
  const entries = kAppKeys.flatMap((key) => {
    const name = Object.hasOwn(written, key) ? written[key]! : app.isPm2 === true ? (pm2KeyOf(key) ?? key) : key;
    return name === key ? [] : [[key, name] as const];
  });
  return Object.fromEntries(entries);
}

/**
 * The API options whose value came from the config file, not a flag, each named by the key the
 * file wrote: the primary's lines then say `(--ready-timeout; listen_timeout in wr.config.js)`,
 * not only a flag the user never typed (tester t20).
 */
function optionSources(app: ConfigApp, flags: RunLayer, configFile: string): OptionSources {
  const written = app.keysWritten ?? {};
  const entries = Object.entries(kConfigKeyOfOption).flatMap(([option, { key, field }]) =>
    Object.hasOwn(written, key) && flags[field as keyof RunLayer] === undefined ? [[option, `${written[key]} in ${basename(configFile)}`] as const] : [],
  );
  return Object.fromEntries(entries);
}
