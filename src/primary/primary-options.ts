/**
 * Every option of the primary, in one module: `ClusterPrimary`'s own, its nested `restart` and
 * `heartbeat`, and `fork()`'s. Each table declares an option's check and default once; the
 * normalized types are read from the tables, and the messaging defaults are shared with the
 * worker's options (messaging/defaults.ts).
 */
import { fileURLToPath } from 'node:url';
import type { ClusterSettings } from 'node:cluster';
import { durationOption, timerDelay } from '../duration.js';
import { InvalidOptionError } from '../errors.js';
import { isOpenDescriptor } from '../is-open-descriptor.js';
import { checkClusterName } from '../control/runtime-dir.js';
import type { Logger } from '../logger.js';
import { guardLogger } from '../guarded-logger.js';
import { kDefaultBackpressure, kDefaultMaxMessageBytes, kDefaultMaxPending, kDefaultMessageTimeoutMs } from '../messaging/defaults.js';
import type { Serialization } from '../types.js';
import {
  booleanOption,
  enumOption,
  integerOption,
  kSafeIntegerRule,
  maxMessageBytesOption,
  knownOptions,
  normalizeOptions,
  numberOption,
  directoryOption,
  stringArrayOption,
  stringOption,
  workerNameOption,
  type NormalizedOptions,
  type OptionTable,
} from '../validate.js';
import { autoWorkerCount, defaultMaxWorkers } from './pool/cpu-limit.js';
import { workerEnvOption } from './worker-env-option.js';
import { scriptStoppingNodeArg } from './script-stopping-node-arg.js';
import { cronRestartOption } from './lifecycle/cron-restart.js';
import { workerNodeOptions } from './pool/node-option-failure.js';
import { runnablePath, workerNodeOptionList } from '../typescript-sibling.js';
import type { LoadingSteps } from './pool/loading-advice.js';

/** A stdio array as `node:cluster` accepts it, for example `['inherit', 'pipe', 'pipe', 'ipc']`. */
export type WorkerStdio = NonNullable<ClusterSettings['stdio']>;

export const kDefaultReadyTimeoutMs = 30_000;
export const kDefaultShutdownTimeoutMs = 10_000;
/** `gradualDrainMs`: a reload hands a worker's clients over in about a second (docs/performance.md). */
export const kDefaultGradualDrainMs = 1_000;
export const kDefaultStableAfterMs = 30_000;
/** `restart.backoff.initialMs`: the first restart's delay, doubled for each one in a row. */
export const kDefaultBackoffInitialMs = 100;
/** `restart.startupWindowMs`: PM2's `min_uptime`, counted from ready (docs/supervision.md). */
export const kDefaultStartupWindowMs = 1_000;
/** `heartbeat.timeoutMs` with the default 1 s interval (a longer interval makes it twice that): what `clusterkit run` says a silent worker has left (H372). */
export const kDefaultHeartbeatTimeoutMs = 10_000;
/**
 * The lowest `maxMemoryMb`: a Node.js worker's RSS is about 50 MiB before it runs any code, so a
 * lower limit can never be met and would only replace workers forever.
 */
export const kMinMaxMemoryMb = 64;
/**
 * `maxStoreBytes`: four values of the largest size a message may have (`maxMessageBytes`,
 * 16 MiB), far more than coordination data (counters, flags, leaders, small caches) needs,
 * yet bounded. Each entry counts what it costs the heap besides its key and value
 * (store-overhead.ts), so a store filled to it holds about that much of the primary's heap
 * whatever its shape (measured: 64 MiB of tiny counters, 541 587 keys, took 64 MB; text
 * outside Latin-1 takes 2 bytes a character, up to twice its count).
 */
export const kDefaultMaxStoreBytes = 64 * 1024 * 1024;
/**
 * `maxStoreKeys`: with the default byte budget, about 540 000 tiny entries fill it first; a
 * million keys bounds the store when `maxStoreBytes` is raised or unbounded (V8's `Map` itself
 * stops at 2^24).
 */
export const kDefaultMaxStoreKeys = 1_000_000;
/**
 * `maxStoreWatchesPerWorker`: a worker watches the keys it coordinates on (flags, a leader,
 * config), tens or hundreds; ten thousand leaves room for far more, and bounds what one worker's
 * watches hold in the primary to about 2.4 MB (12.6 MB with keys of 1 024 characters). Before
 * it, a hostile worker could hold a million watches: 232 MB of the primary's heap.
 */
