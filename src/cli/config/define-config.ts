/**
 * The config file of `clusterkit run`, as PM2 users know it from `ecosystem.config.js`: one or
 * more named apps checked into the repository. `clusterkit run` reads
 * `clusterkit.config.{ts,mjs,js,cjs,json}` from the working directory (or `--config <file>`).
 * Every `run` option has a key; command-line flags override the file. See docs/config.md.
 */

/** Milliseconds, or a string with a unit: `'500ms'`, `'10s'`, `'1.5m'`, `'2h'`. */
import { checkNoExtraArguments } from '../../extra-arguments.js';

export type ConfigDuration = number | `${number}${'ms' | 's' | 'm' | 'h'}`;

/** MiB, or a string with a unit: `'512M'`, `'1G'`, `'300MiB'`, `'1536K'`. */
export type ConfigSize = number | `${number}${'K' | 'KB' | 'KiB' | 'M' | 'MB' | 'MiB' | 'G' | 'GB' | 'GiB' | 'k' | 'm' | 'g'}`;

/** One app: a script run clustered by its own primary process. Relative paths are relative to `cwd`. */
export interface AppConfig {
  /**
   * The cluster name: `clusterkit status|logs|reload|stop <name>`, `clusterkit run <name>`, the
   * log prefix. Letters, digits, `.`, `_`, `-`, at most 64. Unique within the file.
   * @default the script's file name without its extension
   */
  name?: string;
  /** The script every worker runs (`./server.js`), relative to `cwd`. Required. */
  script: string;
  /** Arguments for the script: it sees them in `process.argv`, as after `--` on the command line. @default [] */
  args?: readonly string[];
  /** Node options for the workers (`['--import=tsx', '--max-old-space-size=4096']`); `--node-arg` adds to them. @default [] */
  nodeArgs?: readonly string[];
  /** Environment for the workers, over the inherited one; `--env` overrides single keys. @default {} */
  env?: Readonly<Record<string, string | number | boolean>>;
  /** A dotenv file (`KEY=value` lines) loaded before `env`, relative to `cwd`. */
  envFile?: string;
  /** The app's working directory, relative to the config file's directory. @default the config file's directory */
  cwd?: string;
  /**
   * Number of workers, always honoured; `'max'`: one per core (PM2's `instances: 'max'`);
   * `'auto'`: one per core, or one in development mode (`NODE_ENV` not `production`). @default 'auto'
   */
  workers?: number | 'auto' | 'max';
  /** The most workers the app may run (`workers`, `clusterkit scale`). @default 4 × the CPUs, at least 64 */
  maxWorkers?: number;
  /** Development mode: a single worker. Not with `workers`. @default false */
  dev?: boolean;
  /** Time a worker has to drain and exit before SIGKILL; every duration is at most 596h (2^31 - 1 ms). @default '10s' */
  shutdownTimeout?: ConfigDuration;
  /**
   * Time over which a worker that others replace (a reload, a scale-down, a `maxMemory`
   * replacement) releases its open keep-alive connections, one at a time, so the new worker
   * gets the reconnections a few at a time (Envoy's "gradual" drain); a stop releases them at
   * once. At most half of `shutdownTimeout` is used. `0` turns it off. @default '1s'
   */
  gradualDrain?: ConfigDuration;
  /**
   * Time a reload's replacement (or a `maxMemory` one) must stay up once ready before the worker
   * it replaces is stopped; both serve meanwhile. One that exits within it fails the reload, and
   * the old worker keeps serving: a build that crashes soon after ready cannot replace every
   * good worker. Kubernetes' `minReadySeconds`; PM2 has none (its `min_uptime` is `startupWindow`).
   * Each replacement of a reload takes this much longer. `0` turns it off. @default 0
   */
  minReady?: ConfigDuration;
  /**
   * Time a ready worker may stay silent (no answer to the heartbeat's ping each second: its
   * event loop blocked) before the primary kills it (SIGKILL) and starts another. More than 1s.
   * PM2 has none. `--heartbeat-timeout`. @default '10s'
   */
  heartbeatTimeout?: ConfigDuration;
  /** Time a worker has to start (and listen; with `waitReady`, to send 'ready'). @default '30s' */
  readyTimeout?: ConfigDuration;
  /**
   * PM2's `wait_ready`: a worker is ready (a start or reload waits for it, the worker it
   * replaces keeps serving) when its script calls `process.send('ready')`, not when it
   * listens. Within `readyTimeout`, or the worker is a failed start. @default false
   */
  waitReady?: boolean;
  /**
   * Even the first workers are ready (a start waits for them, `/readyz` and status count them)
   * only once their script listens, within `readyTimeout`: for a script that listens after an
   * async init (`connectDb().then(() => app.listen(port))`). Workers started after one listened
   * (restarts, scale-ups, reloads) wait for their listen anyway. Not for a script that never
   * listens (a queue consumer): it would never be ready. @default false
   */
  waitListen?: boolean;
  /**
   * A port where the primary serves `/healthz` (liveness), `/readyz` (readiness: a ready
   * worker, not shutting down) and `/metrics` (Prometheus), for Kubernetes probes and scrapes.
   * @default none
   */
  healthPort?: number;
  /** The address of `healthPort` (`'127.0.0.1'` for this machine only). @default every address */
  healthHost?: string;
  /**
   * The ready workers `/readyz` of `healthPort` needs to answer 200, an integer >= 1 (a number
   * of workers; `minReady` is a duration). More than `workers` keeps it at 503 until a scale-up
   * brings that many. @default 1
   */
  healthMinReady?: number;
  /** Replace a worker whose RSS stays above this (the replacement starts first). @default none */
  maxMemory?: ConfigSize;
  /**
   * A rolling reload (zero downtime, as `clusterkit reload`) each time this cron expression
   * matches, in the primary's local time zone (PM2's `cron_restart`): 5 fields (minute hour
   * day-of-month month day-of-week), or 6 with seconds first; `'@daily'` and the like too.
   * @example '0 3 * * *' // every day at 03:00
   * @default none
   */
  cronRestart?: string;
  /**
   * Crashes of one worker slot allowed within `restartWindow` before it is no longer restarted.
   * Crashes of workers that served a request (an HTTP request or
   * connection, a request message) do not count: those are restarted after 100 ms, always. @default 10
   */
  maxRestarts?: number;
  /** The window of `maxRestarts`. @default '60s' */
  restartWindow?: ConfigDuration;
  /**
   * A worker that dies this soon after it became ready, without having served a request,
   * failed to start (PM2's `min_uptime`, counted from ready); `0`: only a death before ready. @default '1s'
   */
  startupWindow?: ConfigDuration;
  /** Failed starts in a row after which a slot is no longer restarted (PM2's `max_restarts`, with `startupWindow` its `min_uptime`). @default 3 */
  maxStartupFailures?: number;
  /**
   * A worker ready this long has run stably: its slot's restart back-off and failed starts
   * start again from zero, and a replacement over `maxMemory` after it is not "soon after its
   * start". No flag: PM2 has no such setting (it resets its back-off after a fixed 30 s). @default '30s'
   */
  stableAfter?: ConfigDuration;
  /** The first restart's back-off; each one after it in a row doubles it, up to 30 s (or this, if longer). @default '100ms' */
  restartBackoff?: ConfigDuration;
  /** `'json'`: the primary's lines and the workers' output as one JSON object per line. @default 'line' */
  logFormat?: 'line' | 'json';
  /**
   * Start each text line, the primary's and the workers', with its time, on the terminal and in
   * the log files (PM2's `time`); no effect with `logFormat: 'json'`, whose lines have `time`.
   * @default false
   */
  time?: boolean;
  /**
   * The time's format, in moment/dayjs tokens (PM2's `log_date_format`): YYYY YY M MM D DD H HH
   * h hh m mm s ss SSS Z ZZ A a, literal text in `[...]`; an unknown token is refused. Alone, it
   * turns `time` on. @default 'YYYY-MM-DDTHH:mm:ss.SSSZ'
   */
  timeFormat?: string;
  /** Reload the workers (rolling, zero-downtime) when a file changes: `true` (or `[]`, as in PM2) watches `cwd`; an array, those paths. @default false */
  watch?: boolean | readonly string[];
  /** More to ignore when watching: names (`'logs'`), paths relative to `cwd` (`'tmp/uploads'`), `'*.ext'`, or globs (`'data/*'`, `'**\/*.min.js'`, picomatch's, as PM2's `ignore_watch`). @default [] */
  ignoreWatch?: readonly string[];
  /** Quiet time after the last change before the reload starts. @default '300ms' */
  watchDelay?: ConfigDuration;
}

/** The whole file: `export default defineConfig({ apps: [...] })`. */
export interface ClusterKitConfig {
  /** One or more apps; `clusterkit run` starts each in its own primary process. */
  apps: readonly AppConfig[];
}

/**
 * Types a config file: returns `config` unchanged, so the editor checks every key and value.
 *
 * @example
 * // clusterkit.config.ts
 * import { defineConfig } from 'clusterkit';
 *
 * export default defineConfig({
 *   apps: [{ name: 'api', script: './server.js', workers: 2, env: { PORT: '3000' } }],
 * });
 */
export function defineConfig(config: ClusterKitConfig): ClusterKitConfig {
  if (arguments.length > 1) checkNoExtraArguments('defineConfig()', arguments, ['config']);
  return config;
}
