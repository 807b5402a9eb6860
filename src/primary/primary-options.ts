/**
 * `ClusterPrimary` options: what users pass, and the normalized, frozen form the primary uses.
 */
import { fileURLToPath } from 'node:url';
import type { ClusterSettings } from 'node:cluster';
import { InvalidOptionError } from '../errors.js';
import { checkClusterName } from '../control/runtime-dir.js';
import { autoWorkerCount } from './cpu-limit.js';
import type { Logger } from '../logger.js';
import type { Serialization } from '../types.js';
import {
  booleanOption,
  enumOption,
  envOption,
  integerOption,
  optionsObject,
  rejectUnknownKeys,
  stringArrayOption,
  stringOption,
} from '../validate.js';
import { normalizeHeartbeatOptions, type HeartbeatOptions, type NormalizedHeartbeatOptions } from './heartbeat-options.js';
import { normalizeRestartOptions, type NormalizedRestartOptions, type RestartOptions } from './restart-options.js';

/** A stdio array as `node:cluster` accepts it, for example `['inherit', 'pipe', 'pipe', 'ipc']`. */
export type WorkerStdio = NonNullable<ClusterSettings['stdio']>;

export const kDefaultMessageTimeoutMs = 30_000;
export const kDefaultReadyTimeoutMs = 30_000;
export const kDefaultShutdownTimeoutMs = 10_000;
export const kDefaultMaxMessageBytes = 16 * 1024 * 1024;
export const kDefaultMaxPendingPerWorker = 10_000;

export interface PrimaryOptions {
  /**
   * The script each worker runs: a path or a `file:` URL.
   * @default the current script (`process.argv[1]`), so one file can hold both sides
   * @example new URL('./worker.js', import.meta.url)
   */
  workerScript?: string | URL;
  /** Arguments passed to each worker script (its `process.argv.slice(2)`). @default [] */
  workerArgs?: string[];
  /**
   * Node options for the workers, such as `['--import', 'tsx']`.
   * @default the primary's own `process.execArgv`
   */
  execArgv?: string[];
  /** Environment added to the inherited `process.env`; `undefined` removes a variable. @default {} */
  env?: Record<string, string | undefined>;
  /**
   * How many workers `start()` forks. `'auto'`: the CPUs this process may use, a container's CPU
   * quota included (`os.availableParallelism()`, capped by the cgroup quota). @default 'auto'
   */
  workerCount?: number | 'auto';
  /** IPC serialization; see docs/messaging.md for when to use which. @default 'json' */
  serialization?: Serialization;
  /** Pipe worker stdout/stderr to the primary (`worker.process.stdout`) instead of inheriting. @default false */
  silent?: boolean;
  /** Explicit stdio array for workers; must include an `'ipc'` entry. Overrides `silent`. */
  stdio?: WorkerStdio;
  /** Working directory of the workers. @default the primary's */
  cwd?: string;
  /** Default reply timeout of `send` and `broadcast`. @default 30000 */
  messageTimeoutMs?: number;
  /** Time a worker has from fork to ready before it counts as a failed start and is killed. @default 30000 */
  readyTimeoutMs?: number;
  /** Time each worker has to stop gracefully before it is killed with SIGKILL. @default 10000 */
  shutdownTimeoutMs?: number;
  /** Largest payload accepted by `send`/`notify`, estimated before serializing. @default 16 MiB */
  maxMessageBytes?: number;
  /** Requests that may await replies from one worker at once. @default 10000 */
  maxPendingPerWorker?: number;
  /** Beyond `maxPendingPerWorker`: `'wait'` queues the send, `'reject'` fails it with `BackpressureError`. @default 'wait' */
  backpressure?: 'wait' | 'reject';
  /** Restart policy for workers that die unexpectedly, or `false` to never restart. */
  restart?: RestartOptions | false;
  /** Hang detection by ping, or `false` to disable it. */
  heartbeat?: HeartbeatOptions | false;
  /** Replace a worker gracefully when its RSS stays above this many MiB. @default no limit */
  maxMemoryMb?: number;
  /** SIGTERM/SIGINT run `shutdown()` then exit; SIGHUP runs `reload()`. @default true */
  handleSignals?: boolean;
  /** Where lifecycle lines go (pino-compatible). @default one line per event on stderr; `false` for silence */
  logger?: Logger | false;
  /**
   * Serve `clusterkit status|reload|stop|scale|dashboard <serviceName>` for this primary, on a
   * Unix socket only this user can open: `start()` opens it before forking (and rejects with
   * `ClusterNameInUseError` if a live primary has the name); shutdown removes it. Letters,
   * digits, `.`, `_`, `-`. (`startClusteredService` and `clusterkit run` serve it themselves.)
   * @default no control socket
   */
  serviceName?: string;
}