export const kDefaultMaxStoreWatchesPerWorker = 10_000;

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
   * Node options for the workers, such as `['--import', 'tsx']`. One that stops Node from
   * running the worker's script (`-e`, `--check`, `--test`, `--watch`, `-`, an empty string, a
   * bare word Node would run as the script) is refused with `InvalidOptionError`.
   * @default the primary's own `process.execArgv`
   */
  execArgv?: string[];
  /**
   * Environment added to the inherited `process.env`; `undefined` removes a variable. Keys it
   * inherits through its prototype count too, as `child_process` reads `env` (`for...in`).
   * clusterkit's own variables (`CLUSTERKIT_SLOT`, `CLUSTERKIT_NAME`, `CLUSTERKIT_ROLES`, ...)
   * are always the primary's: name and roles come from `fork({ name, roles })`.
   * @default {}
   * @throws {InvalidOptionError} when it names one of clusterkit's own variables with a value
   *   (other than the primary's own, which a spread `process.env` carries: that one is replaced)
   */
  env?: Record<string, string | undefined>;
  /**
   * The name of an environment variable set in each worker to its slot number (`'0'`, `'1'`...,
   * kept across restarts and reloads), as `CLUSTERKIT_SLOT` always is: PM2's `instance_var`. A
   * variable given in `env` (or a fork's `env`) wins. `clusterkit run` sets `'NODE_APP_INSTANCE'`,
   * PM2's name, so code written for PM2 (`if (process.env.NODE_APP_INSTANCE === '0')`) runs
   * unchanged; the library sets none by default, because node-config reads `NODE_APP_INSTANCE`
   * to load per-instance files (`default-1.json`), which a primary that never asked for it
   * should not change.
   * A list names several variables, each set the same way (`clusterkit run` with PM2's
   * `instance_var: 'INSTANCE_ID'`: `['NODE_APP_INSTANCE', 'INSTANCE_ID']`).
   * @default undefined (none)
   * @example instanceVar: 'NODE_APP_INSTANCE'
   */
  instanceVar?: string | readonly string[];
  /**
   * How many workers `start()` forks. `'auto'`: the CPUs this process may use, a container's CPU
   * quota included (`os.availableParallelism()`, capped by the cgroup quota). `'max'`: the same
   * (PM2's word for it, as `clusterkit run -w max` and the runner's `workers: 'max'`). `0`: none,
   * for a primary that forks only named or role workers with `fork()`. @default 'auto'
   */
  workerCount?: number | 'auto' | 'max';
  /**
   * The most workers this primary runs at once: a `workerCount`, `fork({ count })` or
   * `scale(count)` past it is refused with `InvalidOptionError` (and `'auto'` never exceeds it).
   * A guard against typos such as `scale(100000)`, which would fork until the machine runs out
   * of pids or memory. @default 4 × the `'auto'` count (the CPUs this process may use), at least 64
   */
  maxWorkers?: number;
  /** IPC serialization; see docs/messaging.md for when to use which. @default 'json' */
  serialization?: Serialization;
  /** Pipe worker stdout/stderr to the primary (`worker.process.stdout`) instead of inheriting. @default false */
  silent?: boolean;
  /**
   * Explicit stdio array for workers; must include an `'ipc'` entry. Overrides `silent`. With
   * `json` serialization clusterkit appends one `'pipe'` of its own, the bulk pipe that carries
   * long strings (docs/messaging.md, "Long strings: the bulk pipe").
   */
  stdio?: WorkerStdio;
  /**
   * Working directory of the workers: an existing directory (`InvalidOptionError` otherwise).
   * @default the primary's
   */
  cwd?: string;
  /**
   * Default reply timeout of `send` and `broadcast`, in ms; `Infinity` for none. Every duration
   * option takes whole milliseconds up to 2^31 - 1 (24.8 days, the longest a Node timer waits).
   * @default 30000
   */
  messageTimeoutMs?: number;
  /**
   * Time (ms) a worker has from fork to ready before it counts as a failed start and is killed;
   * `Infinity` to wait as long as it takes. @default 30000
   */
  readyTimeoutMs?: number;
  /**
   * A worker is ready only once it listens (a server of its own: node:cluster's `listening`),
   * within `readyTimeoutMs`, even the first ones. Without it, the first workers are ready at
   * their `_init()`'s end; a worker started after one of its slot (or an unnamed one of the same
   * roles and env) listened waits for its listen all the same: restarts, scale-ups, replacements and
   * reloads. For workers that always listen (PM2's `listen_timeout` spirit); not for workers
   * that never do (queue consumers). @default false
   */
  waitListen?: boolean;
  /**
   * What a worker's start waits for, named by the error when it is not ready within
   * `readyTimeoutMs` ("Its start-up may be waiting on something that never comes (...)"), so
   * the reader knows where to look: a phrase such as `'its database connection in _init()'`.
   * `startClusteredService` and `clusterkit run` name their module's or script's own steps.
   * @default "its _init()"
   */
  readyWaitsFor?: string;
  /**
   * What a worker process runs before its ClusterWorker starts, named when it had not started
   * within `readyTimeoutMs` or ended before it did: a phrase such as `'its preloads, then the
   * bootstrap'`. `clusterkit run` and `startClusteredService` name their own bootstrap, whose
   * scripts create no ClusterWorker. Unset: the advice is a worker script's own (create a
   * ClusterWorker and call start()). A function is given the environment the worker was forked
   * with (the `env` option in force for it over the primary's) and returns the phrase.
   */
  loadingSteps?: LoadingSteps;
  /**
   * Its ready notice means its script loaded: no call of its own said it (`clusterkit run`
   * without --wait-ready, where a worker is ready once its script's top-level code ended). Its
   * lines then say what happened: one not ready in time was still loading its script, one that
   * then did not listen was counted ready at its script's end (not "said it was ready", H239).
   * @default false
   */
  readyAtLoad?: boolean;
  /** Time (ms, at most 2^31 - 1) each worker has to stop gracefully before it is killed with SIGKILL. @default 10000 */
  shutdownTimeoutMs?: number;
  /**
   * Time (ms) over which a worker that other workers replace (a reload, a scale-down, a
   * `maxMemoryMb` replacement) releases its open keep-alive HTTP connections, one at a time,
   * evenly: each keeps being served until its turn, then gets `Connection: close`. The workers
   * taking over (fresh processes, not yet optimized by the JIT) then receive the reconnections
   * a few at a time instead of all at once, which is what makes a reload's latency spike.
   * Envoy's "gradual" drain strategy. At most half of the time left to the worker's own stop
   * deadline is used (`shutdownTimeoutMs` minus a quarter of it, at most 2 s: 4 s of the default
   * 10 s); a shutdown releases everything at once, also one that begins during such a drain. 0 turns it off. Adds up to this much to each replacement of a
   * reload, only for a worker with open connections. @default 1000
   */
  gradualDrainMs?: number;
  /**
   * Time (ms) a replacement must stay up once it is ready (and listening, when the worker it
   * replaces listened) before the worker it replaces is stopped: each replacement of a rolling
   * reload, and a `maxMemoryMb` replacement. Both workers serve meanwhile. A replacement that
   * exits (or goes silent) within it fails: the old worker is never stopped and keeps serving, and the
   * reload stops there with `ReloadError` (a memory replacement is tried again later). For a
   * build that crashes soon after ready (a lazy import, its first request, a timer): without
   * it, such a build replaces every good worker, one slot after the other, and the whole
   * service crash-loops. Each replacement of a reload takes this much longer. A shutdown does
   * not wait for it. Kubernetes' `minReadySeconds` of a Deployment. (Not `listenHealth()`'s
   * `minReady`, a number of ready workers.)
   * A whole number of ms up to 2^31 - 1; anything else throws `InvalidOptionError`.
   * @default 0 (the old worker is stopped as soon as its replacement is ready)
   */
  minReadyMs?: number;
  /**
   * Largest payload accepted by `send`/`notify`, estimated before serializing; also the most the
   * primary reads in one message from a worker. From 8192 (8 KiB, what clusterkit's own
   * messages need) to 268435456 (256 MiB: a message is read whole, as one string); another value
   * is refused with `InvalidOptionError`. @default 16 MiB
   */
  maxMessageBytes?: number;
  /**
   * The shared store's budget, in bytes: every key and value, each sized as `maxMessageBytes`
   * sizes a payload (one byte a character of the key, and the value's size on the wire), plus
   * 112 bytes an entry for what it costs the primary's heap besides. A write that would take the
   * store past it is refused with `StoreFullError` (a worker's `store.set()` rejects with it),
   * and nothing is written: a worker that stores without end cannot exhaust the primary's
   * memory. Each worker's watches are held to it too (240 bytes a watch plus its key). Current
   * use: `primary.store.bytes`. `Infinity` for no budget.
   * @default 64 MiB (67108864): four values of the largest message size
   */
  maxStoreBytes?: number;
  /**
   * The most keys the shared store holds; a write that would add one more is refused with
   * `StoreFullError`. With the default byte budget, about 540 000 tiny entries fill that first.
   * Current use: `primary.store.size`. `Infinity` for no limit (V8's `Map` still stops at 2^24
   * keys).
   * @default 1000000
   */
  maxStoreKeys?: number;
  /**
   * The most shared-store keys one worker may watch at once; one `watch()` more rejects with
   * `StoreWatchLimitError` (its other watches stay). Each watch costs the primary about 240
   * bytes of heap besides its key. `Infinity` for no limit (`maxStoreBytes` still bounds each
   * worker's watches).
   * @default 10000
   */
  maxStoreWatchesPerWorker?: number;
  /**
   * Requests that may await replies from one worker at once. Also the most relays (`sendTo()`)
   * of one worker the primary holds at once: one more is refused with `BackpressureError`
   * (`held: '$relay'`); keep each worker's `maxPending` no higher. @default 10000
   */
  maxPendingPerWorker?: number;
  /** Beyond `maxPendingPerWorker`: `'wait'` queues the send, `'reject'` fails it with `BackpressureError`. @default 'wait' */
  backpressure?: 'wait' | 'reject';
  /** Restart policy for workers that die unexpectedly, or `false` to never restart. */
  restart?: RestartOptions | false;
  /** Hang detection by ping, or `false` to disable it. */
  heartbeat?: HeartbeatOptions | false;
  /**
   * Replace a worker gracefully when its RSS stays above this many MiB (three heartbeats in a
   * row); at least 64, and it needs the heartbeat. It is replaced every time, as PM2's
   * `max_memory_restart` does; from the third replacement in a row soon after start, the
   * `workerMemoryLimit` line says the limit is too low or the worker leaks from the start, and
   * the replacement backs off (`restart.backoff`). A worker that grows by the limit once more
   * while its replacement is not ready is stopped without waiting and restarted in place.
   * @default no limit
   */
  maxMemoryMb?: number;
  /**
   * A rolling reload (as `reload()`: zero downtime, `requestedBy: 'schedule'`) each time this
   * cron expression matches, in the primary's local time zone (`TZ`), as PM2's `cron_restart`:
   * 5 fields (minute hour day-of-month month day-of-week), or 6 with seconds first; nicknames
   * such as `'@daily'` too. The schedule starts once `start()` has resolved and ends when the
   * shutdown begins; its timer keeps no process alive. A reload under way when it matches is
   * joined (`reloadJoined`); one that fails is logged (`reloadFailed`) and the schedule goes on.
   * @default none
   * @example cronRestart: '0 3 * * *' // every day at 03:00
   * @throws {InvalidOptionError} for an expression the parser (croner) refuses, or one that
   *   matches no date to come; `cause` is the parser's error
   */
  cronRestart?: string;
  /**
   * SIGTERM/SIGINT run `shutdown()` then exit; SIGHUP runs `reload()`; SIGUSR2 (nodemon, log
   * rotation), whose default would end the process silently, is logged and ignored, unless the
   * process has its own SIGUSR2 listener. `false`: no signal listener at all. @default true
   */
  handleSignals?: boolean;
  /**
   * Where lifecycle lines go (pino-compatible). A method that throws or rejects loses its line,
   * nothing else: the first failure is a `LoggerError`, said once, on 'error' when heard, else as
   * a process warning (docs/logging.md). @default one line per event on stderr, tagged
   * `[serviceName]` when it is set, else `[clusterkit]`; `false` for silence
   */
  logger?: Logger | false;
  /**
   * Serve `clusterkit status|reload|stop|scale|dashboard <serviceName>` for this primary, on a
   * Unix socket only this user can open: `start()` opens it before forking (and rejects with
   * `ClusterNameInUseError` if a live primary has the name); shutdown removes it. Any name
   * `clusterkit run --name` takes (`'Billing API'`, `api@v2`; docs/cli.md#cluster-names).
   * (`startClusteredService` and `clusterkit run` serve it themselves.)
   * @default no control socket
   */
  serviceName?: string;
}

