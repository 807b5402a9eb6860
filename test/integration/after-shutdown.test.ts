/**
 * Calls that come too late or with the wrong type are refused with the errors the rest of the
 * API uses: a store write after `shutdown()` (no worker or listener can read it any more), and
 * a `roundRobin` tag that is not a string.
 */
import { describe, expect, it } from '@jest/globals';
import { InvalidArgumentError, ShutdownInProgressError, WorkerExitedError } from '../../src/index.js';
import { testPrimary } from '../helpers/primary.js';
import { until } from '../helpers/wait.js';

describe('refused late or wrong calls', () => {
  it('[H74] primary.store writes after shutdown() throw ShutdownInProgressError, as fork() and scale() do; reads still work', async () => {
    const primary = testPrimary({ workerCount: 1 });
    await primary.start();
    primary.store.set('kept', 1);
    await primary.shutdown();
    await expect(primary.fork()).rejects.toThrow(ShutdownInProgressError);
    const refused = 'The primary has shut down; store.set() is refused (nothing was stored). Reads still work.';
    expect(() => primary.store.set('x', 1)).toThrow(ShutdownInProgressError);
    expect(() => primary.store.set('x', 1)).toThrow(refused);
    expect(() => primary.store.delete('kept')).toThrow(ShutdownInProgressError);
    expect(() => primary.store.increment('kept')).toThrow(ShutdownInProgressError);
    expect(() => primary.store.compareAndSet('kept', 1, 2)).toThrow(ShutdownInProgressError);
    expect(primary.store.get('kept')).toBe(1);
    expect(primary.store.has('x')).toBe(false);
    expect(primary.store.entries()).toEqual([['kept', 1]]);
  });

  it('[H75] roundRobin({ tag }) with a tag that is not a string says what it got, as every other check does', async () => {
    const primary = testPrimary({ workerCount: 1 });
    await primary.start();
    expect(() => primary.roundRobin({ tag: {} as string })).toThrow(InvalidArgumentError);
    expect(() => primary.roundRobin({ tag: {} as string })).toThrow('The "tag" must be a string. Received an object.');
    expect(() => primary.roundRobin({ tag: 5 as unknown as string })).toThrow('The "tag" must be a string. Received 5.');
  });

  it('[H557] a send or notify to a worker that had exited says it was not sent (queuedBehind 0: it did not run); after shutdown() the primary says it has shut down', async () => {
    const primary = testPrimary({ workerCount: 1, restart: false });
    await primary.start();
    const [worker] = primary.workers;
    const exited = new Promise((resolve) => primary.once('workerExit', resolve));
    process.kill(worker!.pid!, 'SIGKILL');
    await exited;
    // Before (lib t58): `before "echo" was sent` with `queuedBehind` undefined, which errors.md
    // reads as "sent, and may have run", and "retry it ... if it is safe to repeat".
    const sent = await primary.send(worker!, 'echo', 1).catch((error: unknown) => error);
    expect(sent).toBeInstanceOf(WorkerExitedError);
    expect(sent).toMatchObject({ code: 'ERR_WORKER_EXITED', queuedBehind: 0, signal: 'SIGKILL' });
    expect((sent as Error).message).toMatch(/before "echo" was sent\. It was not sent and did not run: send it to a worker that runs/);
    expect(() => primary.notify(worker!, 'echo', 1)).toThrow(/before "echo" was sent\. It was not sent and did not run/);
    await primary.shutdown();
    // Before: "Worker 1 (pid N) exited with code ... before "echo" was sent", not why.
    await expect(primary.send(worker!, 'echo', 1)).rejects.toThrow(ShutdownInProgressError);
    expect(() => primary.notify(worker!, 'echo', 1)).toThrow('The primary has shut down; "echo" was not sent, and nothing can be sent to its workers.');
  });

  it('[H642] after shutdown() a send by id and a broadcast are refused as a send by handle is, and roundRobin() says why none is ready', async () => {
    const primary = testPrimary({ workerCount: 1 });
    const [worker] = await primary.start();
    await primary.shutdown();
    // Before (newcomer t64): `NoWorkerAvailableError: No live worker with id 1 ... It may have exited`, and a broadcast resolved [].
    await expect(primary.send(worker!.id, 'echo', 1)).rejects.toThrow(new ShutdownInProgressError('The primary has shut down; "echo" was not sent, and nothing can be sent to its workers.'));
    expect(() => primary.notify(worker!.id, 'echo', 1)).toThrow(ShutdownInProgressError);
    await expect(primary.broadcast('echo', 1)).rejects.toThrow(new ShutdownInProgressError('The primary has shut down; "echo" was not broadcast, and nothing can be sent to its workers.'));
    // Retest t64: "Wait for "workerReady", or check that start() succeeded", after a shutdown.
    expect(() => primary.roundRobin()).toThrow('No ready worker to pick: the primary is shutting down (or has shut down), and its workers take no new work.');
  });

  it('[H647] during shutdown() a notify to a stopping worker and a broadcast are refused, as a send is', async () => {
    const primary = testPrimary({ workerCount: 1 });
    const [worker] = await primary.start();
    // A handler of 3 s keeps the worker stopping while the test looks.
    const held = primary.send(worker!, 'slow', { ms: 3_000 }, { timeoutMs: 60_000 }).catch((error: unknown) => error);
    const stopped = primary.shutdown({ timeoutMs: 30_000 });
    await until(() => worker!.state === 'stopping', 30_000, 'the worker stopping');
    // Before (retest t64): the notification went, and the stopping worker said its handler threw; the broadcast resolved [].
    expect(() => primary.notify(worker!.id, 'echo', 1)).toThrow(ShutdownInProgressError);
    await expect(primary.broadcast('echo', 1)).rejects.toThrow('The primary is shutting down; "echo" was not broadcast: its workers are stopping and take no new messages.');
    await stopped;
    await expect(held).resolves.toBe('done');
  });
});
