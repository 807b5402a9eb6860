import { describe, expect, it } from '@jest/globals';
import { BackpressureError, MessageTimeoutError, RemoteError, WorkerExitedError } from '../../src/index.js';
import { recordOf } from '../../src/primary/pool/worker-handle.js';
import { testPrimary } from '../helpers/primary.js';

/** Requests issued in one tick travel in one frame; these check that each keeps its own fate. */
describe('coalescing', () => {
  it('sends a burst in few writes and keeps order within the worker', async () => {
    const primary = testPrimary();
    const [worker] = await primary.start();
    const stats = recordOf(worker)!.endpoint.channel.stats;
    const before = { ...stats };
    const replies = await Promise.all(Array.from({ length: 300 }, () => primary.send(worker!, 'counter')));
    expect(replies).toEqual(Array.from({ length: 300 }, (_, index) => index + 1));
    // A heartbeat ping or the watchdog arming may share the window with the burst.
    expect(stats.messages - before.messages).toBeGreaterThanOrEqual(300);
    expect(stats.messages - before.messages).toBeLessThanOrEqual(303);
    expect(stats.writes - before.writes).toBeLessThanOrEqual(5);
  });

  it('rejects only the request whose handler fails inside a batch', async () => {
    const primary = testPrimary();
    const [worker] = await primary.start();
    const results = await Promise.allSettled([
      primary.send(worker!, 'echo', 1),
      primary.send(worker!, 'fail', { message: 'only me' }),
      primary.send(worker!, 'echo', 3),
      primary.send(worker!, 'failAsync', { message: 'me too' }),
      primary.send(worker!, 'echo', 5),
    ]);
    expect(results.map((result) => result.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'rejected', 'fulfilled']);
    expect((results[1] as PromiseRejectedResult).reason).toBeInstanceOf(RemoteError);
    expect((results[4] as PromiseFulfilledResult<unknown>).value).toBe(5);
  });

  it('times out only the request that gets no reply inside a batch', async () => {
    const primary = testPrimary();
    const [worker] = await primary.start();
    const results = await Promise.allSettled([
      primary.send(worker!, 'echo', 'a', { timeoutMs: 10_000 }),
      primary.send(worker!, 'hang', undefined, { timeoutMs: 200 }),
      primary.send(worker!, 'slow', { ms: 300 }, { timeoutMs: 10_000 }),
    ]);
    expect(results.map((result) => result.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((results[1] as PromiseRejectedResult).reason).toBeInstanceOf(MessageTimeoutError);
  });

  it('rejects exactly the unanswered requests when the worker dies mid-batch', async () => {
    const primary = testPrimary({ restart: false });
    const [worker] = await primary.start();
    const results = await Promise.allSettled([
      primary.send(worker!, 'echo', 'answered before'),
      primary.send(worker!, 'slow', { ms: 10_000 }),
      primary.send(worker!, 'exitSoon', { code: 9 }),
      primary.send(worker!, 'echo', 'answered after'),
      primary.send(worker!, 'hang'),
    ]);
    expect(results.map((result) => result.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'fulfilled', 'rejected']);
    for (const index of [1, 4]) {
      expect((results[index] as PromiseRejectedResult).reason).toBeInstanceOf(WorkerExitedError);
      expect((results[index] as PromiseRejectedResult).reason).toMatchObject({ exitCode: 9 });
    }
  });

  it('applies maxPendingPerWorker: waits by default, rejects with BackpressureError on request', async () => {
    const waiting = testPrimary({ maxPendingPerWorker: 4 });
    const [first] = await waiting.start();
    const replies = await Promise.all(Array.from({ length: 40 }, (_, index) => waiting.send(first!, 'slow', { ms: 5 }).then(() => index)));
    expect(replies).toHaveLength(40);

    const rejecting = testPrimary({ maxPendingPerWorker: 4, backpressure: 'reject' });
    const [second] = await rejecting.start();
    const results = await Promise.allSettled(Array.from({ length: 6 }, () => rejecting.send(second!, 'slow', { ms: 50 })));
    expect(results.filter((result) => result.status === 'fulfilled')).toHaveLength(4);
    for (const result of results.slice(4)) expect((result as PromiseRejectedResult).reason).toBeInstanceOf(BackpressureError);
  });
});