export interface BackoffOptions {
  /** Delay before the first restart of a slot. @default 100 */
  initialMs?: number;
  /** Each consecutive restart multiplies the delay by this. @default 2 */
  factor?: number;
  /** The delay never exceeds this. @default 30000 */
  maxMs?: number;
}

/** The `restart` option: backoff and crash-loop limits (see docs/supervision.md). */
export interface RestartOptions {
  backoff?: BackoffOptions;
  /**
   * A worker that was ready this long (ms, counted from ready, not from the fork: time in `_init`
   * is not stable running) resets its slot's backoff and failure counts. @default 30000
   */
  stableAfterMs?: number;
  /**
   * A worker that exits before ready, or within this long (ms) after becoming ready without
   * having served, is a startup failure; `maxStartupFailures` of them in a row trip the
   * crash-loop breaker. A worker that served (a request or connection on a tracked server, a
   * user request message) and then died is a crash restarted after `backoff.initialMs`,
   * counted toward no limit; one that did not serve but was ready longer backs off and counts
   * only toward `maxRestarts` per `windowMs`. Like `stableAfterMs` it counts time spent ready, so a slow
   * `_init` does not use it up. The default is PM2's `min_uptime` (1 s). `0`: only exits
   * before ready are startup failures. @default 1000
   */
  startupWindowMs?: number;
  /** Consecutive startup failures after which the slot stops restarting (`crashLoop`). @default 3 */
  maxStartupFailures?: number;
  /**
   * Restarts of one slot allowed within `windowMs`; one more trips `crashLoop` (reason
   * `too-many-restarts`). Every crash of a worker that did not serve counts, including those
   * after the startup window; crashes of workers that served do not (like PM2's restarts after
   * `min_uptime`: unbounded, each one logged). PM2's `max_restarts` is 16 restarts sooner than
   * `min_uptime`. @default 10
   */
  maxRestarts?: number;
  /** The window of `maxRestarts`. @default 60000 */
  windowMs?: number;
}

