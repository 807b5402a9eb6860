/**
 * `clusterkit run <script>`: the script runs in every worker through the bootstrap in
 * `worker-main`, which subclasses ClusterWorker, imports the script in `_init` and registers
 * its servers for draining. Supervision, signals and reload come from ClusterPrimary.
 */
import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import { InvalidOptionError } from '../../errors.js';
import { createJsonLogger, createLineLogger, type Logger } from '../../logger.js';
import { workerCountOption } from '../../primary/primary-options.js';
import { checkClusterName } from '../../control/runtime-dir.js';
import { moduleBaseName } from '../../runner/service-options.js';
import { startServicePrimary } from '../../runner/service-primary.js';
import { exitAfterStartFailure } from '../../runner/start-failure.js';
import { parseDuration, parseSizeMb, parseWorkers } from '../arg-values.js';
import { pipeWorkerOutput, type LogFormat } from '../output-prefix.js';
import { parseCommand } from '../parse-command.js';
import { UsageError } from '../usage-error.js';

const kOptions = {
  workers: { type: 'string', short: 'w' },
  dev: { type: 'boolean' },
  name: { type: 'string', short: 'n' },
  'shutdown-timeout': { type: 'string' },
  'ready-timeout': { type: 'string' },
  'max-memory': { type: 'string' },
  'node-arg': { type: 'string', multiple: true },
  'log-format': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

export interface RunSettings {
  script: string;
  scriptArgs: string[];
  name: string;
  workers: number | 'auto';
  isDev: boolean;
  shutdownTimeoutMs: number | undefined;
  readyTimeoutMs: number | undefined;
  maxMemoryMb: number | undefined;
  nodeArgs: string[];
  logFormat: LogFormat;
}

/** Parses and checks everything, including that the script exists, before anything starts. */
export function parseRunArgs(args: string[]): RunSettings | 'help' {
  const { values, positionals, rest } = parseCommand('run', args, kOptions);
  if (values.help) return 'help';
  if (positionals.length === 0) throw new UsageError('Missing the script to run.', 'run');
  if (positionals.length > 1) throw new UsageError(`Unexpected argument "${positionals[1]}". Pass arguments for the script after "--".`, 'run');
  const script = resolve(positionals[0]!);
  if (!isFile(script)) throw new UsageError(`Script not found: ${script}`, 'run');
  if (values.dev && values.workers !== undefined) throw new UsageError('--dev runs a single worker; leave out --workers, or leave out --dev.', 'run');
  const logFormat = values['log-format'] ?? 'line';
  if (logFormat !== 'line' && logFormat !== 'json') throw new UsageError(`--log-format must be "line" or "json". Received "${logFormat}".`, 'run');
  return {
    script,
    scriptArgs: rest,
    name: clusterName(values.name ?? moduleBaseName(script)),
    workers: values.workers === undefined ? 'auto' : parseWorkers(values.workers, '--workers', 'run'),
    isDev: values.dev ?? false,
    shutdownTimeoutMs: optional(values['shutdown-timeout'], (value) => parseDuration(value, '--shutdown-timeout', 'run')),
    readyTimeoutMs: optional(values['ready-timeout'], (value) => parseDuration(value, '--ready-timeout', 'run')),
    maxMemoryMb: optional(values['max-memory'], (value) => parseSizeMb(value, '--max-memory', 'run')),
    nodeArgs: values['node-arg'] ?? [],
    logFormat,
  };
}

/**
 * Runs the cluster; the process ends with it (signals, `clusterkit stop`, a failed start).
 * `workerMain` is the bootstrap script the workers run.
 */
export async function runCommand(settings: RunSettings, workerMain: string): Promise<number> {
  // A closed terminal or pipe (`clusterkit run app.js | head`) must not bring the cluster down.
  for (const stream of [process.stdout, process.stderr]) stream.on('error', () => {});
  const logger = createLogger(settings);
  const workerCount = settings.isDev ? 1 : workerCountOption(settings.workers, 'workers');
  const service = await startServicePrimary({
    name: settings.name,
    controlName: settings.name,
    module: { path: settings.script, noun: 'script' },
    workerCount,
    devFrom: undefined,
    ownsProcess: true,
    logger,
    primaryOptions: {
      workerScript: workerMain,
      workerArgs: [settings.script, ...settings.scriptArgs],
      execArgv: [...process.execArgv, ...settings.nodeArgs],
      silent: true,
      ...(settings.shutdownTimeoutMs === undefined ? {} : { shutdownTimeoutMs: settings.shutdownTimeoutMs }),
      ...(settings.readyTimeoutMs === undefined ? {} : { readyTimeoutMs: settings.readyTimeoutMs }),
      ...(settings.maxMemoryMb === undefined ? {} : { maxMemoryMb: settings.maxMemoryMb }),
    },
    callbacks: {},
    onWorkerFork: (worker) => {
      const { stdout, stderr } = worker.clusterWorker.process;
      pipeWorkerOutput({ id: worker.id, stdout, stderr }, settings.name, settings.logFormat);
    },
  }).catch((error: unknown) => exitAfterStartFailure(error, logger));
  logger.info({ primary: process.pid }, `control it from another terminal: clusterkit status|reload|stop ${settings.name}, clusterkit scale ${settings.name} <n>`);
  // Every way the cluster ends exits the process (signal handlers, `clusterkit stop`, losing
  // every worker); until then, this command runs.
  return new Promise((resolveExit) => service.primary.once('shutdownComplete', ({ killed }) => resolveExit(killed.length > 0 ? 1 : 0)));
}

function createLogger(settings: RunSettings): Logger {
  return settings.logFormat === 'json' ? createJsonLogger({ name: settings.name }) : createLineLogger({ name: settings.name });
}

function clusterName(name: string): string {
  try {
    return checkClusterName(name, '--name');
  } catch (error) {
    if (!(error instanceof InvalidOptionError)) throw error;
    throw new UsageError(
      `--name must be letters, digits, ".", "_" or "-", starting with a letter or digit (at most 64). Received "${name}".`,
      'run',
    );
  }
}

function optional<T>(value: string | undefined, parse: (value: string) => T): T | undefined {
  return value === undefined ? undefined : parse(value);
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}
