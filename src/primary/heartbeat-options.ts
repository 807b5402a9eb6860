/**
 * The `heartbeat` option: how often the primary pings workers and how long silence may last.
 */
import { InvalidOptionError } from '../errors.js';
import { integerOption, optionsObject, rejectUnknownKeys } from '../validate.js';

export interface HeartbeatOptions {
  /** Time between pings to each ready worker. @default 1000 */
  intervalMs?: number;
  /**
   * A worker silent for this long (no pong, no message) is unresponsive: it is reported,
   * killed with SIGKILL and replaced. Keep it several intervals long. @default 10000
   */
  timeoutMs?: number;
}

export interface NormalizedHeartbeatOptions {
  readonly intervalMs: number;
  readonly timeoutMs: number;
}

export function normalizeHeartbeatOptions(input: HeartbeatOptions | undefined): NormalizedHeartbeatOptions {
  const options = optionsObject(input, 'heartbeat');
  rejectUnknownKeys(options, ['intervalMs', 'timeoutMs'], 'heartbeat.');
  const intervalMs = integerOption(options.intervalMs, 'heartbeat.intervalMs', 1_000);
  const timeoutMs = integerOption(options.timeoutMs, 'heartbeat.timeoutMs', Math.max(10_000, intervalMs * 2));
  if (timeoutMs <= intervalMs) {
    throw new InvalidOptionError('heartbeat.timeoutMs', `greater than heartbeat.intervalMs (${intervalMs})`, timeoutMs);
  }
  return Object.freeze({ intervalMs, timeoutMs });
}