/** The `heartbeat` option: how often the primary pings workers and how long silence may last. */
export interface HeartbeatOptions {
  /** Time between pings to each ready worker, in ms: at least 10. @default 1000 */
  intervalMs?: number;
  /**
   * A worker silent for this long, in ms (no pong, no message), is unresponsive: it is
   * reported, killed with SIGKILL and replaced. At least 100, and more than `intervalMs`; keep
   * it several intervals long. @default 10000
   */
  timeoutMs?: number;
}

/** Options of `primary.fork()`. */
export interface ForkOptions {
  /** How many workers to add. With `name`, must be 1. @default 1 */
  count?: number;
  /**
   * A unique name for the worker, kept across restarts (`primary.workerByName()`): 1 to 128
   * characters, no control or bidirectional formatting characters (it is shown by
   * `clusterkit status` and in logs).
   */
  name?: string;
  /**
   * Roles of these workers, kept across restarts: `roundRobin({ role })` picks only among the
   * workers with that role; the worker reads its own as `this.roles`. Each one is checked like
   * a name, and has no comma.
   * @example ['io']
   */
  roles?: string[];
  /**
   * Environment for these workers, added to the primary's `env` option; refused as that one is
   * when it names one of clusterkit's own variables (`CLUSTERKIT_NAME`: use `name`).
   */
  env?: Record<string, string | undefined>;
}

