/**
 * Stops that code in the worker ends itself, in ways clusterkit's code in the worker cannot
 * see happen: a SIGKILL or an abort() of its own as the stop begins, and an exit that skips
 * Node's 'exit' event (`process.reallyExit(0)`, what a native addon's `exit(0)` does). The
 * reports must say what happened: a failed stop, with the requests its clients lost counted,
 * and never a request that got its answer. Real workers, real HTTP clients, real signals; the
 * heartbeat is left at a minute, so no heartbeat answer knows of the requests.
 */
import { describe, expect, it } from '@jest/globals';
import { recordClusterEvents } from '../../src/control/record-events.js';
import type { WorkerHandle } from '../../src/index.js';
import { capturedLogger } from '../helpers/captured-logger.js';
import { getStatus as get } from '../helpers/http.js';
import { freePort } from '../helpers/ports.js';
import { testPrimary } from '../helpers/primary.js';
import { onceEvent, record, until } from '../helpers/wait.js';

/** A worker of slow-http.ts with `env`, and `paths` requested of it, each in flight (announced) before this resolves. */
async function workerServing(env: Record<string, string>, paths: string[]) {
  const { logger, text } = capturedLogger();
  const port = await freePort();
  const primary = testPrimary({ env: { PORT: String(port), ...env }, logger, heartbeat: { intervalMs: 60_000, timeoutMs: 120_000 } }, 'workers/slow-http.ts');
  const [worker] = await primary.start();
  const arrived = record(primary, 'workerMessage');
  const requests = paths.map((path) => get(port, path));
  await until(() => arrived.events.length === paths.length, 20_000, 'the requests in flight');
  arrived.stop();
  return { primary, worker: worker!, requests, text };
}

describe('stops that code in the worker ends itself', () => {
  it.each(['SIGKILL', 'abort'])('[H106] a worker that ends itself (%s) in its shutdown listener, as its stop begins: failed, its 3 open requests counted as cut, not 0', async (how) => {
    const { primary, worker, requests } = await workerServing({ DIE_ON_SHUTDOWN: how }, ['/?ms=600000', '/?ms=600000', '/?ms=600000']);
    const report = await primary.shutdown({ timeoutMs: 20_000 });
    // Before: requestsCut 0, the count of a heartbeat answer that never saw them.
    expect(report).toEqual({ graceful: [], failed: [worker], killed: [], requestsCut: 3 });
    expect(worker.signal).toBe(how === 'abort' ? 'SIGABRT' : 'SIGKILL');
    expect(await Promise.all(requests)).toEqual(['ECONNRESET', 'ECONNRESET', 'ECONNRESET']);
  });

  it('[H106] requests answered since the last heartbeat answer are not counted: 1 cut, not the 3 the heartbeat saw', async () => {
    const { logger } = capturedLogger();
    const port = await freePort();
    // A heartbeat answer (every 3 s) sees the 3 requests: 2 of them take 4 s, then the stop comes at once.
    const primary = testPrimary({ env: { PORT: String(port), DIE_ON_SHUTDOWN: 'SIGKILL' }, logger, heartbeat: { intervalMs: 3_000, timeoutMs: 120_000 } }, 'workers/slow-http.ts');
    const [worker] = await primary.start();
    const arrived = record(primary, 'workerMessage');
    const open = get(port, '/?ms=600000');
    const answered = [get(port, '/?ms=4000'), get(port, '/?ms=4000')];
    await until(() => arrived.events.length === 3, 20_000, 'the requests in flight');
    arrived.stop();
    await until(() => primary.stats().find((row) => row.id === worker!.id)?.openRequests === 3, 20_000, 'a heartbeat answer with the 3 requests');
    expect(await Promise.all(answered)).toEqual([200, 200]);
    const report = await primary.shutdown({ timeoutMs: 20_000 });
    // Before: 3, the count of the last heartbeat answer, though 2 of them got their answers.
    expect(report).toEqual({ graceful: [], failed: [worker], killed: [], requestsCut: 1 });
    await expect(open).resolves.toBe('ECONNRESET');
  });

  it("[H107] a process.reallyExit(0) in a shutdown listener with 2 requests open: failed, both counted as cut and told, not a graceful stop", async () => {
    const { primary, worker, requests, text } = await workerServing({ DIE_ON_SHUTDOWN: 'reallyExit' }, ['/?ms=600000', '/?ms=600000']);
    const cut = onceEvent<{ worker: WorkerHandle; openRequests: number; reason: string }>(primary, 'workerRequestsCut', 20_000);
    const exit = onceEvent<{ code: number | null; isStopUnfinished: boolean }>(primary, 'workerExit', 20_000);
    const { log, stop } = recordClusterEvents(primary); // what clusterkit status and the dashboard show
    const report = await primary.shutdown({ timeoutMs: 20_000 });
    // Before: graceful, requestsCut 0, while both clients were reset.
    expect(report).toEqual({ graceful: [], failed: [worker], killed: [], requestsCut: 2 });
    await expect(exit).resolves.toMatchObject({ code: 0, isStopUnfinished: true });
    await expect(cut).resolves.toMatchObject({ worker, openRequests: 2, reason: 'exit' });
    expect(await Promise.all(requests)).toEqual(['ECONNRESET', 'ECONNRESET']);
    expect(text()).toContain(`[t] WARN worker ${worker.id} exited with 2 requests still open: they were cut off`);
    expect(text()).toContain(`[t] WARN worker ${worker.id} did not stop cleanly: it exited with code 0 before its stop finished, in a way that skips Node's 'exit' event`);
    expect(text()).not.toContain(`worker ${worker.id} stopped`);
    expect(log.read().events).toContainEqual(expect.objectContaining({ type: 'workerExit', workerId: worker.id, code: 0, stopUnfinished: true }));
    stop();
  });

  it('[H107] a process.reallyExit(0) in _destroy, nothing open: stopWorker() says failed, not graceful; nothing counted as cut', async () => {
    const { primary, worker, requests } = await workerServing({ DIE_IN_DESTROY: 'reallyExit' }, ['/?ms=50']);
    const cuts = record(primary, 'workerRequestsCut');
    // Before: 'graceful'.
    await expect(primary.stopWorker(worker, { timeoutMs: 20_000 })).resolves.toBe('failed');
    expect(await Promise.all(requests)).toEqual([200]);
    expect(cuts.events).toEqual([]);
    cuts.stop();
  });
});
