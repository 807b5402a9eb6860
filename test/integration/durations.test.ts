/**
 * [H3] Durations past what Node's timers hold. A delay of 2^31 ms or more is replaced by 1 ms,
 * so such a timeout fired at once: a send timed out before its reply, a worker was killed as
 * not ready, a shutdown killed at once. Every duration takes at most 2^31 - 1 ms (or Infinity
 * where it means "no limit"), and the longest accepted value really waits.
 */
import { describe, expect, it } from '@jest/globals';
import { ClusterPrimary, InvalidOptionError, RemoteError, startClusteredService, type PrimaryOptions } from '../../src/index.js';
import { normalizeWorkerOptions, type WorkerOptions } from '../../src/worker/worker-options.js';
import { fixture, kDefaultFixture, testOptions, testPrimary } from '../helpers/primary.js';

const kLongest = 2 ** 31 - 1;
const kTooLong = 2 ** 31;

const kPrimaryDurations: Array<[string, PrimaryOptions]> = [
  ['messageTimeoutMs', { messageTimeoutMs: kTooLong }],
  ['readyTimeoutMs', { readyTimeoutMs: kTooLong }],
  ['shutdownTimeoutMs', { shutdownTimeoutMs: kTooLong }],
  ['restart.backoff.initialMs', { restart: { backoff: { initialMs: kTooLong } } }],
  ['restart.backoff.maxMs', { restart: { backoff: { maxMs: kTooLong } } }],
  ['restart.stableAfterMs', { restart: { stableAfterMs: kTooLong } }],
  ['restart.startupWindowMs', { restart: { startupWindowMs: kTooLong } }],
  ['restart.windowMs', { restart: { windowMs: 600 * 3_600_000 } }],
  ['heartbeat.intervalMs', { heartbeat: { intervalMs: kTooLong } }],
  ['heartbeat.timeoutMs', { heartbeat: { timeoutMs: kTooLong } }],
];

describe('[H3] durations', () => {
  it('[H3] refuses every duration option past 2^31 - 1 ms with InvalidOptionError naming it; accepts the longest, and Infinity where it means no limit', () => {
    for (const [name, options] of kPrimaryDurations) {
      expect(() => new ClusterPrimary(testOptions(kDefaultFixture, options))).toThrow(new RegExp(`^The "${name.replace(/\./g, '\\.')}" option must be a whole number of milliseconds from \\d+ to 2147483647`));
    }
    for (const options of [{ messageTimeoutMs: kTooLong }, { destroyTimeoutMs: kTooLong }] as WorkerOptions[]) {
      expect(() => normalizeWorkerOptions(options)).toThrow(InvalidOptionError);
    }
    const longest = new ClusterPrimary(
      testOptions(kDefaultFixture, {
        messageTimeoutMs: Number.POSITIVE_INFINITY,
        readyTimeoutMs: Number.POSITIVE_INFINITY,
        shutdownTimeoutMs: kLongest,
        restart: { backoff: { initialMs: kLongest, maxMs: kLongest }, stableAfterMs: kLongest, startupWindowMs: kLongest, windowMs: kLongest },
        heartbeat: { intervalMs: 2 ** 30, timeoutMs: kLongest },
      }),
    );
    expect(longest.options).toMatchObject({ readyTimeoutMs: Number.POSITIVE_INFINITY, shutdownTimeoutMs: kLongest, heartbeat: { timeoutMs: kLongest } });
    expect(normalizeWorkerOptions({ messageTimeoutMs: Number.POSITIVE_INFINITY, destroyTimeoutMs: kLongest })).toMatchObject({ destroyTimeoutMs: kLongest });
    // A heartbeat timeout derived from a long interval stays within what a timer holds.
    expect(new ClusterPrimary(testOptions(kDefaultFixture, { heartbeat: { intervalMs: 2 ** 30 + 1 } })).options.heartbeat).toMatchObject({ timeoutMs: kLongest });
  });

  it('[H3] the longest timeouts really wait: a send gets its reply, readyTimeoutMs: Infinity a slow start, the longest shutdownTimeoutMs a slow stop; per-call timeouts past the limit are refused, on both sides', async () => {
    const primary = testPrimary({ readyTimeoutMs: Number.POSITIVE_INFINITY, shutdownTimeoutMs: kLongest, env: { INIT_DELAY_MS: '200' } }, 'workers/init-slow.ts');
    const [worker] = await primary.start();
    // Before: the timer (timeout plus its 10 ms grouping window) overflowed and fired after 1 ms.
    await expect(primary.send(worker!, 'slow', { ms: 100 }, { timeoutMs: kLongest })).resolves.toBe('done');
    await expect(primary.send(worker!, 'slow', { ms: 100 }, { timeoutMs: kTooLong })).rejects.toThrow(InvalidOptionError);
    await expect(primary.broadcast('echo', 1, { timeoutMs: kTooLong })).rejects.toThrow(InvalidOptionError);
    await expect(primary.metrics({ timeoutMs: kTooLong })).rejects.toThrow(InvalidOptionError);
    await expect(primary.stopWorker(worker!, { timeoutMs: kTooLong })).rejects.toThrow(InvalidOptionError);
    await expect(primary.shutdown({ timeoutMs: kTooLong })).rejects.toThrow(InvalidOptionError);
    const fromWorker = await primary.send(worker!, 'askPrimary', { type: 'anything', timeoutMs: kTooLong }).catch((error: unknown) => error);
    expect(fromWorker).toBeInstanceOf(RemoteError);
    expect(fromWorker).toMatchObject({ remoteName: 'InvalidOptionError', remoteCode: 'ERR_INVALID_OPTION' });
    expect(primary.workers.map((handle) => handle.state)).toEqual(['ready']);
    // A request in flight keeps the worker's stop waiting for it; 2^31 ms and more killed it at once.
    const inFlight = primary.send(worker!, 'slow', { ms: 300 });
    const report = await primary.shutdown();
    expect(report.killed).toEqual([]);
    expect(report.graceful).toHaveLength(1);
    await expect(inFlight).resolves.toBe('done');
  });

  it('[H3] the service runner passes the same checks on: a duration past the limit rejects before anything is forked', async () => {
    const error = await startClusteredService({ workerModule: fixture('runner-empty-module.ts'), handleSignals: false, shutdownTimeoutMs: kTooLong }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(InvalidOptionError);
    expect((error as InvalidOptionError).option).toBe('shutdownTimeoutMs');
  });
});
