/**
 * A message to a stopping worker is refused as a `ShutdownInProgressError` (library tester t51:
 * a `RemoteError` that `instanceof` missed), never run: by the primary, unsent, once it asked the
 * worker to stop, a request queued under `maxPendingPerWorker` included (retest t51: let out as
 * earlier replies freed their places, two were told the worker may have run them); by the worker
 * itself, its error as `cause`, when the stop was its own (a SIGTERM from outside).
 */
import { describe, expect, it } from '@jest/globals';
import { ShutdownInProgressError } from '../../src/index.js';
import { testPrimary } from '../helpers/primary.js';
import { until } from '../helpers/wait.js';

const kFixture = 'workers/destroy-hangs.ts';

describe('a message to a stopping worker', () => {
  it('[H479][H483] is refused by the primary, unsent, once it asked the worker to stop', async () => {
    // Its _destroy hangs: it stays stopping, channel open, for as long as the test needs.
    const primary = testPrimary({ workerCount: 2 }, kFixture);
    const [worker, other] = await primary.start();
    const stopping = primary.stopWorker(worker!, { timeoutMs: 30_000 }).catch((error: unknown) => error);
    const refused = await primary.send(worker!, 'echo', 'job 1').catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(ShutdownInProgressError);
    expect(refused).toMatchObject({ code: 'ERR_SHUTDOWN_IN_PROGRESS' });
    expect((refused as Error).message).toBe(`Worker ${worker!.id} (pid ${worker!.pid}) is stopping and takes no new messages; "echo" was not sent to it. It did not run there: send it to another worker.`);
    // So the caller sends it elsewhere.
    await expect(primary.send(other!, 'echo', 'job 1')).resolves.toBe('job 1');
    process.kill(worker!.pid!, 'SIGKILL');
    await stopping;
  });

  it('[H483] requests queued under maxPendingPerWorker, let out after the stop began, are refused unsent', async () => {
    const primary = testPrimary({ workerCount: 1, maxPendingPerWorker: 2 }, kFixture);
    const [worker] = await primary.start();
    const sent = [0, 1].map(() => primary.send(worker!, 'slow', { ms: 500 }));
    const queued = [0, 1, 2].map(() => primary.send(worker!, 'echo', 'queued').catch((error: unknown) => error));
    const stopping = primary.stopWorker(worker!, { timeoutMs: 30_000 }).catch((error: unknown) => error);
    // The two in flight finish in its drain; their places free, and the queued ones' turn comes.
    await expect(Promise.all(sent)).resolves.toEqual(['done', 'done']);
    for (const error of await Promise.all(queued)) {
      // Before, they were written and told `exited ... before it replied`: the worker may have run them.
      expect(error).toBeInstanceOf(ShutdownInProgressError);
      expect((error as Error).message).toMatch(/is stopping and takes no new messages; "echo" was not sent to it\. It did not run there/);
    }
    process.kill(worker!.pid!, 'SIGKILL');
    await stopping;
  });

  it('[H479][H505] is refused as ShutdownInProgressError when the stop was its own: unsent by the primary once the worker said it stops (H505)', async () => {
    const primary = testPrimary({ workerCount: 1 }, kFixture);
    const [worker] = await primary.start();
    // A stop from outside: the worker stops itself, the primary learns it from the worker.
    process.kill(worker!.pid!, 'SIGTERM');
    let refused: unknown;
    await until(
      async () => {
        refused = await primary.send(worker!, 'echo', 'job').then(
          () => undefined,
          (error: unknown) => error,
        );
        return refused !== undefined;
      },
      30_000,
      'a refusal',
    );
    expect(refused).toBeInstanceOf(ShutdownInProgressError);
    // The worker said it stops ($stopSignal): the primary refuses the message unsent (H505).
    // Before, the worker refused it in its own words (`is shutting down ... "echo" was not
    // handled.`, its error as cause), or it was lost at its exit ("before it replied").
    expect((refused as Error).message).toBe(`Worker ${worker!.id} (pid ${worker!.pid}) is stopping and takes no new messages; "echo" was not sent to it. It did not run there: send it to another worker.`);
    process.kill(worker!.pid!, 'SIGKILL');
  });
});
