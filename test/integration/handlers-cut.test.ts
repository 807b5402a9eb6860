/**
 * A message handler still running at the worker's stop deadline is abandoned as an HTTP request
 * is cut off there: counted in the stop's `requestsCut`, told (`workerRequestsCut`, reason
 * `handlers`, with the message types) and logged, and the stop is not graceful. Before, the
 * worker exited 0, the stop counted `graceful` with `requestsCut: 0`, and nothing was said:
 * only the sender's WorkerExitedError showed it (newcomer t25, finding 3).
 */
import { describe, expect, it } from '@jest/globals';
import { WorkerExitedError, type WorkerRequestsCutEvent } from '../../src/index.js';
import { capturedLogger } from '../helpers/captured-logger.js';
import { testPrimary } from '../helpers/primary.js';
import { onceEvent } from '../helpers/wait.js';

describe('message handlers still running at the stop deadline', () => {
  it('[H229] are counted as cut off, told with their message types, and the stop is failed, not graceful', async () => {
    const { logger, text } = capturedLogger();
    const primary = testPrimary({ logger });
    const [worker] = await primary.start();
    // Their outcomes are read below; no limit of their own, as in the report.
    const abandoned = [primary.send(worker!, 'hang', undefined, { timeoutMs: Infinity }), primary.send(worker!, 'hang', undefined, { timeoutMs: Infinity }), primary.send(worker!, 'slow', { ms: 600_000 }, { timeoutMs: Infinity })].map((sent) =>
      sent.then(
        () => 'answered',
        (error: unknown) => error,
      ),
    );
    // Answered after the three were read (one channel, in order): their handlers run.
    await primary.send(worker!, 'echo', 1);
    const cut = onceEvent<WorkerRequestsCutEvent>(primary, 'workerRequestsCut', 30_000);
    // 3 s: the worker's own deadline comes before, and the handlers never end.
    const report = await primary.shutdown({ timeoutMs: 3_000 });
    // Before: graceful, requestsCut 0, no line.
    expect(report.graceful).toEqual([]);
    expect(report.failed.map((handle) => handle.id)).toEqual([worker!.id]);
    expect(report.requestsCut).toBe(3);
    const event = await cut;
    expect(event).toMatchObject({ worker, openRequests: 3, reason: 'handlers', messageTypes: ['hang', 'slow'] });
    for (const outcome of await Promise.all(abandoned)) expect(outcome).toBeInstanceOf(WorkerExitedError);
    expect(text()).toContain(`WARN worker ${worker!.id} abandoned 3 message handlers still running at its shutdown deadline (${event.timeoutMs} ms after its stop began), of "hang", "slow": their requesters get no reply; it exits with code 1.`);
    expect(text()).toMatch(/shutdown complete: 1 worker did not stop cleanly, 3 requests cut off/);
  });
});
