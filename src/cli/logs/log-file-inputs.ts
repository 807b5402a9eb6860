/**
 * A log file must not be a file the run reads (hostile t66, H659): `clusterkit run s.js -o s.js`
 * appended the primary's lines to the script, and every worker then failed on a syntax error
 * the run itself had written; `-o .env --env-file .env` corrupted the env file, and the next
 * start failed too. Refused before anything is written, as a log file that cannot be opened is
 * (H314): the same file by any name (a symlink, a hard link: device and inode, as H323 tells
 * log files apart).
 */
import { statSync, type Stats } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { LogFileError } from '../../errors.js';
import { splitNodeOptions } from '../../primary/pool/loader-hint.js';
import type { RunSettings } from '../run-settings.js';
import { logFileTargets } from './log-files.js';

/** The files a run reads, each with what it is to the run: its script, the package.json Node reads for it, its config file, its env files, the modules Node preloads. */
export function runInputs(settings: Pick<RunSettings, 'script' | 'cwd' | 'nodeArgs' | 'origin' | 'env'>): Array<{ path: string; what: string }> {
  const script = resolve(settings.cwd, settings.script);
  const inputs = [{ path: script, what: 'the script the workers run' }];
  // Node reads the nearest package.json of the script at each start, for its "type" (retest t67: `-o package.json` broke every worker).
  const manifest = nearestPackageJson(dirname(script));
  if (manifest !== undefined) inputs.push({ path: manifest, what: "the package.json Node reads for the script's module type" });
  if (settings.origin?.configFile !== undefined) inputs.push({ path: settings.origin.configFile, what: 'the config file the settings were read from' });
  for (const file of settings.origin?.envFiles ?? []) inputs.push({ path: file, what: 'an env file the run loads' });
  // Node's own, read by each worker's Node: `--env-file=x`, `--require x`, `--import=x` (`-r x`),
  // from the workers' Node options and from NODE_OPTIONS (retest t67: `--require` there was missed).
  inputs.push(...nodeOptionFiles(settings.nodeArgs, '--node-arg or nodeArgs'));
  const nodeOptions = 'NODE_OPTIONS' in settings.env ? settings.env.NODE_OPTIONS : process.env.NODE_OPTIONS;
  inputs.push(...nodeOptionFiles(splitNodeOptions(nodeOptions), 'NODE_OPTIONS'));
  return inputs.map((input) => ({ ...input, path: resolve(settings.cwd, input.path) }));
}

/** The files Node options name: `--env-file`'s, and the preloaded modules given as paths. */
function nodeOptionFiles(args: readonly string[], where: string): Array<{ path: string; what: string }> {
  const files: Array<{ path: string; what: string }> = [];
  for (let i = 0; i < args.length; i++) {
    const match = /^(--env-file|--require|-r|--import|--loader|--experimental-loader)(?:=(.*))?$/.exec(args[i]!);
    if (match === null) continue;
    const value = match[2] ?? args[++i];
    if (value === undefined || value === '') continue;
    // A package name (`--import tsx`) is no file here; a path is (./x, /x, x.js).
    if (match[1] !== '--env-file' && !/^\.{0,2}\/|\.[cm]?[jt]s$/.test(value)) continue;
    files.push({ path: value, what: match[1] === '--env-file' ? `an env file Node loads (--env-file in ${where})` : `a module Node preloads (${match[1]} in ${where})` });
  }
  return files;
}

/** The package.json nearest `directory`, up to the root; undefined for none. */
function nearestPackageJson(directory: string): string | undefined {
  for (let at = directory; ; at = dirname(at)) {
    const candidate = join(at, 'package.json');
    if (statOf(candidate) !== undefined) return candidate;
    if (dirname(at) === at) return undefined;
  }
}

/**
 * @throws LogFileError when a log file (`--output`, `--error`, `--log`, or their config keys) is
 * one of the files the run reads (`runInputs`), or, with `others`, one another app of the same
 * config file reads (retest t67: one app's outFile was another's script): exit 2, before any line
 * is written.
 */
export function checkLogFilesAreNotInputs(settings: Pick<RunSettings, 'script' | 'cwd' | 'nodeArgs' | 'origin' | 'env' | 'logFiles'>, others: ReadonlyArray<Pick<RunSettings, 'name' | 'script' | 'cwd' | 'nodeArgs' | 'origin' | 'env'>> = []): void {
  const inputs = [
    ...runInputs(settings),
    ...others.flatMap((other) => runInputs(other).map((input) => ({ ...input, what: `${input.what}, in app ${JSON.stringify(other.name)}` }))),
  ]
    .map((input) => ({ ...input, stats: statOf(input.path) }))
    .filter((input): input is { path: string; what: string; stats: Stats } => input.stats !== undefined);
  if (inputs.length === 0) return;
  for (const [path, streams] of logFileTargets(settings.logFiles)) {
    const logPath = resolve(settings.cwd, path);
    const stats = statOf(logPath);
    if (stats === undefined) continue;
    const input = inputs.find((candidate) => candidate.stats.dev === stats.dev && candidate.stats.ino === stats.ino);
    if (input === undefined) continue;
    const example = streams.size === 2 ? 'app.log' : streams.has('stdout') ? 'app.out.log' : 'app.err.log';
    throw new LogFileError(
      path,
      `Cannot use ${path} as a log file: it is ${input.path === logPath ? '' : `${input.path}, `}${input.what}, and each line of the run's output appended to it would change it. ` +
        `Give the log another path (such as ${example}).`,
      { cause: new Error(`${path} and ${input.path} are one file (device ${stats.dev}, inode ${stats.ino})`) },
    );
  }
}

function statOf(path: string): Stats | undefined {
  try {
    const stats = statSync(path, { throwIfNoEntry: false });
    return stats?.isFile() ? stats : undefined;
  } catch {
    return undefined;
  }
}
