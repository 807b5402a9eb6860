/**
 * A duration written without a unit (`shutdownTimeout: 30`, `--ready-timeout 30`) is
 * milliseconds, as every duration of clusterkit's: a PM2 user's (or a Kubernetes user's)
 * seconds became milliseconds without a word (H359 for `minReady`, H463 for every key:
 * `shutdownTimeout: 30` SIGKILLed every stopping worker 30 ms into its stop, and `clusterkit
 * show` said `shutdown timeout  30ms`). Under a second, such a value is used as written and said
 * as the cluster starts, once per key, with how to write seconds; a unit (`'30ms'`) says it is
 * meant. PM2's own keys (`kill_timeout`, `listen_timeout`, `min_uptime`, `watch_delay`) are
 * milliseconds in PM2 too, so a PM2-spelled key is not said here (check-config.ts).
 */
import { basename } from 'node:path';

/**
 * A bare duration under this is said at the start. Read as seconds, every number under 1000
 * (up to 16 min) is a value someone means for one of these keys (`shutdownTimeout: 30`,
 * `restartWindow: 300`); read as milliseconds, it is under a second, which a unit says at no
 * cost (`'300ms'`). From 1000 up, a bare number is far likelier meant as milliseconds
 * (`shutdownTimeout: 5000`: PM2's `kill_timeout` habit) than as more than 16 minutes.
 */
export const kBareDurationWarnMs = 1_000;

/**
 * What each duration key's milliseconds do, for the warning; keyed by the config key, whose flag
 * is its kebab-case twin (`stableAfter` and `restartBackoff` have none: a config key only).
 */
const kDurationEffects = {
  shutdownTimeout: (ms: number) => `a stopping worker is killed (SIGKILL) ${ms} ms after its stop begins, and the requests still open then are cut off at each stop, reload and scale-down`,
  readyTimeout: (ms: number) => `a worker not ready ${ms} ms after its start fails to start`,
  heartbeatTimeout: (ms: number) => `a ready worker silent for ${ms} ms is killed`,
  gradualDrain: (ms: number) => `a replaced worker releases its keep-alive connections over only ${ms} ms`,
  minReady: (ms: number) =>
    `a reload's replacement has to stay up only ${ms} ms once ready before the worker it replaces stops, too short for a build that crashes soon after its start to show it`,
  restartWindow: (ms: number) => `the restart limit counts the crashes of the last ${ms} ms only`,
  startupWindow: (ms: number) => `only a worker that dies within ${ms} ms of being ready failed to start`,
  stableAfter: (ms: number) => `a worker ready for ${ms} ms has run stably, and its slot's back-off and failed starts count from zero again`,
  restartBackoff: (ms: number) => `the first restart backs off ${ms} ms`,
  watchDelay: (ms: number) => `a change reloads after ${ms} ms of quiet`,
} as const;

/** A config key whose value is a duration (`'10s'`, or a bare number of ms). */
export type DurationKey = keyof typeof kDurationEffects;

export const kDurationKeys = Object.keys(kDurationEffects) as readonly DurationKey[];

/** The `--flag` of a duration key; undefined for a key no flag sets. */
export function durationFlagOf(key: DurationKey): string | undefined {
  return key === 'stableAfter' || key === 'restartBackoff' ? undefined : `--${key.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`)}`;
}

/** A duration in force that was written without a unit, and where (the config file, or a flag). */
export interface BareDuration {
  readonly key: DurationKey;
  /** As used: the value in milliseconds. */
  readonly ms: number;
  readonly isFromFile: boolean;
}

/** Whether a bare duration of `ms` is said at the start: from 1 to 999 (0 is off, where it means something). */
export function isBareDurationSaid(ms: number | undefined): ms is number {
  return ms !== undefined && ms > 0 && ms < kBareDurationWarnMs;
}

/**
 * `value` written as `key`'s value: `--shutdown-timeout 30s` for a flag (`configFile`
 * undefined), `"shutdownTimeout": "30s"` in a JSON file (H372: `'30s'` is no JSON), else
 * `shutdownTimeout: '30s'`.
 */
export function durationAsWritten(key: DurationKey, value: string, configFile: string | undefined): string {
  if (configFile === undefined) return `${durationFlagOf(key) ?? key} ${value}`;
  return /\.json$/i.test(configFile) ? `"${key}": "${value}"` : `${key}: '${value}'`;
}

/** `for 10 seconds, write '10s'`, as `configFile` (or the flag, when undefined) writes it. */
export function forSeconds(key: DurationKey, value: number, configFile: string | undefined): string {
  return `for ${value} seconds, write ${durationAsWritten(key, `${value}s`, configFile)}`;
}

/** `A duration without a unit is milliseconds: for 10 seconds, write '10s'.`: a refusal of a bare number (`heartbeatTimeout: 10`) ends with it. */
export function secondsHint(key: DurationKey, value: number, configFile: string | undefined): string {
  return `A duration without a unit is milliseconds: ${forSeconds(key, value, configFile)}.`;
}

/**
 * `shutdownTimeout: 30 in clusterkit.config.json is 30 ms (a duration without a unit is milliseconds)`,
 * or `--shutdown-timeout 30 is 30 ms (...)`. `configFile`: the file that set it, when no flag replaced it.
 */
export function bareDurationSaid(key: DurationKey, ms: number, configFile: string | undefined): string {
  const written = configFile === undefined ? `${durationFlagOf(key) ?? key} ${ms}` : `${key}: ${ms} in ${basename(configFile)}`;
  return `${written} is ${ms} ms (a duration without a unit is milliseconds)`;
}

/** The start's warning for `key`'s bare value of `ms` (1 to 999). */
export function bareDurationWarning(key: DurationKey, ms: number, configFile: string | undefined): string {
  const file = configFile === undefined ? undefined : basename(configFile);
  // What Kubernetes users copy (minReadySeconds), and what else `minReady` could be taken for (a count of workers).
  const seconds = key === 'minReady' ? ` For ${ms} seconds, as Kubernetes' minReadySeconds: ${ms} counts them, write ` : ` For ${ms} seconds, write `;
  const extra = key === 'minReady' ? " It is no number of workers either (listenHealth()'s minReady is)." : '';
  return (
    `${bareDurationSaid(key, ms, file)}: ${kDurationEffects[key](ms)}.` +
    `${seconds}${durationAsWritten(key, `${ms}s`, file)}; to keep ${ms} ms, write ${durationAsWritten(key, `${ms}ms`, file)}.${extra}`
  );
}
