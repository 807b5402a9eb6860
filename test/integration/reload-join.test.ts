import { writeFileSync } from 'node:fs';
import { describe, expect, it } from '@jest/globals';
import { ReloadError, ShutdownInProgressError, type WorkerHandle } from '../../src/index.js';
import { testPrimary } from '../helpers/primary.js';
import { kPatienceMs, onceEvent, record, until } from '../helpers/wait.js';
import { capturedLogger } from '../helpers/captured-logger.js';
import { onCleanup } from '../helpers/cleanup.js';
import { behaviourFile } from '../helpers/behaviour-file.js';

/** Long enough that the final wait of a reload is still going on when the test asks for another. */
const kWindowMs = 3_000;

describe('a reload asked for while one is under way (H374)', () => {
  it('[H374] a reload asked for once the reload under way forked a replacement is queued, not joined: that slot would keep the code of before (retest t38: slot 0 on v1, slot 1 on v2)', async () => {
    const primary = testPrimary({ workerCount: 2 });
    await primary.start();
    const joined = record(primary, 'reloadJoined');
    const forks = record<{ worker: WorkerHandle }>(primary, 'workerFork');
    const first = primary.reload();
    // The first slot's replacement is forked synchronously; the second slot's is still to come.
    expect(forks.events).toHaveLength(1);
    const second = primary.reload();
    expect(second).not.toBe(first);
    expect(joined.events).toEqual([{ queued: true }]);
    await first;
    await second;
    // Two reloads: every slot replaced twice, the second time after the request.
    expect(forks.events).toHaveLength(4);
  });

  it('[H374] a reload asked for once every replacement was forked (the final startup-window wait) is queued: a second reload follows, with new pids, and later requests join it', async () => {
    const { logger, text } = capturedLogger();
    const primary = testPrimary({ workerCount: 2, logger, restart: { startupWindowMs: kWindowMs } });
    const initial = await primary.start();
    const joined = record(primary, 'reloadJoined');
    const starts = record(primary, 'reload');
    const completes = record(primary, 'reloadComplete');
    const waiting = onceEvent<{ waitMs: number; windowMs: number }>(primary, 'reloadWaiting');
    const first = primary.reload();
    const wait = await waiting;
    expect(wait.windowMs).toBe(kWindowMs);
    expect(wait.waitMs).toBeGreaterThan(0);
    expect(wait.waitMs).toBeLessThanOrEqual(kWindowMs);
    expect(text()).toMatch(/rolling reload: the old workers have stopped; waiting .+ more, until the new workers have stayed up for the 3 s startup window \(restart\.startupWindowMs\)/);
    const replacedByFirst = primary.workers.map((worker) => worker.pid);
    expect(replacedByFirst.some((pid) => initial.some((worker) => worker.pid === pid))).toBe(false);
    // Every replacement of the first reload runs already: joining it would load nothing new.
    const queued = primary.reload();
    expect(queued).not.toBe(first);
    // A request while one is queued joins the queued one.
    const later = primary.reload();
    expect(later).toBe(queued);
    expect(joined.events).toEqual([{ queued: true }, { queued: true }]);
    expect(text()).toContain('queued after it (one more rolling reload starts when it ends');
    await first;
    await queued;
    expect(starts.events).toHaveLength(2);
    expect(completes.events).toHaveLength(2);
    expect(completes.events[1]).toMatchObject({ replaced: 2 });
    // The queued reload's workers are new processes, forked after it was asked for.
    const afterQueued = primary.workers.map((worker) => worker.pid);
    expect(afterQueued).toHaveLength(2);
    expect(afterQueued.some((pid) => replacedByFirst.includes(pid))).toBe(false);
    // Nothing queued any more: the next request starts a reload of its own.
    const own = onceEvent(primary, 'reload');
    const third = primary.reload();
    await expect(own).resolves.toMatchObject({ workers: 2 });
    await third;
    expect(joined.events).toHaveLength(2);
  });

  it('[H374] a reload asked for once the last slot\'s replacement was forked is queued too', async () => {
    const primary = testPrimary({ workerCount: 2 });
    await primary.start();
    const joined = record(primary, 'reloadJoined');
    const starts = record(primary, 'reload');
    const forks = record<{ worker: WorkerHandle }>(primary, 'workerFork');
    const lastForked = onceEvent(primary, 'workerFork', kPatienceMs, () => forks.events.length >= 2);
    const first = primary.reload();
    await lastForked;
    const queued = primary.reload();
    expect(queued).not.toBe(first);
    expect(joined.events).toEqual([{ queued: true }]);
    await Promise.all([first, queued]);
    expect(starts.events).toHaveLength(2);
    expect(forks.events).toHaveLength(4);
  });

  it('[H374] a shutdown while a reload is queued rejects it with ShutdownInProgressError: it never starts', async () => {
    const primary = testPrimary({ workerCount: 1, restart: { startupWindowMs: 60_000 } });
    await primary.start();
    const starts = record(primary, 'reload');
    const waiting = onceEvent(primary, 'reloadWaiting');
    const first = primary.reload().catch((error: unknown) => error);
    await waiting;
    const queued = primary.reload().catch((error: unknown) => error);
    await primary.shutdown();
    const error = await queued;
    expect(error).toBeInstanceOf(ShutdownInProgressError);
    expect((error as Error).message).toMatch(/began shutting down while this reload waited for the one under way to end.*it never started/);
    expect(await first).toMatchObject({ isShutdown: true });
    expect(starts.events).toHaveLength(1);
  });
});

