/**
 * Parsing option values (`10s`, `512M`, `auto`) into numbers. Each parser throws a
 * `UsageError` that names the flag and shows what it accepts.
 */
import { clusterNameProblem, describeBadName } from '../control/cluster-name.js';
import { socketRoomProblem } from '../control/runtime-dir.js';
import { describeValue, receivedClause } from '../errors.js';
import { kMaxDurationMs } from '../duration.js';
import { kMinMaxMemoryMb } from '../primary/primary-options.js';
import { cronRestartProblem, kCronRestartExample, kCronRestartRule } from '../primary/lifecycle/cron-restart.js';
import { UsageError } from './usage-error.js';
import { secondsHint } from './bare-duration-note.js';
import { kConfigFilePath, notRunningHint } from './pm2-hints.js';

const kDurationUnits: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 };
const kSizeUnitsInMiB: Record<string, number> = { k: 1 / 1024, m: 1, g: 1024 };

/**
 * The durations whose 0 means something, and what (for messages); every other duration is
 * at least 1 ms. Keyed by the config key; the flag is its kebab-case twin.
 */
export const kZeroDurations = {
  gradualDrain: 'or 0 to turn it off',
  minReady: 'or 0 to turn it off',
  startupWindow: 'or 0 (only exits before ready are failed starts)',
} as const;
export type ZeroDuration = keyof typeof kZeroDurations;

/** The heartbeat's interval under `clusterkit run` (the library's default): its timeout must be longer. */
export const kRunHeartbeatIntervalMs = 1_000;

/**
 * `--heartbeat-timeout` / `heartbeatTimeout` (H367): how long a ready worker may stay silent
 * before the primary kills it; more than the heartbeat's interval (1 s), as the library requires.
 * A bare number refused (`heartbeatTimeout: 10`, meant as seconds) is told how to write seconds
 * (H463), as the config file writes it when `configFile` is given, else as the flag.
 * @throws UsageError naming `flag` (a flag, or a config key in quotes).
 */
export function checkHeartbeatTimeout(ms: number, flag: string, received: string | number, configFile?: string): number {
  if (ms <= kRunHeartbeatIntervalMs) {
    const hint = isUnitless(received) && ms > 0 ? ` ${secondsHint('heartbeatTimeout', ms, configFile)}` : '';
    throw new UsageError(`${flag} must be more than 1s, the heartbeat's interval (a ping every second): a worker silent that long is killed. Received ${JSON.stringify(received)}.${hint}`, 'run');
  }
  return ms;
}

/**
 * `--cron-restart` / `cronRestart` (PM2's `cron_restart`, H377): a cron expression the primary's
 * parser (croner) schedules, checked before anything starts.
 * @throws UsageError naming `flag` (a flag, or a config key in quotes), the parser's error as `cause`.
 */
export function checkCronRestart(value: unknown, flag: string, command: string): string {
  const problem = typeof value === 'string' ? cronRestartProblem(value) : { reason: 'it is no string' };
  if (problem === undefined) return value as string;
  throw new UsageError(`${flag} must be ${kCronRestartRule}, such as ${kCronRestartExample}; ${problem.reason}. ${receivedClause(value)}.`, command, [], 'cause' in problem ? { cause: problem.cause } : undefined);
}

/**
 * `10s`, `500ms`, `1.5m`, `2h`; a bare number is milliseconds. A whole number of milliseconds
 * from 1 to `kMaxDurationMs` (24.8 days), or 0 for a duration named in `zero` (its 0 means
 * something: `--gradual-drain 0` is off). The arithmetic is decimal, so `1.1s` is 1100 ms, and
 * a fraction of a millisecond (`1.5`, `0.4ms`) is refused rather than rounded: rounded,
 * `0.4ms` would silently mean 0.
 */
