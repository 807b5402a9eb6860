/**
 * [H505] A worker that got SIGTERM from outside clusterkit tells the primary (`$stopSignal`) and
 * stops on its own once its 1 s grace ends. From that notice on, the primary picks it no more and
 * refuses messages to it unsent (they did not run there). Before (retest t53), it stayed in the
 * rotation for the whole grace, and the requests that reached it as it exited were told
 * `exited with code 0 before it replied`, as if they might have run.
 */
import { describe, expect, it } from '@jest/globals';
import { ShutdownInProgressError, WorkerExitedError } from '../../src/index.js';
import { testPrimary } from '../helpers/primary.js';
import { onceEvent } from '../helpers/wait.js';

describe('a worker stopping of a signal from outside', () => {
  it('[H505] is picked no more and takes no new message once it said so, until it exits', async () => {
    const primary = testPrimary({ workerCount: 2 });
    const [signalled, other] = await primary.start();
    const exit = onceEvent(primary, 'workerExit');
    process.kill(signalled!.pid!, 'SIGTERM');
    const outcomes: string[] = [];
    const picks = new Set<number>();
    let exited = false;
    void exit.then(() => (exited = true));
    // Requests one after another until it exits: the first ones run (its grace), then each is refused unsent.
    while (!exited) {
      const answer = await primary.send(signalled!, 'echo', 'x').then(
        () => 'ran',
        (error: unknown) =>
          error instanceof ShutdownInProgressError ? (/was not sent to it/.test(error.message) ? 'refused unsent' : 'refused by the worker') : error instanceof WorkerExitedError ? `lost: ${error.message}` : String(error),
      );
      if (outcomes.at(-1) !== answer) outcomes.push(answer);
      if (answer === 'refused unsent') picks.add(primary.roundRobin().id);
      if (outcomes.length > 4) break;
      // A refusal settles without I/O: let the exit in.
      await new Promise((resolve) => setImmediate(resolve));
    }
    await expect(exit).resolves.toMatchObject({ worker: signalled, code: 0, stopSignal: 'SIGTERM', expected: false });
    // Before: ["ran", "refused by the worker", "lost: Worker 1 (pid ...) exited with code 0 before it replied ..."], or "ran" then lost.
    // Once its channel closed, before its exit is read: not delivered, and said so.
    expect(outcomes.slice(0, 2)).toEqual(['ran', 'refused unsent']);
    // [H557] With `queuedBehind` 0 (it did not run), and "was sent", not "delivered": the same words as for a worker that exited.
    for (const later of outcomes.slice(2)) expect(later).toMatch(/^lost: .* before "echo" was sent\. It was not sent and did not run/);
    expect(outcomes.join('\n')).not.toContain('before it replied');
    expect([...picks]).toEqual([other!.id]);
  });
});
