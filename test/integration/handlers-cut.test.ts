/**
 * A message handler still running at the worker's stop deadline is abandoned as an HTTP request
 * is cut off there: counted in the stop's `requestsCut`, told (`workerRequestsCut`, reason
 * `handlers`, with the message types) and logged, and the stop is not graceful. Before, the
 * worker exited 0, the stop counted `graceful` with `requestsCut: 0`, and nothing was said:
 * only the sender's WorkerExitedError showed it (newcomer t25, finding 3).
 */
import { describe, expect, it } from '@jest/globals';
import { wholeMs } from '../../src/whole-ms.js';
import { MessageTimeoutError, WorkerExitedError, type WorkerRequestsCutEvent } from '../../src/index.js';
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
    // 8 s: the worker's own deadline comes 2 s before (stop-margin.ts), and the handlers never end;
    // a shorter stop leaves the worker a margin a loaded machine can miss (then it is killed, not failed).
    const report = await primary.shutdown({ timeoutMs: 8_000 });
    // Before: graceful, requestsCut 0, no line.
    expect(report.graceful).toEqual([]);
    expect(report.failed.map((handle) => handle.id)).toEqual([worker!.id]);
    expect(report.requestsCut).toBe(3);
    const event = await cut;
    expect(event).toMatchObject({ worker, openRequests: 3, reason: 'handlers', messageTypes: ['hang', 'slow'] });
    for (const outcome of await Promise.all(abandoned)) expect(outcome).toBeInstanceOf(WorkerExitedError);
    expect(text()).toContain(`WARN worker ${worker!.id} abandoned 3 message handlers still running at its shutdown deadline (${wholeMs(event.timeoutMs)} ms after its stop began), of "hang", "slow": their requesters get no reply; it exits with code 1.`);
    expect(text()).toMatch(/shutdown complete: 1 worker did not stop cleanly, 3 requests cut off/);
  });

  it('[H241] a handler whose requester had already timed out is told apart: no reply is lost with it, and no request is counted cut off', async () => {
    const { logger, text } = capturedLogger();
    const primary = testPrimary({ logger });
    const [worker] = await primary.start();
    // Its requester gives up first (a MessageTimeoutError), while the handler runs on.
    await expect(primary.send(worker!, 'hang', undefined, { timeoutMs: 300 })).rejects.toBeInstanceOf(MessageTimeoutError);
    const cut = onceEvent<WorkerRequestsCutEvent>(primary, 'workerRequestsCut', 30_000);
    const report = await primary.shutdown({ timeoutMs: 8_000 });
    // Before: openRequests 1, requestsCut 1, "their requesters get no reply".
    expect(report.requestsCut).toBe(0);
    const event = await cut;
    expect(event).toMatchObject({ worker, openRequests: 0, givenUp: 1, reason: 'handlers', messageTypes: ['hang'] });
    expect(text()).toContain(
      `WARN worker ${worker!.id} abandoned 1 message handler still running at its shutdown deadline (${wholeMs(event.timeoutMs)} ms after its stop began), of "hang": its requester had already given up (its request timed out or was aborted), so no reply is lost with it; it exits with code 1.`,
    );
    expect(text()).not.toMatch(/requests? cut off/);
  });

  it('[H241][H292] of two abandoned handlers, the one whose requester still waits is cut off, the one whose requester timed out is not', async () => {
    const { logger, text } = capturedLogger();
    const primary = testPrimary({ logger });
    const [worker] = await primary.start();
    await expect(primary.send(worker!, 'hang', undefined, { timeoutMs: 300 })).rejects.toBeInstanceOf(MessageTimeoutError);
    const waiting = primary.send(worker!, 'hang', undefined, { timeoutMs: Infinity }).catch((error: unknown) => error);
    // Answered after the hang was read (one channel, in order): its handler runs.
    await primary.send(worker!, 'echo', 1);
    const cut = onceEvent<WorkerRequestsCutEvent>(primary, 'workerRequestsCut', 30_000);
    const report = await primary.shutdown({ timeoutMs: 8_000 });
    expect(report.requestsCut).toBe(1);
    expect(await cut).toMatchObject({ openRequests: 1, givenUp: 1, reason: 'handlers' });
    await expect(waiting).resolves.toBeInstanceOf(WorkerExitedError);
    expect(text()).toContain('abandoned 2 message handlers still running at its shutdown deadline');
    // Before: "shutting down timeoutMs=8000", no cause; "the requesters of 1 get no reply; those of the other 1 ... with them".
    expect(text()).toContain("shutting down: shutdown() was called in the primary's code timeoutMs=8000");
    expect(text()).toContain('"hang": the requester of 1 gets no reply; that of the other 1 had already given up (its request timed out or was aborted), so no reply is lost with it; it exits with code 1.');
    expect(text()).toMatch(/shutdown complete: 1 worker did not stop cleanly, 1 request cut off/);
  });

  it('[H360] abandoned after the event loop was held as the stop came: the line gives the time since the ask and blames the held loop, not the timeout', async () => {
    const { logger, text } = capturedLogger();
    const primary = testPrimary({ logger });
    const [worker] = await primary.start();
    const waiting = primary.send(worker!, 'hang', undefined, { timeoutMs: Infinity }).catch((error: unknown) => error);
    // Answered, then its event loop is held 5 s: the stop asked meanwhile is read only then.
    await expect(primary.send(worker!, 'blockSoon', { ms: 5_000 })).resolves.toBe('blocking');
    const cut = onceEvent<WorkerRequestsCutEvent>(primary, 'workerRequestsCut', 30_000);
    // 8 s: the worker's own deadline 6 s after the ask, its drain's 5.4 s (600 ms kept for its _destroy).
    const report = await primary.shutdown({ timeoutMs: 8_000 });
    expect(report.failed.map((handle) => handle.id)).toEqual([worker!.id]);
    const event = await cut;
    // Before: "(N ms after its stop began)", counted from when it read the stop, and "Raise the shutdownTimeoutMs option".
    expect(event).toMatchObject({ worker, openRequests: 1, reason: 'handlers', messageTypes: ['hang'], shortenedBy: 'blocked' });
    expect(event.heldMs).toBeGreaterThan(event.timeoutMs! / 2);
    expect(text()).toContain(
      `WARN worker ${worker!.id} abandoned 1 message handler still running ${event.elapsedMs} ms after the primary asked it to stop (of "hang": its requester gets no reply): ` +
        `its event loop was held for ${event.heldMs} ms after the ask before its drain could begin`,
    );
    expect(text()).not.toContain('Raise the shutdownTimeoutMs option');
    await expect(waiting).resolves.toBeInstanceOf(WorkerExitedError);
  });
});