export function parseDuration(value: string, flag: string, command: string, zero?: ZeroDuration): number {
  // A space before the unit, as sizes take ('512 M'): defineConfig's type accepts '5 s' too.
  const match = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h)?$/.exec(value.trim());
  // A config file's key (`"apps[0].x"`) takes a number too: said, as for a number refused (hostile t64: two wordings).
  if (!match) throw new UsageError(`${flag} must be a duration such as 10s, 500ms or 2m${flag.startsWith('"') ? ' (a number is milliseconds)' : ''}. Received "${value}".`, command);
  const unitMs = kDurationUnits[match[2] ?? 'ms']!;
  // Every unit is a whole number of ms: only the decimals can leave a fraction of one.
  const decimals = (match[1]!.split('.')[1] ?? '').replace(/0+$/, '');
  const isWhole = decimals.length <= 7 && (BigInt(decimals || '0') * BigInt(unitMs)) % 10n ** BigInt(decimals.length) === 0n;
  const ms = Number(match[1]) * unitMs;
  // Math.round only evens out binary floating point (1.1 * 1000 is 1100.0000000000002).
  return checkDurationMs(isWhole ? Math.round(ms) : ms, isWhole, value, flag, command, zero);
}

/**
 * A duration written without a unit (`5`, `'5'`): milliseconds, as every bare duration here,
 * where Kubernetes' `minReadySeconds: 5` and a PM2 user's habit count seconds (H359, H463).
 */
export function isUnitless(value: string | number): boolean {
  return typeof value === 'number' || /^\d+(?:\.\d+)?$/.test(value.trim());
}

/**
 * The rules every duration follows, from a flag or a config key, once its milliseconds are
 * known. `isWhole` says whether the value is exactly a whole number of ms (a `ms` of 0 that is
 * not whole is a tiny value that underflowed); `received` is what the user wrote, for the message.
 * @throws UsageError for 0 where 0 means nothing, a fraction of a millisecond, or more than `kMaxDurationMs`.
 */
export function checkDurationMs(ms: number, isWhole: boolean, received: string | number, flag: string, command: string, zero?: ZeroDuration): number {
  const shown = typeof received === 'number' ? String(received) : `"${received}"`;
  if (ms === 0 && isWhole) {
    // "0" is a duration, just not one this flag takes: say so rather than "must be a duration".
    if (zero !== undefined) return 0;
    throw new UsageError(`${flag} must be more than 0. Received ${shown}.`, command);
  }
  // Rounded, 0.4 ms would silently be 0 (off): refused, as every fraction of a millisecond.
  if (ms < 1) throw new UsageError(`${flag} must be at least 1ms${zero === undefined ? '' : `, ${kZeroDurations[zero]}`}. Received ${shown}.`, command);
  checkDurationLimit(ms, received, flag, command);
  if (!isWhole) throw new UsageError(`${flag} must be a whole number of milliseconds. Received ${shown}.`, command);
  return ms;
}

/** Longer than a Node timer can wait would fire at once: refused, naming the limit. */
export function checkDurationLimit(ms: number, value: string | number, flag: string, command: string): number {
  if (ms > kMaxDurationMs) {
    const received = typeof value === 'number' ? String(value) : `"${value}"`;
    throw new UsageError(`${flag} must be at most ${kMaxDurationMs} ms (596h, about 24.8 days: the longest a Node timer can wait). Received ${received}.`, command);
  }
  return ms;
}

/** `512M`, `1G`, `1.5GB`, `300MiB`; a bare number is MiB. Returns whole MiB. */
export function parseSizeMb(value: string, flag: string, command: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*(?:([kmg])(?:i?b)?)?$/i.exec(value.trim());
  const mib = match ? Math.ceil(Number(match[1]) * kSizeUnitsInMiB[(match[2] ?? 'm').toLowerCase()]!) : Number.NaN;
  if (!Number.isSafeInteger(mib) || mib < 1) {
    throw new UsageError(`${flag} must be a memory size such as 512M or 1G. Received "${value}".`, command);
  }
  return mib;
}