describe('the crash-loop breaker after a reload whose replacement crashed (H379)', () => {
  it('[H379] a slot whose worker came up after failed starts, then ran past the startup window, counts its reload replacement\'s crash as a first failed start, not a third', async () => {
    const behaviour = behaviourFile('throw');
    // Wide enough that the build's crash 150 ms after ready falls in it on a loaded machine too
    // (with 600 ms, under load the crash came after the window: the reload had succeeded).
    const startupWindowMs = 4_000;
    const primary = testPrimary(
      { workerCount: 1, env: { INIT_BEHAVIOUR_FILE: behaviour }, readyTimeoutMs: 30_000, restart: { backoff: { initialMs: 50 }, startupWindowMs } },
      'workers/init-from-file.ts',
    );
    const crashes = record<{ worker: WorkerHandle; isStartupFailure: boolean; restartDelayMs?: number }>(primary, 'workerCrash');
    // Two failed starts in a row (of 3 allowed), then the slot comes up: the fix is deployed.
    const onCrash = (): void => {
      if (crashes.events.length === 2) writeFileSync(behaviour, 'ready');
    };
    primary.on('workerCrash', onCrash);
    onCleanup(() => primary.off('workerCrash', onCrash));
    const [worker] = await primary.start();
    expect(crashes.events).toHaveLength(2);
    expect(crashes.events.every((event) => event.isStartupFailure)).toBe(true);
    // It runs past the startup window: it started, as a crash of it would count (no failed start).
    await until(() => worker!.readyAt !== undefined && Date.now() - worker!.readyAt >= startupWindowMs + 100, kPatienceMs, 'the worker ready past the startup window');
    // The next build crashes 150 ms after ready, with no traffic: a failed start, each time.
    writeFileSync(behaviour, 'crash-after-ready');
    const forks = record<{ worker: WorkerHandle }>(primary, 'workerFork');
    const givenUp = onceEvent<{ slot: number; failures: number }>(primary, 'crashLoop');
    await expect(primary.reload()).rejects.toBeInstanceOf(ReloadError);
    const { failures } = await givenUp;
    // The replacement's crash is the first failed start of the new build (before: the third, given
    // up at once with no restart); the slot restarts twice, then gives up as a start would.
    expect(failures).toBe(3);
    const afterReload = crashes.events.slice(2);
    expect(afterReload).toHaveLength(3);
    expect(afterReload[0]!.restartDelayMs).toBeGreaterThan(0);
    // The replacement and the slot's two restarts.
    expect(forks.events).toHaveLength(3);
  });
});
