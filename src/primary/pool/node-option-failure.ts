/**
 * A worker that Node itself refused to start (H253): an option it does not know
 * (`--no-such-flag`), one missing its value, or one not allowed in NODE_OPTIONS. Node prints
 * `bad option: ...` and exits with code 9 before any JavaScript runs. Before, that was worded as
 * the script ending while loading and retried 3 times before the crash-loop breaker, though
 * every fork fails the same way: now one failed start, whose error names the options and where
 * they are set.
 *
 * "Before any JavaScript": node:cluster's bootstrap in the worker sends `online` before any
 * preload or script runs, so a worker that exited with code 9 without it (and without a byte on
 * its channel) never got that far; a script's own `process.exit(9)` comes after it. The
 * options are not refused up front: `process.allowedNodeEnvironmentFlags` lists the options
 * NODE_OPTIONS takes, and a valid one may be missing there (`--stack-size`, most V8 options),
 * so it only points at the likely culprit in the message.
 */
import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import { capitalize } from '../../capitalize.js';
import { describeExit, WorkerStartupError } from '../../errors.js';
import { splitNodeOptions } from './loader-hint.js';
import type { WorkerRecord } from './worker-record.js';

/** Node's exit code for an invalid argument (doc/api/process.md, "Exit codes"). */
const kInvalidArgumentExitCode = 9;

/** Where a worker's Node options come from, for the advice. */
const kWhereSet = 'clusterkit run: --node-arg; a config file: nodeArgs, or PM2\'s node_args; the library: the execArgv option';

/** The NODE_OPTIONS the workers get: their `env` option's, else the primary's own (a worker inherits it). */
export function workerNodeOptions(env: Readonly<Record<string, string | undefined>>): string | undefined {
  return 'NODE_OPTIONS' in env ? env.NODE_OPTIONS : process.env.NODE_OPTIONS;
}

/** Whether `error` is a failed start of Node refusing the options: no restart helps. */
export function isNodeOptionFailure(error: unknown): error is WorkerStartupError {
  return error instanceof WorkerStartupError && error.reason === 'bad-node-option';
}

/** The failed start, when `record` (exited, never ready) is a worker Node refused to start; undefined otherwise. */
export function nodeOptionFailure(record: WorkerRecord, execArgv: readonly string[], nodeOptions: string | undefined): WorkerStartupError | undefined {
  if (record.exitCode !== kInvalidArgumentExitCode || record.signal !== null) return undefined;
  if (record.isOnline || record.hasSaidHello || record.ipcBytesRead > 0) return undefined;
  const fromExecArgv = optionNames(execArgv);
  const fromEnv = optionNames(splitNodeOptions(nodeOptions));
  // Known to Node, but not in NODE_OPTIONS' list (hostile t66: `--env-file` was named as unknown).
  const likely = [...fromExecArgv, ...fromEnv].filter((name) => !process.allowedNodeEnvironmentFlags.has(name) && !kKnownOutsideNodeOptions.has(name));
  // An --env-file whose file is missing: Node says "<file>: not found" and exits 9 too (H661).
  const missing = missingEnvFiles(execArgv);
  // Names only: a value may be a secret (`--title=...`), and Node's own line on the worker's stderr says which one it refused.
  const given = [
    fromExecArgv.length > 0 ? `execArgv ${fromExecArgv.join(' ')}` : 'no execArgv',
    ...(fromEnv.length > 0 ? [`NODE_OPTIONS ${fromEnv.join(' ')}`] : []),
  ].join(', ');
  const culprit =
    missing.length > 0
      ? `; ${missing.length === 1 ? `the file ${missing[0]} that --env-file names does not exist (or is no file)` : `the files ${missing.join(', ')} that --env-file names do not exist (or are no files)`}`
      : likely.length > 0
        ? `; likely ${unique(likely).join(', ')}, not an option this Node lists`
        : '';
  const nodeOptionsToo = fromEnv.length > 0 ? ', or NODE_OPTIONS' : '';
  return new WorkerStartupError(
    record.id,
    'bad-node-option',
    `${capitalize(record.describe())} ${describeExit(record.exitCode, record.signal, record.pid)} before it ran any JavaScript: Node refused its options (${given}${culprit}), ` +
      'and would refuse them in every worker, so it is not restarted. Node exits so on an option it does not know or one missing its value (its output says "bad option"), and on an --env-file whose file does not exist ("not found") or is a directory ("invalid format"). ' +
      `Fix or remove that option where the workers' Node options are set (${kWhereSet}${nodeOptionsToo}), then start again.`,
  );
}

/**
 * Options Node takes on its command line that `process.allowedNodeEnvironmentFlags` (NODE_OPTIONS'
 * list) leaves out: not unknown to Node. The ones that stop the script are refused up front
 * (script-stopping-node-arg.ts); these run it.
 */
const kKnownOutsideNodeOptions: ReadonlySet<string> = new Set(['--env-file', '--env-file-if-exists', '--snapshot-blob', '--experimental-sea-config', '--test-only', '--watch-preserve-output']);

/** The files `--env-file=<file>` / `--env-file <file>` name that do not exist, or are no file (from the primary's working directory, which the workers share). */
function missingEnvFiles(execArgv: readonly string[]): string[] {
  const files: string[] = [];
  for (let i = 0; i < execArgv.length; i++) {
    const match = /^--env-file(?:=(.*))?$/s.exec(execArgv[i]!);
    if (match === null) continue;
    const file = match[1] ?? execArgv[++i];
    // Missing, or no file (a directory: Node says "invalid format", retest t67).
    if (file !== undefined && file !== '' && statSync(resolve(file), { throwIfNoEntry: false })?.isFile() !== true) files.push(file);
  }
  return unique(files);
}

/** The options' names, without their values: `--title=x` is `--title`; a value given as the next word is left out. */
export function optionNames(options: readonly string[]): string[] {
  return options.filter((option) => option.startsWith('-') && option !== '-' && option !== '--').map((option) => option.replace(/=.*$/s, ''));
}

function unique(names: readonly string[]): string[] {
  return [...new Set(names)];
}
