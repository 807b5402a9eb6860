/**
 * After every test, passed or failed: release what its helpers created (timers, listeners,
 * processes, directories: see test/helpers/cleanup.ts), shut down the primaries it created and
 * check that no cluster worker is left. A leaked worker is a bug in the test or the library.
 * What a file's beforeAll created lives until the file ends.
 */
import cluster, { type Worker } from 'node:cluster';
import { readFileSync } from 'node:fs';
import { afterAll, afterEach, beforeEach, expect } from '@jest/globals';
import { beginTest, cleanUp, endTest } from '../helpers/cleanup.js';
import { shutdownTrackedPrimaries } from '../helpers/primary.js';
import { until } from '../helpers/wait.js';

beforeEach(() => beginTest());

afterEach(async () => {
  let left: string[] = [];
  try {
    cleanUp();
    await shutdownTrackedPrimaries();
    await until(() => Object.keys(cluster.workers ?? {}).length === 0, 30_000, 'no cluster worker left').catch(() => {});
    left = Object.values(cluster.workers ?? {}).map((worker) => describeLeftWorker(worker!));
    // Ended here, so that one leaked worker fails its own test only, not every later test of
    // this Jest worker (each would find it in cluster.workers for the rest of the run).
    for (const worker of Object.values(cluster.workers ?? {})) worker!.process.kill('SIGKILL');
    await until(() => Object.keys(cluster.workers ?? {}).length === 0, 30_000, 'the leaked workers gone').catch(() => {});
    cleanUp();
  } finally {
    endTest();
  }
  expect(left).toEqual([]);
});

/** What a worker left after its test was doing: enough to tell a leak of the library from one of the test. */
function describeLeftWorker(worker: Worker): string {
  const pid = worker.process.pid;
  let status: string;
  try {
    status = readFileSync(`/proc/${pid}/status`, 'utf8')
      .split('\n')
      .filter((line) => /^(State|PPid|Threads):/.test(line))
      .join(', ');
  } catch (error) {
    status = `no /proc entry (${(error as NodeJS.ErrnoException).code})`;
  }
  const { exitCode, signalCode } = worker.process;
  return `worker ${worker.id} (pid ${pid}): state ${(worker as Worker & { state?: string }).state}, connected ${worker.isConnected()}, dead ${worker.isDead()}, exit ${exitCode ?? signalCode ?? 'none'}; ${status}`;
}

afterAll(async () => {
  cleanUp('file');
  await shutdownTrackedPrimaries();
  cleanUp('file');
});
