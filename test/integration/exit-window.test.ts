/**
 * The moment between a worker's exit and its verdict: the verdict waits for the end of its IPC
 * channel, up to 2 s when a process the worker started (in a session of its own) holds it.
 * Meanwhile the worker's process is gone, and status, metrics and a stop must say so: before,
 * `clusterkit status` said `2/2` and a stop then took the exited worker as one it stopped.
 * Each check runs in node:cluster's own 'exit' event of the worker, emitted after the pool's:
 * inside that window whatever the machine's load.
 */
import cluster, { type Worker } from 'node:cluster';
import { afterEach, describe, expect, it } from '@jest/globals';
import { formatWorkerCounts } from '../../src/cli/format-status.js';
import { clusterStatus } from '../../src/control/cluster-status.js';
import { formatClusterMetrics } from '../../src/primary/features/format-cluster-metrics.js';
import type { ShutdownReport } from '../../src/index.js';
import { onCleanup } from '../helpers/cleanup.js';
import { shutdownTrackedPrimaries, testPrimary } from '../helpers/primary.js';
import { onceEvent } from '../helpers/wait.js';

afterEach(() => shutdownTrackedPrimaries());

function killQuietly(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // gone already
  }
}

/** Calls `then` in node:cluster's 'exit' of the worker `id`: after the pool read the exit, before its verdict. */
function atExitOf<T>(id: number, then: () => T): Promise<T> {
  return new Promise((resolve, reject) => {
    const listener = (worker: Worker) => {
      if (worker.id !== id) return;
      cluster.off('exit', listener);
      try {
        resolve(then());
      } catch (error) {
        reject(error as Error);
      }
    };
    cluster.on('exit', listener);
    onCleanup(() => cluster.off('exit', listener));
  });
}

/** Two ready workers, the first holding a process of its own session on its channel, told to exit with code 1. */
async function exitWithHeldChannel() {
  const primary = testPrimary({ workerCount: 2, restart: false, silent: true });
  primary.on('error', () => {}); // the held channel's warning, 2 s after the exit
  const [worker] = await primary.start();
  const holder = await primary.send(worker!, 'lendChannel', { ownSession: true });
  onCleanup(() => killQuietly(holder));
  return { primary, worker: worker!, holder };
}

describe('a worker whose process exited while its verdict waits for its channel', () => {
  it('[H462] is not counted ready or running: status says 1/2 ready (1 exited), its slot is not up', async () => {
    const { primary, worker } = await exitWithHeldChannel();
    const seen = atExitOf(worker.id, () => {
      const status = clusterStatus(primary, { name: 'window', script: 'ready.ts', startedAt: Date.now(), targetWorkers: () => 2 });
      const metrics = formatClusterMetrics(primary.stats(), [], { bytes: 0, keys: 0, maxBytes: 1, maxKeys: 1 });
      return { status, metrics };
    });
    const verdict = onceEvent(primary, 'workerExit');
    void primary.send(worker, 'exitSoon', { code: 1 });
    const { status, metrics } = await seen;
    // Before: `2/2`, the dead worker `ready`, and `clusterkit_worker_up` 1 for its slot.
    expect(status.readyWorkers).toBe(1);
    expect(status.workers.find((row) => row.id === worker.id)?.state).toBe('exited');
    expect(formatWorkerCounts(status)).toBe('1/2 ready (1 exited)');
    expect(metrics).toMatch(/clusterkit_worker_up\{slot="0"[^}]*\} 0/);
    expect(metrics).toMatch(/clusterkit_workers\{state="ready"\} 1/);
    // Its verdict came after: a crash, not a stop.
    await expect(verdict).resolves.toMatchObject({ code: 1, expected: false });
  });

  it('[H462] a stop then does not count it stopped: it had exited on its own before', async () => {
    const { primary, worker } = await exitWithHeldChannel();
    const stopped = atExitOf(worker.id, () => primary.shutdown({ timeoutMs: 30_000 }));
    const verdict = onceEvent(primary, 'workerExit', undefined, (event: { worker: { id: number } }) => event.worker.id === worker.id);
    void primary.send(worker, 'exitSoon', { code: 1 });
    const report: ShutdownReport = await stopped;
    // Before: its exit was `expected` (the stop took it in), and it was in the stop's report.
    await expect(verdict).resolves.toMatchObject({ code: 1, expected: false });
    const ids = (list: readonly { id: number }[] | undefined) => (list ?? []).map((handle) => handle.id);
    expect(ids(report.graceful)).not.toContain(worker.id);
    expect(ids(report.failed)).not.toContain(worker.id);
    expect(ids(report.killed)).not.toContain(worker.id);
    expect(report.graceful).toHaveLength(1);
  });

  it('[H462] stopWorker() then rejects as for a worker that exited: there was nothing to stop', async () => {
    const { primary, worker } = await exitWithHeldChannel();
    const stopped = atExitOf(worker.id, () => primary.stopWorker(worker).then(() => 'resolved', (error: Error) => error));
    void primary.send(worker, 'exitSoon', { code: 1 });
    // Before: resolved 'failed', and its crash was told as a stop.
    await expect(stopped).resolves.toMatchObject({ code: 'ERR_WORKER_EXITED' });
  });
});
