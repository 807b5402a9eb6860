/**
 * What `clusterkit run <args>` is asked to do:
 *
 * - `run server.js`: a script named on the command line (no config file is read);
 * - `run api`: the app `api` of the config file;
 * - `run`: every app of the config file (one app runs in this process, several each in
 *   their own primary process, see `run-apps`).
 *
 * Everything is checked here, before anything starts: bad input is a usage error (exit 2).
 */
import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import { InvalidOptionError } from '../errors.js';
import { checkClusterName } from '../control/runtime-dir.js';
import { defaultMaxWorkers } from '../primary/pool/cpu-limit.js';
import { checkConfig, type ConfigApp } from './config/check-config.js';
import { checkConfigPath, findConfigFile, loadConfigFile } from './config/config-file.js';
import { parseRunFlags, type RunFlags } from './run-flags.js';
import { mergeRunLayers, type RunSettings } from './run-settings.js';
import { UsageError } from './usage-error.js';

export type RunPlan =
  | { readonly kind: 'help' }
  | { readonly kind: 'one'; readonly settings: RunSettings }
  /** `childArgs(app)` is the command line (after `run`) that runs one of the apps. */
  | { readonly kind: 'apps'; readonly configFile: string; readonly apps: RunSettings[]; readonly childArgs: (app: string) => string[] };

export async function planRun(args: string[], invocationDir: string): Promise<RunPlan> {
  const flags = parseRunFlags(args, invocationDir);
  if (flags.isHelp) return { kind: 'help' };
  const [first] = flags.positionals;
  // A file named on the command line is a script, whatever config file lies around.
  if (first !== undefined && flags.configPath === undefined) {
    const script = resolve(invocationDir, first);
    if (isFile(script)) return { kind: 'one', settings: finish(mergeRunLayers(undefined, { ...flags.layer, script }, invocationDir)) };
  }
  const configFile = flags.configPath === undefined ? findConfigFile(invocationDir) : checkConfigPath(flags.configPath);
  if (configFile === undefined) {
    if (first === undefined) throw new UsageError(`Missing the script to run. Name one (clusterkit run server.js), or put a clusterkit.config.ts in ${invocationDir}.`, 'run');
    throw new UsageError(`Script not found: ${resolve(invocationDir, first)}`, 'run');
  }
  const apps = checkConfig(await loadConfigFile(configFile), configFile);
  const settingsOf = (app: ConfigApp) => finish(mergeRunLayers({ ...app.layer, name: app.name }, flags.layer, invocationDir));
  if (first !== undefined) return { kind: 'one', settings: settingsOf(pickApp(apps, first, configFile, flags)) };
  if (apps.length === 1) return { kind: 'one', settings: settingsOf(apps[0]!) };
  if (flags.singleAppFlags.length > 0) {
    throw new UsageError(`${flags.singleAppFlags.join(' and ')} apply to one app, and ${configFile} has ${apps.length}; run one with "clusterkit run <app>".`, 'run');
  }
  // The child runs the same command line for one app, with the same file even if a file of
  // the app's name lies in the directory.
  const own = args.includes('--') ? args.slice(0, args.indexOf('--')) : args;
  return { kind: 'apps', configFile, apps: apps.map(settingsOf), childArgs: (app) => [app, ...own, `--config=${configFile}`] };
}

function pickApp(apps: ConfigApp[], name: string, configFile: string, flags: RunFlags): ConfigApp {
  const app = apps.find((candidate) => candidate.name === name);
  if (app) return app;
  const hint = flags.layer.watch
    ? ` To watch a path while running the file's apps, write --watch=${name}.`
    : flags.configPath !== undefined && isFile(resolve(name))
      ? ' With --config, name an app of the file; to run a script, leave out --config.'
      : '';
  throw new UsageError(`"${name}" is neither a script nor an app of ${configFile} (apps: ${apps.map((candidate) => candidate.name).join(', ')}).${hint}`, 'run');
}

/** The checks that need the merged settings. */
function finish(settings: RunSettings): RunSettings {
  if (!isFile(settings.script)) throw new UsageError(`Script not found: ${settings.script}`, 'run');
  if (!isDirectory(settings.cwd)) throw new UsageError(`--cwd: no such directory: ${settings.cwd}`, 'run');
  for (const path of settings.watch?.paths ?? []) {
    if (!exists(path)) throw new UsageError(`--watch: no such file or directory: ${path}`, 'run');
  }
  const maxWorkers = settings.maxWorkers ?? defaultMaxWorkers();
  if (typeof settings.workers === 'number' && settings.workers > maxWorkers) {
    const which = settings.maxWorkers === undefined ? 'by default 4 × the CPUs, at least 64' : 'from --max-workers or "maxWorkers"';
    throw new UsageError(`${settings.workers} workers is more than the maximum, ${maxWorkers} (${which}); raise it with --max-workers (or "maxWorkers" in the config file) to run more.`, 'run');
  }
  try {
    checkClusterName(settings.name, '--name');
  } catch (error) {
    if (!(error instanceof InvalidOptionError)) throw error;
    throw new UsageError(`--name must be letters, digits, ".", "_" or "-", starting with a letter or digit (at most 64). Received "${settings.name}".`, 'run');
  }
  return settings;
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
