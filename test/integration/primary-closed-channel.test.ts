/**
 * A worker whose channel the primary's own code closes, the primary running on (H516): the
 * worker says the primary closed it and still runs, not that it "is gone (killed or crashed)".
 * Real workers of an in-process ClusterPrimary; their stderr read through `silent: true`.
 */
import { describe, expect, it } from '@jest/globals';
import type { WorkerHandle } from '../../src/index.js';
import { testPrimary, workerOutput } from '../helpers/primary.js';
import { onceEvent, until } from '../helpers/wait.js';

/** Starts one worker, lets `close` close its channel from the primary, and returns what the worker printed by its exit. */
async function closedByPrimary(close: (worker: WorkerHandle) => void): Promise<string> {
  const primary = testPrimary({ silent: true, heartbeat: false, restart: false });
  const output = workerOutput(primary);
  const [worker] = await primary.start();
  const exit = onceEvent(primary, 'workerExit');
  close(worker!);
  await exit;
  await until(() => output.text().includes('stopped on its own'), 20_000, "the worker's last line");
  return output.text();
}

describe('a channel closed by code in the primary', () => {
  it("[H516] the child process's disconnect(): the worker says its primary closed the channel and still runs", async () => {
    const text = await closedByPrimary((worker) => worker.clusterWorker.process.disconnect());
    expect(text).toMatch(
      new RegExp(
        `\\[clusterkit\\] WARN worker \\d+ \\(pid \\d+\\): its primary \\(pid ${process.pid}\\) closed its IPC channel and still runs \\(code in the primary closed its end, such as node:cluster's worker\\.kill\\(\\) or the child process's disconnect\\(\\)\\); ` +
          'it cannot reach or stop a worker without the channel and kills one still there 1000 ms later \\(SIGKILL\\), so the worker stops on its own \\(orphan protection\\): its cleanup is given up to 1000 ms, then it exits\\n',
      ),
    );
    expect(text).toMatch(/WARN worker \d+ \(pid \d+\) stopped on its own \d+ ms after its IPC channel closed/);
    expect(text).not.toContain('is gone');
  });

  it('[H643] a send after the channel closed says it was not sent and did not run, not "before it replied"', async () => {
    const primary = testPrimary({ silent: true, heartbeat: false, restart: false, env: { TEST_SEND_AT_SHUTDOWN: '1' } });
    const output = workerOutput(primary);
    const [worker] = await primary.start();
    const exit = onceEvent(primary, 'workerExit');
    worker!.clusterWorker.process.disconnect();
    await exit;
    await until(() => output.text().includes('send at shutdown:') && output.text().includes('store at shutdown:'), 20_000, "the worker's send and store errors");
    // Retest t64: `before "$store" was sent`, clusterkit's own type.
    expect(output.text()).toContain('store at shutdown: PrimaryDisconnectedError: The IPC channel to the primary is closed before the store call was sent: it was not sent and did not run.');
    // Before (newcomer t64): `... is closed before it replied to "echo"`, which reads as sent.
    expect(output.text()).toContain('send at shutdown: PrimaryDisconnectedError: The IPC channel to the primary is closed before "echo" was sent: it was not sent and did not run.');
  });

  it("[H693] the worker's own process.disconnect() in _init(): its start fails saying its own code closed the channel, and that clusterkit's \"$ready\" is a notice, not sent", async () => {
    const primary = testPrimary({ silent: true, heartbeat: false, restart: false }, 'workers/init-disconnects.ts');
    const output = workerOutput(primary);
    await expect(primary.start()).rejects.toThrow();
    await until(() => output.text().includes('start: '), 20_000, "the worker's start error");
    // Before (hostile t71): `closed before clusterkit's own "$ready" request was sent: it was not
    // sent and did not run`, as if the primary had gone and $ready were a request.
    expect(output.text()).toContain(
      'start: PrimaryDisconnectedError: The IPC channel to the primary is closed by this worker\'s own code (process.disconnect()) before clusterkit\'s own "$ready" notice was sent: it was not sent.',
    );
  });

  it("[H516] node:cluster's worker.disconnect() in the primary: said as that", async () => {
    const text = await closedByPrimary((worker) => worker.clusterWorker.disconnect());
    expect(text).toContain(`closed its IPC channel and still runs (node:cluster's disconnect: worker.disconnect() or cluster.disconnect() in the primary's code)`);
    expect(text).not.toContain('is gone');
  });
});