/**
 * A cluster name given to a control command, in NFC: the same rule as `run --name`
 * (cluster-name.ts), so `status 'Billing API'` finds what `run --name 'Billing API'` started,
 * and a name can never reach outside the control directory (`status ../other/x`).
 */
export function parseClusterName(value: string, command: string): string {
  const name = value.normalize('NFC');
  const problem = clusterNameProblem(name);
  if (problem !== undefined) {
    // A config file's path (`./ecosystem.config.cjs`) gets what to type instead, not the file's
    // name as a cluster name to try (H372: `Try "ecosystem.config.cjs"`, which is no cluster).
    const hint = kConfigFilePath.test(value) ? notRunningHint(value, command) : '';
    throw new UsageError(hint === '' ? describeBadName(value) : `${JSON.stringify(value)} is not a cluster name: ${problem}.${hint}`, command);
  }
  checkSocketRoom(name, command);
  return name;
}

/** @throws UsageError when the control socket of `name` (valid, NFC) cannot be made: too long a path (H281). */
export function checkSocketRoom(name: string, command: string): void {
  const problem = socketRoomProblem(name);
  if (problem !== undefined) throw new UsageError(`The cluster name ${JSON.stringify(name)} is too long here: ${problem} Choose a shorter name, or set XDG_RUNTIME_DIR to a shorter directory.`, command);
}

/**
 * A memory limit (`--max-memory`, `maxMemory`): a size of at least 64 MiB, below which no
 * Node.js worker can stay.
 */
export function parseMemoryLimitMb(value: string, flag: string, command: string): number {
  return checkMemoryLimitMb(parseSizeMb(value, flag, command), value, flag, command);
}

/**
 * @throws UsageError for a limit below the floor, naming it and why, and quoting `given` as it
 * was written (a number read as `numberUnit`: MiB here, bytes in a PM2 file).
 */
export function checkMemoryLimitMb(mib: number, given: string | number, flag: string, command: string, numberUnit = 'MiB'): number {
  if (mib >= kMinMaxMemoryMb) return mib;
  throw new UsageError(
    `${flag} must be at least ${kMinMaxMemoryMb}M: a Node.js worker uses about 50 MB of memory before it runs any code, ` +
      `so a lower limit would replace it forever. Received ${describeValue(given)}${typeof given === 'number' ? ` (${numberUnit})` : ''}.`,
    command,
  );
}

/** A TCP port, 1 to 65535 (`--health-port`); 0 (any free port) is no use for a probe. */
export function parsePort(value: string, flag: string, command: string): number {
  const port = /^\d+$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isInteger(port) || port < 1 || port > 65_535) throw new UsageError(`${flag} must be a port number from 1 to 65535. Received "${value}".`, command);
  return port;
}

/**
 * A positive integer, `auto` (one per core, or one in development mode), or `max` (one per
 * core whatever NODE_ENV says: PM2's meaning of `-i max`).
 */
export function parseWorkers(value: string, flag: string, command: string): number | 'auto' | 'max' {
  if (value === 'auto' || value === 'max') return value;
  // Checked whole here (a count too large to hold exactly too), so that each refusal names "auto".
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(Number(value)) || Number(value) < 1) {
    // PM2's `-i 0` is one per CPU: a PM2 user's 0 means max.
    const pm2 = /^0+$/.test(value) ? " PM2's -i 0 means one per CPU: use -w max." : '';
    throw new UsageError(`${flag} must be a positive integer, "auto" or "max". Received "${value}".${pm2}`, command);
  }
  return Number(value);
}

/** A whole number from `min` (1, or 0 where 0 means something: `--lines 0`). */
export function parseCount(value: string, what: string, command: string, min: 0 | 1 = 1): number {
  const count = /^\d+$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(count) || count < min) throw new UsageError(`${what} must be ${min === 0 ? '0 or ' : ''}a positive integer. Received "${value}".`, command);
  return count;
}

