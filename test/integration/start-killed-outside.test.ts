/**
 * A worker killed from outside while it starts (kill -9, the OOM killer) is told as a kill, as a
 * ready one is, not as an error its script threw at load (hostile t29, F3: "Check its output
 * for the error: ... most often on an error thrown there", where there was none).
 */
import { describe, expect, it } from '@jest/globals';
import { capturedLogger } from '../helpers/captured-logger.js';
import { testPrimary } from '../helpers/primary.js';
import { until } from '../helpers/wait.js';

/** Kills a worker still loading (it never calls start()) with `signal`; resolves with its id and the log once its failed start is told. */
async function killStarting(signal: NodeJS.Signals): Promise<{ id: number; text: () => string }> {
  const { logger, text } = capturedLogger();
  const primary = testPrimary({ workerCount: 0, logger }, 'workers/never-starts.ts');
  await primary.start();
  // It never gets ready: its outcome is not awaited (a restart follows); the shutdown ends it.
  void primary.fork().catch(() => {});
  await until(() => primary.workers[0]?.pid !== undefined, 30_000, 'the worker spawned');
  const { id, pid } = primary.workers[0]!;
  process.kill(pid!, signal);
  await until(() => text().includes(`worker ${id} could not start`), 30_000, 'the failed start logged');
  return { id, text };
}

describe('a worker killed from outside while it starts', () => {
  it('[H266] is said to be killed from outside clusterkit, not sent to look for an error of its script', async () => {
    const { id, text } = await killStarting('SIGKILL');
    // Before: "... was killed by SIGKILL before it was ready. Check its output for the error: it ended before it called ClusterWorker.start(), most often on an error thrown while its modules loaded."
    expect(text()).toContain(`worker ${id} could not start: it was killed by SIGKILL from outside clusterkit (kill -9, the OOM killer, or the worker's own code) before it was ready`);
    expect(text()).not.toContain('Check its output for the error');
  });

  it('[H291] a SIGHUP before the worker said hello (it kills the worker then) reads "from outside clusterkit", as SIGTERM and SIGKILL do', async () => {
    const { id, text } = await killStarting('SIGHUP');
    // Before: "it was killed by SIGHUP before it was ready", sent to look for an error of its script.
    expect(text()).toContain(`worker ${id} could not start: it was killed by SIGHUP from outside clusterkit (kill -HUP, a terminal's hangup, or the worker's own code) before it was ready`);
    expect(text()).not.toContain('Check its output for the error');
  });

  it('[H273] a library ClusterWorker stopped by a SIGTERM during its _init is not announced ready: stopped by SIGTERM before it was ready', async () => {
    const { logger, text } = capturedLogger();
    const primary = testPrimary({ workerCount: 0, logger, restart: false }, 'workers/init-self-term.ts');
    const ready: number[] = [];
    primary.on('workerReady', ({ worker }) => ready.push(worker.id));
    await primary.start();
    const forked = primary.fork();
    // Before: it resolved (`$ready` once _init ended, the stop already under way), then "exited unexpectedly".
    await expect(forked).rejects.toMatchObject({ code: 'ERR_WORKER_STARTUP', outsideSignal: 'SIGTERM' });
    await until(() => text().includes('could not start'), 30_000, 'the failed start logged');
    expect(ready).toEqual([]);
    expect(text()).toMatch(/worker \d+ could not start: it was stopped by SIGTERM from outside clusterkit \(kill, a process manager, a container runtime, or the worker's own code\) before it was ready/);
    expect(text()).not.toContain('exited unexpectedly');
  });
});
