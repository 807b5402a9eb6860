import { describe, expect, it } from '@jest/globals';
import { ShutdownInProgressError, type ReloadReport, type WorkerHandle } from '../../src/index.js';
import { testPrimary } from '../helpers/primary.js';
import { kPatienceMs, record, until } from '../helpers/wait.js';

/** The outcome of `promise`, read once it settled (a test waits for that with a deadline, never forever). */
function outcomeOf<T>(promise: Promise<T>): { status: 'pending' | 'fulfilled' | 'rejected'; value?: T; reason?: unknown } {
  const outcome: { status: 'pending' | 'fulfilled' | 'rejected'; value?: T; reason?: unknown } = { status: 'pending' };
  promise.then(
    (value) => Object.assign(outcome, { status: 'fulfilled', value }),
    (reason: unknown) => Object.assign(outcome, { status: 'rejected', reason }),
  );
  return outcome;
}

/** Waits until every outcome settled, at most kPatienceMs (a hang fails the test, naming it). */
async function settled(what: string, ...outcomes: Array<{ status: string }>): Promise<void> {
  await until(() => outcomes.every((outcome) => outcome.status !== 'pending'), kPatienceMs, `${what} settled`);
}

const slotsOf = (workers: readonly WorkerHandle[]): number[] => workers.map((worker) => worker.slot).sort((a, b) => a - b);

