/**
 * `stopWorker()` of a reload's replacement before it took its slot over (hostile t83 #1, H724):
 * the replacement goes alone, the reload fails saying so, and the slot keeps its worker. Before,
 * the stop retired the slot: the reload said "a scale-down removed its slot", the old worker
 * served on outside the pool (never reloaded again, never stopped by a scale), and the target
 * fell by one.
 */
import { describe, expect, it } from '@jest/globals';
import type { ClusterPrimary, StopOutcome, WorkerHandle } from '../../src/index.js';
import { testPrimary } from '../helpers/primary.js';
import { until } from '../helpers/wait.js';
import { recordingLogger } from '../helpers/captured-logger.js';

/** Stops the first worker `event` tells of from now on; resolves with it and its stop's outcome. */
function stopFirst(primary: ClusterPrimary<any, any>, event: 'workerFork' | 'workerReady'): Promise<{ worker: WorkerHandle; outcome: StopOutcome }> {
  return new Promise((resolve, reject) => {
    const onEvent = ({ worker }: { worker: WorkerHandle }) => {
      primary.off(event, onEvent);
      primary.stopWorker(worker).then((outcome) => resolve({ worker, outcome }), reject);
    };
    primary.on(event, onEvent);
  });
}

describe('stopWorker() of a reload replacement', () => {
  it.each(['workerFork', 'workerReady'] as const)('[H724] at its %s: the reload fails saying so, the slot keeps its worker, and the next reload replaces every worker', async (event) => {
    const primary = testPrimary({ workerCount: 2 });
    const before = await primary.start();
    const stopped = stopFirst(primary, event);
    const failure = await primary.reload().then(
      () => undefined,
      (error: unknown) => error as Error,
    );
    const { worker, outcome } = await stopped;
    expect(outcome).toBe('graceful');
    expect(failure).toMatchObject({ name: 'ReloadError', code: 'ERR_RELOAD_FAILED' });
    expect(failure!.message).toContain(`The replacement for worker slot 0, worker ${worker.id} (pid ${worker.pid})`);
    expect(failure!.message).toContain('was stopped by stopWorker() before it took the slot over, so the reload stopped; 0 of 2 workers were replaced; slot 0 keeps worker');
    // Every worker is the pool's, and the target stands.
    await until(() => primary.workers.every((handle) => handle.state === 'ready'), 30_000, 'the workers ready');
    expect(primary.targetWorkers).toBe(2);
    expect(primary.workers.map((handle) => handle.id).sort()).toEqual(before.map((handle) => handle.id).sort());
    const report = await primary.reload();
    expect(report).toMatchObject({ replaced: 2 });
    expect(primary.workers.filter((handle) => before.includes(handle))).toEqual([]);
    expect(primary.workers).toHaveLength(2);
  });

  it('[H757] a slot whose own worker stopWorker() removed during a reload is said removed by stopWorker(), not by a scale-down', async () => {
    const { logger, lines } = recordingLogger();
    const primary = testPrimary({ workerCount: 2, logger });
    const before = await primary.start();
    const slotOne = before.find((worker) => worker.slot === 1)!;
    // As slot 0's replacement is forked, slot 1's own worker goes: its slot with it, before its turn.
    let stopping: Promise<StopOutcome> | undefined;
    const onFork = () => {
      primary.off('workerFork', onFork);
      stopping = primary.stopWorker(slotOne);
    };
    primary.on('workerFork', onFork);
    const report = await primary.reload();
    await stopping;
    expect(report).toMatchObject({ replaced: 1, retired: 1, retiredByStopWorker: 1 });
    // Before (hostile t84): "rolling reload complete: 1 worker replaced, 1 not replaced: a scale-down removed its slot".
    expect(lines).toContainEqual(expect.stringMatching(/^info rolling reload complete: 1 worker replaced, 1 not replaced: stopWorker\(\) removed its slot$/));
    expect(primary.targetWorkers).toBe(1);
  });
});
