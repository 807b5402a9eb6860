/**
 * A worker module that closes its own stdout and stderr before its ClusterWorker starts: the
 * descriptors clusterkit opens then (the bulk pipe, the orphan watchdog's thread) must not take
 * 0 to 2, which libuv aborts on closing (retest t58: the workers a reload forked died of SIGABRT
 * at shutdown). Real workers through node:cluster.
 */
import { describe, expect, it } from '@jest/globals';
import { testPrimary } from '../helpers/primary.js';

describe('a worker module that closes its stdout and stderr at import', () => {
  it('[H560] starts, answers, is reloaded and stops gracefully, its replacements too', async () => {
    const primary = testPrimary({ workerCount: 2 }, 'workers/closes-stdout.ts');
    const workers = await primary.start();
    await expect(primary.send(workers[0]!, 'echo', 'one')).resolves.toBe('one');
    await primary.reload();
    const replacements = primary.workers;
    expect(replacements.map((worker) => worker.id).sort()).not.toEqual(workers.map((worker) => worker.id).sort());
    for (const worker of replacements) await expect(primary.send(worker, 'echo', worker.id)).resolves.toBe(worker.id);
    const crashes: unknown[] = [];
    primary.on('workerCrash', (event) => crashes.push(event));
    const report = await primary.shutdown();
    // Before: both replacements died of SIGABRT at their stop (`uv__close: Assertion fd > STDERR_FILENO`).
    expect(report).toMatchObject({ graceful: expect.arrayContaining(replacements), failed: [], killed: [] });
    expect(crashes).toEqual([]);
  }, 120_000);
});
