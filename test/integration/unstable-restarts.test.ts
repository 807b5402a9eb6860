import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import type { CrashLoopEvent, WorkerCrashEvent, WorkerRestartEvent } from '../../src/index.js';
import { freePort } from '../helpers/ports.js';
import { testPrimary } from '../helpers/primary.js';
import { onCleanup } from '../helpers/cleanup.js';
import { capturedLogger } from '../helpers/captured-logger.js';
import { kPatienceMs, onceEvent, record, until } from '../helpers/wait.js';

describe('unstable restarts of workers that served (H366)', () => {
  it('[H366] backs off a slot whose workers serve and crash within the startup window, never gives it up, and resets once a worker stays ready past it', async () => {
    // The platform tester's poison build under traffic: every worker serves a request and dies
    // right after ready. Before: each restart came after initialMs (attempt 1) forever, about 3
    // forks a second per slot. The limits are tight on purpose: none of them may trip.
    const directory = mkdtempSync(join(tmpdir(), 'clusterkit-poison-'));
    onCleanup(() => rmSync(directory, { recursive: true, force: true }));
    const poisonFile = join(directory, 'poison');
    writeFileSync(poisonFile, 'bad build\n');
    const port = await freePort();
    const startupWindowMs = 3_000;
    const { logger, text } = capturedLogger();
    const primary = testPrimary(
      {
        logger,
        env: { PORT: String(port), POISON_FILE: poisonFile },
        // stableAfterMs as the window: the fixed build's worker below resets the backoff (H449).
        restart: { backoff: { initialMs: 20, factor: 2, maxMs: 320 }, startupWindowMs, stableAfterMs: startupWindowMs, maxRestarts: 2, maxStartupFailures: 2 },
      },
      'workers/poison-build.ts',
    );
    const crashes = record<WorkerCrashEvent>(primary, 'workerCrash');
    const restarts = record<WorkerRestartEvent>(primary, 'workerRestart');
    const crashLoops = record<CrashLoopEvent>(primary, 'crashLoop');
    await primary.start();
    await until(() => restarts.events.length >= 7 || crashLoops.events.length > 0, 2 * kPatienceMs, '7 restarts of the poison build');
    // The build is fixed: the next worker stays up.
    rmSync(poisonFile);
    expect(crashLoops.events).toEqual([]);
    const unstable = crashes.events.slice(0, 7);
    expect(unstable.every((event) => event.hasServed && !event.isStartupFailure && event.code === 3)).toBe(true);
    expect(unstable.map((event) => event.unstableCrashes)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    // 20 ms doubling, capped at maxMs: the crash says the wait, the restart does it.
    expect(unstable.map((event) => event.restartDelayMs)).toEqual([20, 40, 80, 160, 320, 320, 320]);
    expect(restarts.events.slice(0, 7).map((event) => [event.delayMs, event.attempt])).toEqual([
      [20, 1],
      [40, 2],
      [80, 3],
      [160, 4],
      [320, 5],
      [320, 6],
      [320, 7],
    ]);
    expect(text()).toMatch(
      /WARN worker \d+ crashed \(it exited with code \d+\) \d+(\.\d)? m?s after it became ready; it had served, so it is no failed start and counts toward no limit; restarting in 160 ms: 4 crashes within 3 s of ready in a row \(restart\.startupWindowMs\), the backoff doubling until a worker stays ready longer[^\n]* workerId=\d+ workerPid=\d+ slot=0 [^\n]*restartDelayMs=160 restartAttempt=4 unstableCrashes=4/,
    );
    expect(text()).toMatch(/restarting in 20 ms: 1 crash within 3 s of ready \(restart\.startupWindowMs\)/);

    // A worker of the fixed build stays ready past the window and serves; its crash restarts
    // after initialMs again, and is no unstable crash.
    await until(() => primary.workers.some((worker) => worker.state === 'ready' && Date.now() - worker.readyAt! > startupWindowMs + 200), 2 * kPatienceMs, 'a worker ready past the startup window');
    const stable = primary.workers[0]!;
    await expect(primary.send(stable, 'echo', 'served')).resolves.toBe('served');
    const crashesBefore = crashes.events.length;
    const restartsBefore = restarts.events.length;
    primary.notify(stable, 'exit', { code: 3 });
    await until(() => restarts.events.some((event) => event.previous === stable), kPatienceMs, 'the stable worker restarted');
    const stableCrash = crashes.events.find((event) => event.worker === stable)!;
    expect(stableCrash).toMatchObject({ hasServed: true, isStartupFailure: false, restartDelayMs: 20 });
    expect(stableCrash.unstableCrashes).toBeUndefined();
    expect(restarts.events.find((event) => event.previous === stable)).toMatchObject({ delayMs: 20, attempt: 1 });
    expect(crashes.events.length).toBe(crashesBefore + 1);
    expect(restarts.events.length).toBe(restartsBefore + 1);
    expect(text()).toContain(`WARN worker ${stable.id} crashed`);
    expect(text()).toMatch(new RegExp(`WARN worker ${stable.id} crashed [^\\n]*; it had served, so it is no failed start and its restart counts toward no limit workerId=`));
    expect(crashLoops.events).toEqual([]);
    await until(() => primary.workers.length === 1 && primary.workers[0]!.state === 'ready', kPatienceMs, 'the slot serving again');
  });

  it('[H449] backs off a slot whose workers serve and crash past the startup window but before stableAfterMs, and says the wait', async () => {
    // The ops tester's build that crashes 1.5 s after ready under traffic: past the startup
    // window, so no unstable crash, and before: a restart after initialMs (attempt 1) every time,
    // forever. Here each worker serves (a request message), stays ready past a 200 ms window and
    // is told to exit with code 3; stableAfterMs is a minute, so none of them resets the backoff.
    const startupWindowMs = 200;
    const { logger, text } = capturedLogger();
    const primary = testPrimary({ logger, restart: { backoff: { initialMs: 20, factor: 2, maxMs: 320 }, startupWindowMs, stableAfterMs: 60_000, maxRestarts: 2, maxStartupFailures: 2 } });
    const crashes = record<WorkerCrashEvent>(primary, 'workerCrash');
    const restarts = record<WorkerRestartEvent>(primary, 'workerRestart');
    const crashLoops = record<CrashLoopEvent>(primary, 'crashLoop');
    const [first] = await primary.start();
    let worker = first!;
    const crashed: number[] = [];
    for (let i = 0; i < 5; i++) {
      await until(() => worker.state === 'ready' && Date.now() - worker.readyAt! > startupWindowMs + 100, kPatienceMs, `worker ${i + 1} ready past the startup window`);
      await expect(primary.send(worker, 'echo', 'served')).resolves.toBe('served');
      const next = onceEvent<WorkerRestartEvent>(primary, 'workerRestart', kPatienceMs, (event) => event.previous === worker);
      primary.notify(worker, 'exit', { code: 3 });
      crashed.push(worker.id);
      worker = (await next).worker;
    }
    expect(crashLoops.events).toEqual([]);
    const served = crashes.events.slice(0, 5);
    expect(served.map((event) => event.worker.id)).toEqual(crashed);
    expect(served.every((event) => event.hasServed && !event.isStartupFailure && event.code === 3 && event.readyMs >= startupWindowMs && event.unstableCrashes === undefined)).toBe(true);
    // The slot's backoff grows: before, [20, 1] five times.
    expect(served.map((event) => [event.restartDelayMs, event.restartAttempt])).toEqual([
      [20, 1],
      [40, 2],
      [80, 3],
      [160, 4],
      [320, 5],
    ]);
    expect(restarts.events.slice(0, 5).map((event) => [event.delayMs, event.attempt])).toEqual([
      [20, 1],
      [40, 2],
      [80, 3],
      [160, 4],
      [320, 5],
    ]);
    // The first restart waits initialMs, and its line says as before; a grown one says the wait and what resets it.
    expect(text()).toMatch(new RegExp(`WARN worker ${crashed[0]} crashed [^\\n]*; it had served, so it is no failed start and its restart counts toward no limit workerId=`));
    expect(text()).toMatch(
      new RegExp(
        `WARN worker ${crashed[2]} crashed \\(it exited with code \\d+\\) \\d+(\\.\\d)? m?s after it became ready; it had served, so it is no failed start and counts toward no limit; restarting in 80 ms: 3 restarts in a row with no worker ready 60 s \\(restart\\.stableAfterMs\\), the backoff doubling until one stays ready that long workerId=${crashed[2]} [^\\n]*restartDelayMs=80 restartAttempt=3`,
      ),
    );
    expect(text()).not.toContain('within 200 ms of ready');
  });
});
