/**
 * `ClusterWorker` options. The table declares each option's check and default once; the
 * messaging defaults are the primary's (messaging/defaults.ts).
 */
import { durationOption } from '../duration.js';
import { InvalidOptionError } from '../errors.js';
import { kDefaultBackpressure, kDefaultMaxMessageBytes, kDefaultMaxPending, kDefaultMessageTimeoutMs } from '../messaging/defaults.js';
import type { MetricsRegistry } from '../prom-client.js';
import { booleanOption, enumOption, integerOption, maxMessageBytesOption, normalizeOptions, type NormalizedOptions, type OptionTable } from '../validate.js';

export const kDefaultDestroyTimeoutMs = 1_500;

export interface WorkerOptions {
  /** Default reply timeout of `send`. @default 30000 */
  messageTimeoutMs?: number;
  /**
   * Longest `_destroy` may take when the worker stops without the primary's deadline: a signal
   * reached the worker alone, or the primary died without handing its `shutdownTimeoutMs` down
   * (every ClusterPrimary hands it down at fork: an orphan drains for the cluster's shutdown
   * timeout, H397).
   * @default 1500
   */
  destroyTimeoutMs?: number;
  /**
   * Largest payload accepted by `send`/`notify` and for a reply, in bytes on the wire. Never more
   * than the primary's own `maxMessageBytes`, whatever is set here: the primary reads no larger
   * message from a worker (docs/messaging.md). At least 8192 (8 KiB, what clusterkit's own
   * messages need: a lower value is refused with `InvalidOptionError`). @default 16 MiB
   */
  maxMessageBytes?: number;
  /** Requests that may await replies from the primary at once. @default 10000 */
  maxPending?: number;
  /** Beyond `maxPending`: queue the send (`'wait'`) or reject it with `BackpressureError`. @default 'wait' */
  backpressure?: 'wait' | 'reject';
  /**
   * SIGINT/SIGTERM do not kill the worker: it waits briefly for the primary's instruction (a
   * Ctrl-C reaches every process of the group) and stops gracefully on its own otherwise.
   * SIGUSR2 (nodemon signals a whole process tree) and SIGHUP (a terminal's hangup reaches the
   * whole process group; the primary reloads the workers on it) do not either: one warning line
   * on stderr, at most one per 10 s, none when the worker's own code listens for it. The SIGHUP
   * line says what the primary did with a SIGHUP of its own: reloads, or got none (this worker's
   * came to it alone, and nothing reloads).
   * @default true
   */
  handleSignals?: boolean;
  /**
   * A watchdog thread kills this process if the primary dies while the event loop is blocked
   * (a blocked worker cannot notice its closed channel and would live on as an orphan). An
   * orphaned worker also ends the processes it started itself (SIGTERM once its `_destroy` ran;
   * SIGKILL with the blocked worker), found by parent pid on Linux. `false`: neither.
   * @default true
   */
  orphanWatchdog?: boolean;
  /**
   * The registry `primary.metrics()` collects from this worker: a prom-client `Registry` or any
   * object with `getMetricsAsJSON()`.
   * @default prom-client's global registry, if prom-client is installed
   */
  metricsRegistry?: MetricsRegistry;
}

const kWorkerOptions = {
  messageTimeoutMs: (value, name) => durationOption(value, name, kDefaultMessageTimeoutMs, { allowInfinity: true }),
  destroyTimeoutMs: (value, name) => durationOption(value, name, kDefaultDestroyTimeoutMs),
  maxMessageBytes: (value, name) => maxMessageBytesOption(value, name, kDefaultMaxMessageBytes),
  maxPending: (value, name) => integerOption(value, name, kDefaultMaxPending),
  backpressure: (value, name): 'wait' | 'reject' => enumOption(value, name, ['wait', 'reject'], kDefaultBackpressure),
  handleSignals: (value, name) => booleanOption(value, name, true),
  orphanWatchdog: (value, name) => booleanOption(value, name, true),
  metricsRegistry: (value) => metricsRegistryOption(value),
} satisfies OptionTable;

export type NormalizedWorkerOptions = NormalizedOptions<typeof kWorkerOptions>;

export function normalizeWorkerOptions(input: WorkerOptions | undefined): NormalizedWorkerOptions {
  return normalizeOptions(input, kWorkerOptions, 'options');
}

function metricsRegistryOption(value: unknown): MetricsRegistry | undefined {
  if (value !== undefined && typeof (value as Partial<MetricsRegistry> | null)?.getMetricsAsJSON !== 'function') {
    throw new InvalidOptionError('metricsRegistry', 'a prom-client Registry (an object with getMetricsAsJSON())', value);
  }
  return value as MetricsRegistry | undefined;
}