export interface NormalizedPrimaryOptions {
  readonly workerScript: string;
  readonly workerArgs: readonly string[];
  readonly execArgv: readonly string[];
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly workerCount: number;
  readonly serialization: Serialization;
  readonly silent: boolean;
  readonly stdio: WorkerStdio | undefined;
  readonly cwd: string | undefined;
  readonly messageTimeoutMs: number;
  readonly readyTimeoutMs: number;
  readonly shutdownTimeoutMs: number;
  readonly maxMessageBytes: number;
  readonly maxPendingPerWorker: number;
  readonly backpressure: 'wait' | 'reject';
  readonly restart: NormalizedRestartOptions | false;
  readonly heartbeat: NormalizedHeartbeatOptions | false;
  readonly maxMemoryMb: number | undefined;
  readonly handleSignals: boolean;
  readonly logger: Logger | false | undefined;
  readonly serviceName: string | undefined;
}

const kKnownKeys = [
  'workerScript',
  'workerArgs',
  'execArgv',
  'env',
  'workerCount',
  'serialization',
  'silent',
  'stdio',
  'cwd',
  'messageTimeoutMs',
  'readyTimeoutMs',
  'shutdownTimeoutMs',
  'maxMessageBytes',
  'maxPendingPerWorker',
  'backpressure',
  'restart',
  'heartbeat',
  'maxMemoryMb',
  'handleSignals',
  'logger',
  'serviceName',
] as const;

export function normalizePrimaryOptions(input: PrimaryOptions | undefined): NormalizedPrimaryOptions {
  const options = optionsObject(input, 'options');
  rejectUnknownKeys(options, kKnownKeys);
  return Object.freeze({
    workerScript: workerScriptOption(options.workerScript),
    workerArgs: stringArrayOption(options.workerArgs, 'workerArgs', []),
    execArgv: stringArrayOption(options.execArgv, 'execArgv', process.execArgv),
    env: envOption(options.env, 'env'),
    workerCount: workerCountOption(options.workerCount, 'workerCount'),
    serialization: enumOption(options.serialization, 'serialization', ['json', 'advanced'], 'json'),
    silent: booleanOption(options.silent, 'silent', false),
    stdio: stdioOption(options.stdio),
    cwd: stringOption(options.cwd, 'cwd'),
    messageTimeoutMs: integerOption(options.messageTimeoutMs, 'messageTimeoutMs', kDefaultMessageTimeoutMs, { allowInfinity: true }),
    readyTimeoutMs: integerOption(options.readyTimeoutMs, 'readyTimeoutMs', kDefaultReadyTimeoutMs),
    shutdownTimeoutMs: integerOption(options.shutdownTimeoutMs, 'shutdownTimeoutMs', kDefaultShutdownTimeoutMs),
    maxMessageBytes: integerOption(options.maxMessageBytes, 'maxMessageBytes', kDefaultMaxMessageBytes),
    maxPendingPerWorker: integerOption(options.maxPendingPerWorker, 'maxPendingPerWorker', kDefaultMaxPendingPerWorker),
    backpressure: enumOption(options.backpressure, 'backpressure', ['wait', 'reject'], 'wait'),
    restart: options.restart === false ? false : normalizeRestartOptions(options.restart),
    heartbeat: options.heartbeat === false ? false : normalizeHeartbeatOptions(options.heartbeat),
    maxMemoryMb: options.maxMemoryMb === undefined ? undefined : integerOption(options.maxMemoryMb, 'maxMemoryMb', 0),
    handleSignals: booleanOption(options.handleSignals, 'handleSignals', true),
    logger: loggerOption(options.logger),
    serviceName: options.serviceName === undefined ? undefined : checkClusterName(options.serviceName),
  });
}

/** `number | 'auto'`, resolved to a count. Shared with the service runner. */
export function workerCountOption(value: unknown, name: string): number {
  if (value === undefined || value === 'auto') return autoWorkerCount();
  return integerOption(value, name, 1);
}

function workerScriptOption(value: unknown): string {
  if (value === undefined) {
    const current = process.argv[1];
    if (!current) throw new InvalidOptionError('workerScript', 'a path or file URL (there is no current script to default to)', value);
    return current;
  }
  if (value instanceof URL) {
    if (value.protocol !== 'file:') throw new InvalidOptionError('workerScript', 'a path or a file: URL', value.href);
    return fileURLToPath(value);
  }
  if (typeof value === 'string' && value.startsWith('file:')) return fileURLToPath(value);
  if (typeof value === 'string' && value.length > 0) return value;
  throw new InvalidOptionError('workerScript', 'a path or a file: URL', value);
}

function stdioOption(value: unknown): WorkerStdio | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || !value.includes('ipc')) {
    throw new InvalidOptionError('stdio', 'an array with an "ipc" entry (the cluster channel)', value);
  }
  return Object.freeze([...value]) as WorkerStdio;
}

function loggerOption(value: unknown): Logger | false | undefined {
  if (value === undefined || value === false) return value;
  const logger = value as Record<string, unknown>;
  const methods = ['info', 'warn', 'error', 'debug'];
  if (typeof value !== 'object' || value === null || !methods.every((method) => typeof logger[method] === 'function')) {
    throw new InvalidOptionError('logger', 'an object with info, warn, error and debug methods (pino-compatible), or false', value);
  }
  return value as Logger;
}
