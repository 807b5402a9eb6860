/**
 * `ClusterWorker` options.
 */
import { InvalidOptionError } from '../errors.js';
import type { MetricsRegistry } from '../prom-client.js';
import { booleanOption, enumOption, integerOption, optionsObject, rejectUnknownKeys } from '../validate.js';

export const kDefaultDestroyTimeoutMs = 1_500;

export interface WorkerOptions {
  /** Default reply timeout of `send`. @default 30000 */
  messageTimeoutMs?: number;
  /**
   * Longest `_destroy` may take when the worker stops without the primary's deadline: the
   * primary died (the worker must not outlive it), or a signal reached the worker alone.
   * @default 1500
   */
  destroyTimeoutMs?: number;
  /** Largest payload accepted by `send`/`notify`. @default 16 MiB */
  maxMessageBytes?: number;
  /** Requests that may await replies from the primary at once. @default 10000 */
  maxPending?: number;
  /** Beyond `maxPending`: queue the send (`'wait'`) or reject it with `BackpressureError`. @default 'wait' */
  backpressure?: 'wait' | 'reject';
  /**
   * SIGINT/SIGTERM do not kill the worker: it waits briefly for the primary's instruction (a
   * Ctrl-C reaches every process of the group) and stops gracefully on its own otherwise.
   * @default true
   */
  handleSignals?: boolean;
  /**
   * A watchdog thread kills this process if the primary dies while the event loop is blocked
   * (a blocked worker cannot notice its closed channel and would live on as an orphan).
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

export interface NormalizedWorkerOptions {
  readonly messageTimeoutMs: number;
  readonly destroyTimeoutMs: number;
  readonly maxMessageBytes: number;
  readonly maxPending: number;
  readonly backpressure: 'wait' | 'reject';
  readonly handleSignals: boolean;
  readonly orphanWatchdog: boolean;
  readonly metricsRegistry: MetricsRegistry | undefined;
}

export function normalizeWorkerOptions(input: WorkerOptions | undefined): NormalizedWorkerOptions {
  const options = optionsObject(input, 'options');
  rejectUnknownKeys(options, ['messageTimeoutMs', 'destroyTimeoutMs', 'maxMessageBytes', 'maxPending', 'backpressure', 'handleSignals', 'orphanWatchdog', 'metricsRegistry']);
  const registry = options.metricsRegistry;
  if (registry !== undefined && typeof (registry as Partial<MetricsRegistry> | null)?.getMetricsAsJSON !== 'function') {
    throw new InvalidOptionError('metricsRegistry', 'a prom-client Registry (an object with getMetricsAsJSON())', registry);
  }
  return Object.freeze({
    messageTimeoutMs: integerOption(options.messageTimeoutMs, 'messageTimeoutMs', 30_000, { allowInfinity: true }),
    destroyTimeoutMs: integerOption(options.destroyTimeoutMs, 'destroyTimeoutMs', kDefaultDestroyTimeoutMs),
    maxMessageBytes: integerOption(options.maxMessageBytes, 'maxMessageBytes', 16 * 1024 * 1024),
    maxPending: integerOption(options.maxPending, 'maxPending', 10_000),
    backpressure: enumOption(options.backpressure, 'backpressure', ['wait', 'reject'], 'wait'),
    handleSignals: booleanOption(options.handleSignals, 'handleSignals', true),
    orphanWatchdog: booleanOption(options.orphanWatchdog, 'orphanWatchdog', true),
    metricsRegistry: registry,
  });
}