describe("scale(), reload() and shutdown() called from the primary's own event listeners (H405, H406, H407)", () => {
  it('[H405] shutdown() from a scale listener: the scale-up rejects with ShutdownInProgressError (before, it never settled), the shutdown resolves, no new worker is forked, the target is 0 once stopped', async () => {
    const primary = testPrimary({ workerCount: 2 });
    await primary.start();
    const forks = record(primary, 'workerFork');
    let inner: ReturnType<typeof outcomeOf<unknown>> | undefined;
    primary.once('scale', () => {
      inner = outcomeOf(primary.shutdown());
    });
    const scale = outcomeOf(primary.scale(4));
    expect(inner).toBeDefined();
    await settled('scale(4) and the shutdown() of its listener', scale, inner!);
    expect(scale.status).toBe('rejected');
    expect(scale.reason).toBeInstanceOf(ShutdownInProgressError);
    expect((scale.reason as Error).message).toContain('a stop came during the scale from 2 to 4 workers and cut it short: none of the 2 new workers had been started');
    expect(inner!.status).toBe('fulfilled');
    expect(forks.events).toHaveLength(0);
    expect(primary.state).toBe('stopped');
    expect(primary.workers).toHaveLength(0);
    expect(primary.targetWorkers).toBe(0);
  });

  it("[H405] shutdown() from a 'shutdown' listener gets the shutdown under way's promise: one 'shutdown' event, one shutdown", async () => {
    const primary = testPrimary({ workerCount: 1 });
    await primary.start();
    const starts = record(primary, 'shutdown');
    const completes = record(primary, 'shutdownComplete');
    let inner: Promise<unknown> | undefined;
    primary.once('shutdown', () => {
      inner = primary.shutdown();
    });
    const outer = primary.shutdown();
    expect(inner).toBe(outer);
    await outer;
    expect(starts.events).toHaveLength(1);
    expect(completes.events).toHaveLength(1);
  });

  it('[H406] scale(1) from the scale listener of scale(4) ends at 1 worker in slot 0, as the same calls a tick apart do (before, 3 workers in slots 0, 2, 3), and both resolve with it', async () => {
    const primary = testPrimary({ workerCount: 2 });
    await primary.start();
    const scales = record<{ from: number; to: number }>(primary, 'scale');
    let inner: ReturnType<typeof outcomeOf<WorkerHandle[]>> | undefined;
    primary.once('scale', () => {
      inner = outcomeOf(primary.scale(1));
    });
    const outer = outcomeOf(primary.scale(4));
    await settled('scale(4) and the scale(1) of its listener', outer, inner!);
    expect(outer.status).toBe('fulfilled');
    expect(inner!.status).toBe('fulfilled');
    // The second scale counts from the target the first one recorded.
    expect(scales.events).toEqual([
      { from: 2, to: 4 },
      { from: 4, to: 1 },
    ]);
    expect(slotsOf(outer.value!)).toEqual([0]);
    expect(slotsOf(inner!.value!)).toEqual([0]);
    expect(primary.targetWorkers).toBe(1);
    expect(slotsOf(primary.workers)).toEqual([0]);
  });

  it('[H406] scale(0) from the scale listener of scale(4) leaves no worker (before, 2 ran while both calls said ok)', async () => {
    const primary = testPrimary({ workerCount: 2 });
    await primary.start();
    let inner: ReturnType<typeof outcomeOf<WorkerHandle[]>> | undefined;
    primary.once('scale', () => {
      inner = outcomeOf(primary.scale(0));
    });
    const outer = outcomeOf(primary.scale(4));
    await settled('scale(4) and the scale(0) of its listener', outer, inner!);
    expect(outer.status).toBe('fulfilled');
    expect(inner!.status).toBe('fulfilled');
    expect(inner!.value).toEqual([]);
    expect(primary.targetWorkers).toBe(0);
    expect(primary.workers).toHaveLength(0);
  });

  it('[H406] scale(3) from the scale listener of the scale-down scale(1) ends at 3 workers, the last request (before, the scale-up counted from the target of before the scale-down: 2 workers ran)', async () => {
    const primary = testPrimary({ workerCount: 2 });
    await primary.start();
    const scales = record<{ from: number; to: number }>(primary, 'scale');
    let inner: ReturnType<typeof outcomeOf<WorkerHandle[]>> | undefined;
    primary.once('scale', () => {
      inner = outcomeOf(primary.scale(3));
    });
    const outer = outcomeOf(primary.scale(1));
    await settled('scale(1) and the scale(3) of its listener', outer, inner!);
    expect(outer.status).toBe('fulfilled');
    expect(inner!.status).toBe('fulfilled');
    expect(scales.events).toEqual([
      { from: 2, to: 1 },
      { from: 1, to: 3 },
    ]);
    expect(inner!.value).toHaveLength(3);
    expect(primary.targetWorkers).toBe(3);
    await until(() => primary.workers.length === 3, kPatienceMs, 'the scaled-away worker gone');
  });

  it('[H407] reload() from a reload listener joins the reload under way (none of its replacements forked yet): one reload, each slot replaced once, both promises resolve', async () => {
    const primary = testPrimary({ workerCount: 2 });
    const initial = await primary.start();
    const starts = record(primary, 'reload');
    const joined = record(primary, 'reloadJoined');
    const completes = record(primary, 'reloadComplete');
    const forks = record(primary, 'workerFork');
    let inner: ReturnType<typeof outcomeOf<ReloadReport>> | undefined;
    primary.once('reload', () => {
      inner = outcomeOf(primary.reload());
    });
    const outer = outcomeOf(primary.reload());
    await settled('reload() and the reload() of its listener', outer, inner!);
    expect(outer.status).toBe('fulfilled');
    expect(inner!.status).toBe('fulfilled');
    expect(starts.events).toHaveLength(1);
    expect(joined.events).toEqual([{ queued: false }]);
    expect(completes.events).toHaveLength(1);
    expect(completes.events[0]).toMatchObject({ replaced: 2 });
    expect(slotsOf(completes.events[0].stopped.graceful)).toEqual([0, 1]);
    expect(completes.events[0].stopped.graceful.map((worker: WorkerHandle) => worker.id).sort()).toEqual(initial.map((worker) => worker.id).sort());
    expect(forks.events).toHaveLength(2);
    expect(slotsOf(primary.workers)).toEqual([0, 1]);
  });
});
