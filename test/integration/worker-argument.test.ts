/**
 * H250: what send, notify and stopWorker answer for a worker argument that is no worker id, and
 * for a worker that is gone: an id that cannot be one is an InvalidArgumentError naming the
 * argument; a crashed worker's handle is a WorkerExitedError for stopWorker as for send.
 */
import { describe, expect, it } from '@jest/globals';
import { InvalidArgumentError, NoWorkerAvailableError, WorkerExitedError } from '../../src/index.js';
import { testPrimary } from '../helpers/primary.js';
import { onceEvent } from '../helpers/wait.js';

describe('the worker argument', () => {
  it('[H250] a number that cannot be a worker id is an InvalidArgumentError naming "worker"', async () => {
    const primary = testPrimary();
    await primary.start();
    for (const id of [NaN, 1.5, -1, 0, Infinity]) {
      const sent = await primary.send(id, 'echo', 'x').catch((error: unknown) => error);
      expect(sent).toBeInstanceOf(InvalidArgumentError);
      expect((sent as Error).message).toContain('"worker" argument');
      expect(() => primary.notify(id, 'echo', 'x')).toThrow(InvalidArgumentError);
      await expect(primary.stopWorker(id)).rejects.toBeInstanceOf(InvalidArgumentError);
    }
    // A well-formed id no live worker has is still NoWorkerAvailableError.
    await expect(primary.send(999_999, 'echo', 'x')).rejects.toBeInstanceOf(NoWorkerAvailableError);
  });

  it('[H250] stopWorker() of a worker that crashed rejects with WorkerExitedError, as send() does', async () => {
    const primary = testPrimary();
    const [worker] = await primary.start();
    const replaced = onceEvent(primary, 'workerReady');
    primary.notify(worker!, 'exit', { code: 3 });
    await replaced;
    expect(worker!.state).toBe('exited');
    const stopped = await primary.stopWorker(worker!).catch((error: unknown) => error);
    expect(stopped).toBeInstanceOf(WorkerExitedError);
    expect((stopped as WorkerExitedError).exitCode).toBe(3);
    expect((stopped as Error).message).toContain('before stopWorker() was called');
    await expect(primary.stopWorker(worker!.id)).rejects.toBeInstanceOf(NoWorkerAvailableError);
    // A worker this primary stopped still answers with how its stop ended.
    const [replacement] = primary.workers;
    await expect(primary.stopWorker(replacement!)).resolves.toBe('graceful');
    await expect(primary.stopWorker(replacement!)).resolves.toBe('graceful');
  });
});