const kBackoffOptions = {
  initialMs: (value, name) => durationOption(value, name, kDefaultBackoffInitialMs, { min: 0 }),
  factor: (value, name) => numberOption(value, name, 2, 1),
  maxMs: (value, name, done) => {
    const initialMs = done.initialMs as number;
    return durationOption(value, name, Math.max(30_000, initialMs), { min: initialMs });
  },
} satisfies OptionTable;

const kRestartOptions = {
  backoff: (value, name) => normalizeOptions(value, kBackoffOptions, name, `${name}.`),
  stableAfterMs: (value, name) => durationOption(value, name, kDefaultStableAfterMs, { min: 0 }),
  startupWindowMs: (value, name) => durationOption(value, name, kDefaultStartupWindowMs, { min: 0 }),
  maxStartupFailures: (value, name) => integerOption(value, name, 3),
  maxRestarts: (value, name) => integerOption(value, name, 10),
  windowMs: (value, name) => durationOption(value, name, 60_000),
} satisfies OptionTable;

/**
 * The shortest heartbeat silence taken: a healthy worker is silent that long now and then (a
 * garbage collection, a synchronous require). Below it every worker was killed as blocked, and
 * every slot given up, with lines that blamed the worker's code (hostile t59: 1 and 2 ms).
 */
const kMinHeartbeatTimeoutMs = 100;
/** The shortest interval between pings: one a millisecond to each worker is load, not a check. */
const kMinHeartbeatIntervalMs = 10;

const kHeartbeatOptions = {
  intervalMs: (value, name) => durationOption(value, name, 1_000, { min: kMinHeartbeatIntervalMs }),
  timeoutMs: (value, name, done) => {
    const intervalMs = done.intervalMs as number;
    if (typeof value === 'number' && value < kMinHeartbeatTimeoutMs) {
      throw new InvalidOptionError(name, `at least ${kMinHeartbeatTimeoutMs} ms: a healthy worker is silent that long now and then (a garbage collection, a synchronous require), and would be killed as blocked`, value);
    }
    const timeoutMs = durationOption(value, name, timerDelay(Math.max(kDefaultHeartbeatTimeoutMs, intervalMs * 2)));
    if (timeoutMs <= intervalMs) throw new InvalidOptionError(name, `greater than heartbeat.intervalMs (${intervalMs})`, timeoutMs);
    return timeoutMs;
  },
} satisfies OptionTable;

const kForkOptions = {
  count: (value, name) => integerOption(value, name, 1),
  name: (value, name, done) => {
    const workerName = workerNameOption(value, name);
    if (workerName !== undefined && done.count !== 1) throw new InvalidOptionError('count', '1 when a name is given (names are unique)', done.count);
    return workerName;
  },
  roles: (value, name) => rolesOption(value, name),
  env: (value, name) => workerEnvOption(value, name),
} satisfies OptionTable;

