/**
 * `workerExit.killed` is true for every SIGKILL the primary sends, whatever the reason: a SIGKILL
 * with `killed` false is documented as one from outside clusterkit (`kill -9`, the OOM killer),
 * and an alert that follows the docs would blame the wrong one (tester t21, H161).
 */
import { describe, expect, it } from '@jest/globals';
import { testPrimary } from '../helpers/primary.js';
import { onceEvent } from '../helpers/wait.js';

describe('workerExit.killed for each SIGKILL of the primary', () => {
  it('[H161] a worker not ready within readyTimeoutMs: killed true', async () => {
    const primary = testPrimary({ readyTimeoutMs: 1_000, restart: false }, 'workers/init-hangs.ts');
    const exit = onceEvent(primary, 'workerExit');
    await expect(primary.start()).rejects.toMatchObject({ code: 'ERR_WORKER_STARTUP', reason: 'ready-timeout' });
    // Before: killed false, as if the OOM killer had ended it.
    await expect(exit).resolves.toMatchObject({ signal: 'SIGKILL', killed: true, expected: false });
  });

  it('[H161] a worker that lingers once its IPC channel closed: killed true', async () => {
    const primary = testPrimary({ restart: false });
    const [worker] = await primary.start();
    const exit = onceEvent(primary, 'workerExit');
    await primary.send(worker!, 'closeChannelAndBlock');
    // Before: killed false.
    await expect(exit).resolves.toMatchObject({ worker, signal: 'SIGKILL', killed: true });
  });
});
