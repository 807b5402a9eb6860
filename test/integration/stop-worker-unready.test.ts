/**
 * `stopWorker()` of a new worker before it is ready (hostile t84 #9 and #6, H743). A scale-up's
 * new worker: the stop removes its slot (the target one lower), and the scale resolves with the
 * workers that remain, saying so; before, it rejected "worker 3 was stopped before it was ready"
 * while it went on, ending at 3 workers, target 3, and said neither. A memory replacement: the
 * warning says stopWorker() stopped it and the old worker keeps serving; before, "failed to
 * start ... killed by SIGTERM ... Check its output for the error".
 */
import { describe, expect, it } from '@jest/globals';
import { InvalidStateError, type ClusterPrimary, type WorkerHandle } from '../../src/index.js';
import { testPrimary } from '../helpers/primary.js';
import { record, until } from '../helpers/wait.js';
import { recordingLogger } from '../helpers/captured-logger.js';

type StartEvent = 'workerFork' | 'workerOnline' | 'workerReady';

/** Stops the first worker `event` tells of once `isArmed()` (each time it is told of one), whose id is above `aboveId`. */
function stopFirstNew(primary: ClusterPrimary<any, any>, event: StartEvent, aboveId: number, isArmed: () => boolean = () => true): Promise<WorkerHandle> {
  return new Promise((resolve, reject) => {
    const onEvent = ({ worker }: { worker: WorkerHandle }) => {
      if (worker.id <= aboveId || !isArmed()) return;
      primary.off(event, onEvent);
      primary.stopWorker(worker).then(() => resolve(worker), reject);
    };
    primary.on(event, onEvent);
  });
}

describe('stopWorker() of a new worker not ready yet', () => {
  it.each(['workerFork', 'workerReady'] as const)('[H743] a scale-up whose new worker is stopped at its %s resolves with the workers that remain, its slot removed, and says so', async (event) => {
    const primary = testPrimary({ workerCount: 2 });
    const before = await primary.start();
    const completes = record<{ from: number; to: number; removedByStopWorker?: number }>(primary, 'scaleComplete');
    const stopped = stopFirstNew(primary, event, Math.max(...before.map((worker) => worker.id)));
    // Before (hostile t84 #9): rejected "worker 3 (pid ...) was stopped before it was ready." and carried on.
    const workers = await primary.scale(4);
    const gone = await stopped;
    expect(workers).toHaveLength(3);
    expect(workers).not.toContain(gone);
    // Resolved once the other new worker was ready, as a scale-up does.
    expect(workers.every((worker) => worker.state === 'ready')).toBe(true);
    expect(primary.targetWorkers).toBe(3);
    expect(completes.events).toEqual([expect.objectContaining({ from: 2, to: 4, removedByStopWorker: 1 })]);
    await until(() => gone.state === 'exited', 30_000, 'the stopped worker gone');
    expect(primary.workers).toHaveLength(3);
  });

  it.each([
    ['workerFork', 'before it was ready'],
    ['workerReady', 'as it became ready'],
  ] as const)('[H743][H755] a fork() whose new worker is stopped at its %s says it was stopWorker() (%s), the slot removed, and the target now', async (event, when) => {
    const primary = testPrimary({ workerCount: 1 });
    const [first] = await primary.start();
    const stopped = stopFirstNew(primary, event, first!.id);
    const failure = await primary.fork({ count: 2 }).then(
      () => undefined,
      (error: unknown) => error as Error,
    );
    const gone = await stopped;
    expect(failure).toBeInstanceOf(InvalidStateError);
    // Before (hostile t86 N6): "before it was ready" at its workerReady too, though it had become ready.
    expect(failure!.message).toBe(
      `worker ${gone.id} (pid ${gone.pid}) was stopped by stopWorker() ${when}: its slot is removed, so the target is now 2 workers, and nothing restarts it. Call fork() or scale() to add a worker again.`,
    );
    await until(() => primary.workers.length === 2 && primary.workers.every((worker) => worker.state === 'ready'), 30_000, 'the other new worker ready');
    expect(primary.targetWorkers).toBe(2);
  });

  it.each(['workerFork', 'workerReady'] as const)('[H743][H754] a memory replacement stopped at its %s is said to be stopped by stopWorker(), the old worker serving on, not a failed start, and no error event', async (event) => {
    // Each worker holds 100 MiB from its start: over 64 MiB three heartbeats after ready.
    const { logger, lines } = recordingLogger();
    const primary = testPrimary({ maxMemoryMb: 64, heartbeat: { intervalMs: 100, timeoutMs: 5_000 }, logger }, 'workers/memory-hog.ts');
    const errors = record<Error>(primary, 'error');
    const [old] = await primary.start();
    let isOver = false;
    primary.once('workerMemoryLimit', () => (isOver = true));
    const replacement = stopFirstNew(primary, event, old!.id, () => isOver);
    const said = () => lines.filter((line) => line.includes('its replacement for slot 0'));
    await until(() => said().length >= 1 || errors.events.length >= 1, 60_000, 'the stopped replacement said');
    const gone = await replacement;
    // Before (hostile t86 N5): also a ReloadError (ERR_RELOAD_FAILED) on 'error', as a failure.
    expect(errors.events).toEqual([]);
    // Before (hostile t84 #6): "... failed to start, so it keeps serving ... Fix what stops new workers from starting: Worker 3 (pid ...) was killed by SIGTERM before it was ready. Check its output for the error ...".
    expect(said()).toEqual([
      `warn Worker ${old!.id} is over the memory limit, but its replacement for slot 0 was stopped by stopWorker() before it took the slot over, so worker ${old!.id} keeps serving, still over the limit; the replacement is tried again once it stays over the limit for 3 more heartbeats (nothing failed: no code to fix).`,
    ]);
    expect(old!.state).toBe('ready');
    expect(gone.state).not.toBe('ready');
    expect(primary.targetWorkers).toBe(1);
  });

  it('[H755] a scale-up whose new worker is stopped from its workerReady listener logs it stopped while the scale started it, not before it was ready', async () => {
    const { logger, lines } = recordingLogger();
    const primary = testPrimary({ workerCount: 1, logger });
    const before = await primary.start();
    const stopped = stopFirstNew(primary, 'workerReady', Math.max(...before.map((worker) => worker.id)));
    await primary.scale(3);
    await stopped;
    // Before (hostile t86 N6): "... 1 new worker was stopped by stopWorker() before it was ready, removing its slot ...".
    expect(lines).toContain('info scaling from 1 to 3 workers complete, but 1 new worker was stopped by stopWorker() while the scale was starting it, removing its slot: the target is now 2');
  });
});