const kPrimaryOptions = {
  workerScript: (value) => workerScriptOption(value),
  workerArgs: (value, name) => stringArrayOption(value, name, []),
  execArgv: (value, name) => execArgvOption(value, name),
  env: (value, name) => workerEnvOption(value, name),
  instanceVar: (value, name) => instanceVarOption(value, name),
  maxWorkers: (value, name) => maxWorkersOption(value, name),
  workerCount: (value, name, done) => workerCountOption(value, name, done.maxWorkers as number, 0),
  serialization: (value, name): Serialization => enumOption(value, name, ['json', 'advanced'], 'json'),
  silent: (value, name) => booleanOption(value, name, false),
  stdio: (value) => stdioOption(value),
  cwd: (value, name) => directoryOption(value, name),
  messageTimeoutMs: (value, name) => durationOption(value, name, kDefaultMessageTimeoutMs, { allowInfinity: true }),
  readyTimeoutMs: (value, name) => durationOption(value, name, kDefaultReadyTimeoutMs, { allowInfinity: true }),
  waitListen: (value, name) => booleanOption(value, name, false),
  readyWaitsFor: (value, name) => stringOption(value, name) ?? 'its _init()',
  loadingSteps: (value, name) => (typeof value === 'function' ? (value as LoadingSteps) : stringOption(value, name)),
  readyAtLoad: (value, name) => booleanOption(value, name, false),
  shutdownTimeoutMs: (value, name) => durationOption(value, name, kDefaultShutdownTimeoutMs),
  gradualDrainMs: (value, name) => durationOption(value, name, kDefaultGradualDrainMs, { min: 0 }),
  minReadyMs: (value, name) => durationOption(value, name, 0, { min: 0 }),
  maxMessageBytes: (value, name) => maxMessageBytesOption(value, name, kDefaultMaxMessageBytes),
  maxStoreBytes: (value, name) => integerOption(value, name, kDefaultMaxStoreBytes, { allowInfinity: true }),
  maxStoreKeys: (value, name) => integerOption(value, name, kDefaultMaxStoreKeys, { allowInfinity: true }),
  maxStoreWatchesPerWorker: (value, name) => integerOption(value, name, kDefaultMaxStoreWatchesPerWorker, { allowInfinity: true }),
  maxPendingPerWorker: (value, name) => integerOption(value, name, kDefaultMaxPending),
  backpressure: (value, name): 'wait' | 'reject' => enumOption(value, name, ['wait', 'reject'], kDefaultBackpressure),
  restart: (value, name) => (value === false ? false : normalizeOptions(value, kRestartOptions, name, `${name}.`)),
  heartbeat: (value, name) => (value === false ? false : normalizeOptions(value, kHeartbeatOptions, name, `${name}.`)),
  maxMemoryMb: (value, name, done) => maxMemoryOption(value, name, done.heartbeat),
  cronRestart: (value, name) => cronRestartOption(value, name),
  handleSignals: (value, name) => booleanOption(value, name, true),
  logger: (value) => loggerOption(value),
  serviceName: (value) => (value === undefined ? undefined : checkClusterName(value)),
} satisfies OptionTable;

/**
 * The workers' Node options: none that stops Node from running the worker's script (H310),
 * whether given or inherited by default from the primary's own `process.execArgv` (a primary
 * started with `node -e` would have its workers run that code again).
 */
function execArgvOption(value: unknown, name: string): readonly string[] {
  const execArgv = stringArrayOption(value, name, process.execArgv);
  const found = scriptStoppingNodeArg(execArgv);
  if (found === undefined) return execArgv;
  if (value === undefined) {
    throw new InvalidOptionError(
      name,
      `given: its default is the primary's own Node options (process.execArgv), and ${found.shown} among them stops the workers from running their script ` +
        `(${found.problem}); pass the workers' own, such as execArgv: []`,
      found.arg,
    );
  }
  throw new InvalidOptionError(`${name}[${found.index}]`, `a Node option that lets the worker run its script (${found.problem}; ${found.instead})`, found.arg);
}

export type NormalizedPrimaryOptions = NormalizedOptions<typeof kPrimaryOptions>;
export type NormalizedRestartOptions = NormalizedOptions<typeof kRestartOptions>;
export type NormalizedHeartbeatOptions = NormalizedOptions<typeof kHeartbeatOptions>;
export type NormalizedForkOptions = NormalizedOptions<typeof kForkOptions>;

export function normalizePrimaryOptions(input: PrimaryOptions | undefined): NormalizedPrimaryOptions {
  return normalizePrimaryInput(input).options;
}

