/**
 * A message a stopping worker refuses (it takes no new ones) reaches the sender as a
 * `ShutdownInProgressError`, not as a `RemoteError` that `instanceof` misses (tester t51): it
 * was not handled, so a caller can send it elsewhere.
 */
import { describe, expect, it } from '@jest/globals';
import { RemoteError, ShutdownInProgressError } from '../../src/index.js';
import { testPrimary } from '../helpers/primary.js';

describe('a message to a stopping worker', () => {
  it('[H479] is refused as ShutdownInProgressError, the worker\'s error as its cause', async () => {
    // Its _destroy hangs: it stays stopping, channel open, for as long as the test needs.
    const primary = testPrimary({ workerCount: 2 }, 'workers/destroy-hangs.ts');
    const [worker, other] = await primary.start();
    const stopping = primary.stopWorker(worker!, { timeoutMs: 30_000 }).catch((error: unknown) => error);
    // Written after the stop request on the same channel: the worker reads it stopping.
    const refused = await primary.send(worker!, 'echo', 'job 1').catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(ShutdownInProgressError);
    expect(refused).toMatchObject({ code: 'ERR_SHUTDOWN_IN_PROGRESS' });
    expect((refused as Error).message).toMatch(new RegExp(`^Worker ${worker!.id} \\(pid ${worker!.pid}\\) is shutting down and takes no new messages; "echo" was not handled\\.$`));
    expect((refused as Error).cause).toBeInstanceOf(RemoteError);
    // So the caller sends it elsewhere.
    await expect(primary.send(other!, 'echo', 'job 1')).resolves.toBe('job 1');
    process.kill(worker!.pid!, 'SIGKILL');
    await stopping;
  });
});