/**
 * `normalizePrimaryOptions`, with `workerCount` as the caller wrote it (`'auto'`, `'max'`, a
 * number, or undefined), read once with the rest: the constructor read the caller's object again
 * for it, and a Proxy's throwing trap escaped as a bare Error, or a getter gave it another value
 * than the check saw (hostile t71, H692).
 */
export function normalizePrimaryInput(input: PrimaryOptions | undefined): { readonly options: NormalizedPrimaryOptions; readonly askedWorkerCount: unknown } {
  const given = knownOptions(input, kPrimaryOptionNames, 'options', '', {}, kPrimarySynonyms);
  return { options: withRunnableScript(normalizeOptions(given, kPrimaryOptions, 'options', '', {}, kPrimarySynonyms)), askedWorkerCount: given.workerCount };
}

function withRunnableScript(options: NormalizedPrimaryOptions): NormalizedPrimaryOptions {
  // `new URL('./worker.js', import.meta.url)` with only worker.ts there, the workers loading TypeScript: run worker.ts (H380).
  const script = runnablePath(options.workerScript, workerNodeOptionList(options.execArgv, workerNodeOptions(options.env)), options.cwd);
  return script === options.workerScript ? options : Object.freeze({ ...options, workerScript: script });
}

export function normalizeRestartOptions(input: RestartOptions | undefined): NormalizedRestartOptions {
  return normalizeOptions(input, kRestartOptions, 'restart', 'restart.');
}

/** The names `new ClusterPrimary()` takes (the service runner takes them too, but `workerCount`). */
export const kPrimaryOptionNames: readonly string[] = Object.freeze(Object.keys(kPrimaryOptions));

/** PM2's words (and a few common ones) for the primary's options: named as the likely option. */
export const kPrimarySynonyms: Readonly<Record<string, string>> = Object.freeze({
  name: 'serviceName',
  instances: 'workerCount',
  script: 'workerScript',
  exec: 'workerScript',
  args: 'workerArgs',
  node_args: 'execArgv',
  nodeArgs: 'execArgv',
  kill_timeout: 'shutdownTimeoutMs',
  killTimeout: 'shutdownTimeoutMs',
  listen_timeout: 'readyTimeoutMs',
  max_memory_restart: 'maxMemoryMb',
  cron_restart: 'cronRestart',
  cron: 'cronRestart',
  instance_var: 'instanceVar',
  workers: 'workerCount',
  // The workers' environment is `env` (hostile t31 L3: no hint, spelling is too far from it).
  workerEnv: 'env',
  environment: 'env',
});

/** Fork options renamed since an earlier release: `tags` became `roles` (the word `roundRobin({ role })` uses). */
const kRenamedForkOptions = { tags: 'roles' };

export function normalizeForkOptions(input: ForkOptions | undefined): NormalizedForkOptions {
  return normalizeOptions(input, kForkOptions, 'fork options', '', kRenamedForkOptions);
}

/** `maxWorkers`: a positive integer, by default `defaultMaxWorkers()`. Shared with the service runner. */
export function maxWorkersOption(value: unknown, name = 'maxWorkers'): number {
  return value === undefined ? defaultMaxWorkers() : integerOption(value, name, 1);
}

/**
 * `number | 'auto' | 'max'`, resolved to a count from `min` to `maxWorkers` ('auto' and 'max',
 * every CPU this process may use, are capped by it).
 */
export function workerCountOption(value: unknown, name: string, maxWorkers: number, min = 1): number {
  if (value === undefined || value === 'auto' || value === 'max') return Math.min(autoWorkerCount(), maxWorkers);
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
    // Name the words too: a user who wrote '4' or 'all' learns every form.
    const kind = min === 0 ? 'a non-negative integer' : min === 1 ? 'a positive integer' : `an integer >= ${min}`;
    throw new InvalidOptionError(name, `"auto", "max" (every CPU this process may use) or ${kind} ${kSafeIntegerRule}`, value);
  }
  const count = integerOption(value, name, 1, { min });
  if (count > maxWorkers) throw new InvalidOptionError(name, `at most ${maxWorkers}, the "maxWorkers" option (raise it to run more workers)`, count);
  return count;
}

/** Roles: each one a worker name (`workerNameOption`) without commas. */
function rolesOption(value: unknown, name: string): readonly string[] {
  const roles = stringArrayOption(value, name, []);
  roles.forEach((role, index) => workerNameOption(role, `${name}[${index}]`, 'role'));
  return roles;
}

function maxMemoryOption(value: unknown, name: string, heartbeat: unknown): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < kMinMaxMemoryMb) {
    throw new InvalidOptionError(
      name,
      `an integer of MiB from ${kMinMaxMemoryMb} to Number.MAX_SAFE_INTEGER (a Node.js worker uses about 50 MiB before it runs any code, so a lower limit would replace it forever)`,
      value,
    );
  }
  if (heartbeat === false) throw new InvalidOptionError('heartbeat', 'left on when "maxMemoryMb" is set (the heartbeat reports the memory)', false);
  return value;
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

/** The words Node's `stdio` takes (child_process.spawn). */
const kStdioWords: ReadonlySet<string> = new Set(['pipe', 'overlapped', 'ignore', 'inherit', 'ipc']);

function stdioOption(value: unknown): WorkerStdio | undefined {
  if (value === undefined) return undefined;
  const what = 'an array with exactly one "ipc" entry (the cluster channel), the others "pipe", "inherit", "ignore", "overlapped", null, a file descriptor or a stream, as in ["inherit", "pipe", "pipe", "ipc"]';
  if (!Array.isArray(value)) throw new InvalidOptionError('stdio', what, value);
  const channels = value.filter((entry) => entry === 'ipc').length;
  if (channels !== 1) throw new InvalidOptionError('stdio', `${what} (it has ${channels === 0 ? 'none' : channels})`, value);
  // Checked here rather than by Node at the first fork (hostile t59: two "ipc" entries passed
  // the constructor, and start() failed with "Child process can have only one IPC pipe").
  for (const [index, entry] of value.entries()) {
    if (entry === null || entry === undefined || (typeof entry === 'string' && kStdioWords.has(entry))) continue;
    // A stream Node passes by its descriptor, or by its handle (a socket, a pipe): as child_process reads it.
    const stream = typeof entry === 'object' && !Array.isArray(entry) ? (entry as { fd?: unknown; _handle?: unknown; handle?: unknown }) : undefined;
    const fd = Number.isSafeInteger(entry) ? (entry as number) : typeof stream?.fd === 'number' ? stream.fd : undefined;
    if (fd === undefined) {
      if (stream !== undefined && (isObject(stream._handle) || isObject(stream.handle))) continue;
      const isUnopened = stream !== undefined && stream.fd === null;
      throw new InvalidOptionError(`stdio[${index}]`, isUnopened ? `${what}; this stream is not open yet (its fd is null): wait for its "open" event` : `${what}; a stream must be one Node can hand to a child: an open file, a socket or a pipe`, entry);
    }
    // Retest t59: a descriptor that is not open passed, and start() failed with "spawn EBADF".
    if (fd < 0 || !isOpenDescriptor(fd)) throw new InvalidOptionError(`stdio[${index}]`, `${what}; file descriptor ${fd} is not open in the primary`, entry);
  }
  return Object.freeze([...value]) as WorkerStdio;
}

function isObject(value: unknown): boolean {
  return typeof value === 'object' && value !== null;
}


/** The `logger` option, checked and guarded; the service runner's too (one guard for its primary, its own lines and its workers'). */
export function loggerOption(value: unknown): Logger | false | undefined {
  if (value === undefined || value === false) return value;
  const logger = value as Record<string, unknown>;
  const methods = ['info', 'warn', 'error', 'debug'];
  if (typeof value !== 'object' || value === null || !methods.every((method) => typeof logger[method] === 'function')) {
    throw new InvalidOptionError('logger', 'an object with info, warn, error and debug methods (pino-compatible), or false', value);
  }
  // A method that throws or rejects loses its line, not the primary (hostile t83 #5, H727).
  return guardLogger(value as Logger);
}

/**
 * `instanceVar`: an environment variable's name, not one of clusterkit's own (`CLUSTERKIT_*`),
 * which the primary sets itself; or a list of such names. Normalized to the list.
 */
function instanceVarOption(value: unknown, name: string): readonly string[] | undefined {
  const one = (item: unknown) => {
    const text = envNameOption(item, name);
    if (text?.startsWith('CLUSTERKIT_')) throw new InvalidOptionError(name, "an environment variable name outside clusterkit's own CLUSTERKIT_* (the primary sets those itself)", item);
    return text;
  };
  if (!Array.isArray(value)) {
    const text = one(value);
    return text === undefined ? undefined : [text];
  }
  return [
    ...new Set(
      value.map((item: unknown) => {
        if (typeof item !== 'string') throw new InvalidOptionError(name, 'an environment variable name, or a list of them', value);
        return one(item)!;
      }),
    ),
  ];
}

/** An environment variable's name: letters, digits and `_`, not starting with a digit. */
function envNameOption(value: unknown, name: string): string | undefined {
  const text = stringOption(value, name);
  if (text !== undefined && !/^[A-Za-z_][A-Za-z0-9_]*$/.test(text)) throw new InvalidOptionError(name, 'an environment variable name (letters, digits and _, not starting with a digit)', value);
  return text;
}
