import { describe, expect, it } from '@jest/globals';
import { CrashLoopError, RemoteError, WorkerExitedError, WorkerStartupError, type CrashLoopEvent, type WorkerRestartEvent } from '../../src/index.js';
import { get } from '../helpers/http.js';
import { freePort } from '../helpers/ports.js';
import { testPrimary, workerOutput } from '../helpers/primary.js';
import { startHarness } from '../helpers/harness.js';
import { onCleanup } from '../helpers/cleanup.js';
import { kPatienceMs, onceEvent, record, until } from '../helpers/wait.js';

describe('restart policy', () => {
  it('[F3] SIGKILL of a busy worker: pending requests reject at once, the replacement serves', async () => {
    const primary = testPrimary({ workerCount: 2 });
    const [busy, other] = await primary.start();
    const pending = Array.from({ length: 50 }, () => primary.send(busy!, 'slow', { ms: 30_000 }).catch((e: unknown) => e));
    await primary.send(busy!, 'echo', 'queued behind the slow ones');
    const crash = onceEvent(primary, 'workerCrash');
    const restart = onceEvent<WorkerRestartEvent>(primary, 'workerRestart');
    const replacementReady = onceEvent(primary, 'workerReady');
    process.kill(busy!.pid!, 'SIGKILL');
    for (const error of await Promise.all(pending)) {
      expect(error).toBeInstanceOf(WorkerExitedError);
      expect(error).toMatchObject({ signal: 'SIGKILL', exitCode: null });
    }
    await expect(crash).resolves.toMatchObject({ worker: busy, signal: 'SIGKILL', code: null });
    const { previous, worker: replacement, delayMs, attempt } = await restart;
    expect(previous).toBe(busy);
    expect([delayMs, attempt]).toEqual([100, 1]);
    await replacementReady;
    expect(replacement.slot).toBe(busy!.slot);
    expect(replacement.restarts).toBe(1);
    const picked = new Set([primary.roundRobin({ tag: 'after' }), primary.roundRobin({ tag: 'after' })]);
    expect(picked).toEqual(new Set([other, replacement]));
    await expect(primary.send(replacement, 'echo', 'served')).resolves.toBe('served');
  });

  it('[F1][F2] restarts after an uncaught exception and an unhandled rejection (exit code 1)', async () => {
    const primary = testPrimary({ silent: true });
    const output = workerOutput(primary);
    const [worker] = await primary.start();
    const crashes = record(primary, 'workerCrash');
    let ready = onceEvent(primary, 'workerReady');
    await primary.send(worker!, 'crashAsync');
    const { worker: second } = await ready;
    ready = onceEvent(primary, 'workerReady');
    await primary.send(second, 'rejectUnhandled');
    await ready;
    expect(crashes.events.map((event) => event.code)).toEqual([1, 1]);
    // Node printed both errors with their stacks (captured here, not in the test output).
    expect(output.text()).toMatch(/Error: uncaught in worker\n\s+at /);
    expect(output.text()).toMatch(/Error: unhandled rejection in worker\n\s+at /);
  });

  it('[F5] restarts a worker that exits 0 on its own, without reporting a crash', async () => {
    const primary = testPrimary();
    const [worker] = await primary.start();
    const crashes = record(primary, 'workerCrash');
    const exit = onceEvent(primary, 'workerExit');
    const ready = onceEvent(primary, 'workerReady');
    await primary.send(worker!, 'exit', { code: 0 });
    await expect(exit).resolves.toMatchObject({ code: 0, expected: false });
    await ready;
    expect(crashes.events).toEqual([]);
  });

  it('[F7] stops a crash loop at startup after maxStartupFailures, without spinning, and start() rejects', async () => {
    const primary = testPrimary({}, 'workers/init-throws.ts');
    const forks = record(primary, 'workerFork');
    const restarts = record<WorkerRestartEvent>(primary, 'workerRestart');
    // Emitted before start() rejects: recorded, no deadline spanning three worker starts.
    const crashLoops = record(primary, 'crashLoop');
    const error = await primary.start().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CrashLoopError);
    expect(error).toMatchObject({ code: 'ERR_CRASH_LOOP', failures: 3 });
    expect((error as Error).message).toContain('bad config: DATABASE_URL is missing');
    const cause = (error as CrashLoopError).cause as WorkerStartupError;
    expect(cause).toMatchObject({ reason: 'init-failed' });
    expect(cause.cause).toBeInstanceOf(RemoteError);
    expect(crashLoops.events).toEqual([expect.objectContaining({ slot: 0, failures: 3, reason: 'startup-failures' })]);
    expect(forks.events).toHaveLength(3);
    expect(restarts.events.map((event) => event.delayMs)).toEqual([100, 200]);
    expect(primary.workers).toEqual([]);
  });

  it('[F6] grows the backoff for repeated crashes and resets it after a stable run, counting stability from ready', async () => {
    // _init takes 1.6 s: were stability counted from the fork, every crash below would follow a
    // "stable" run of 1.6 s or more (> stableAfterMs) and the delay would never grow. Counted from
    // ready, each run lasts only as long as the primary takes to see the kill: 1.5 s is margin
    // enough for a busy machine (500 ms was not).
    const primary = testPrimary(
      { env: { INIT_DELAY_MS: '1600' }, restart: { backoff: { initialMs: 100, factor: 2, maxMs: 10_000 }, startupWindowMs: 0, stableAfterMs: 1_500, maxRestarts: 50 } },
      'workers/init-slow.ts',
    );
    const [first] = await primary.start();
    const restarts = record<WorkerRestartEvent>(primary, 'workerRestart');
    let current = first!;
    const crashAndReplace = async () => {
      const ready = onceEvent(primary, 'workerReady');
      process.kill(current.pid!, 'SIGKILL');
      current = (await ready).worker;
    };
    // Each worker dies as soon as it is ready.
    for (let i = 0; i < 3; i++) await crashAndReplace();
    await until(() => Date.now() - current.readyAt! > 1_600, kPatienceMs, 'a stable run');
    await crashAndReplace();
    expect(restarts.events.map((event) => [event.delayMs, event.attempt])).toEqual([[100, 1], [200, 2], [400, 3], [100, 1]]);
  });

  it('[H275] trips the breaker on too many ordinary crashes within the window, a kill from outside said as such', async () => {
    const primary = testPrimary({ restart: { backoff: { initialMs: 10 }, startupWindowMs: 0, maxRestarts: 2, windowMs: 60_000 } });
    let [current] = await primary.start();
    for (let i = 0; i < 2; i++) {
      const ready = onceEvent(primary, 'workerReady');
      process.kill(current!.pid!, 'SIGKILL');
      current = (await ready).worker;
    }
    const crashLoop = onceEvent<CrashLoopEvent>(primary, 'crashLoop');
    const pid = current!.pid!;
    process.kill(pid, 'SIGKILL');
    const event = await crashLoop;
    expect(event).toMatchObject({ reason: 'too-many-restarts', failures: 3 });
    // Says what happened (crashes, not failed starts), with the exit itself and none of
    // WorkerExitedError's advice to the caller of a request. A kill from outside keeps its
    // words, and whom to look for (before H275: "was killed by SIGKILL ... Fix that").
    expect(event.error.message).toMatch(
      new RegExp(`^Worker slot 0 crashed 3 times within 60 s \\(restart\\.maxRestarts\\), so it is no longer restarted\\. Last crash: worker \\d+ \\(pid ${pid}\\) was killed by SIGKILL from outside clusterkit \\(kill -9, the OOM killer, or the worker's own code\\) \\d+(\\.\\d)? m?s after it became ready\\. Its output need not show an error: look for what sent the signal, then start it again\\.$`),
    );
    expect(event.error.message).not.toMatch(/could not start|retry it|see "cause"/);
    await until(() => primary.workers.length === 0, 30_000, 'no worker left');
  });

  it('[H96] a worker that keeps exiting with code 0 on its own trips the breaker as exits, not crashes', async () => {
    // PM2 counts every exit it did not ask for; so does the breaker. Its words must say what happened.
    const primary = testPrimary({ restart: { backoff: { initialMs: 10 }, startupWindowMs: 0, maxRestarts: 2, windowMs: 60_000 } });
    const crashes = record(primary, 'workerCrash');
    let [current] = await primary.start();
    for (let i = 0; i < 2; i++) {
      const ready = onceEvent(primary, 'workerReady');
      // A notification: a request message would make it a worker that served, counted toward no limit.
      primary.notify(current!, 'exit', { code: 0 });
      current = (await ready).worker;
    }
    const crashLoop = onceEvent<CrashLoopEvent>(primary, 'crashLoop');
    const pid = current!.pid!;
    primary.notify(current!, 'exit', { code: 0 });
    const event = await crashLoop;
    expect(event).toMatchObject({ reason: 'too-many-restarts', failures: 3 });
    // Before: "crashed 3 times ... Last crash: ... exited with code 0".
    expect(event.error.message).toMatch(
      new RegExp(`^Worker slot 0 exited with code 0 on its own 3 times within 60 s \\(restart\\.maxRestarts\\), so it is no longer restarted\\. Last exit: worker \\d+ \\(pid ${pid}\\) exited with code 0 \\d+(\\.\\d)? m?s after it became ready\\. Fix that, then start it again\\.$`),
    );
    expect(event.error.message).not.toContain('crash');
    expect(crashes.events).toEqual([]);
    crashes.stop();
    await until(() => primary.workers.length === 0, 30_000, 'no worker left');
  });

  it('[H97] a slot retired while no other worker was ever ready: the advice does not say the others keep serving', async () => {
    const primary = testPrimary({ workerCount: 2 }, 'workers/init-throws.ts');
    const crashLoops = record<CrashLoopEvent>(primary, 'crashLoop');
    const error = await primary.start().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CrashLoopError);
    // The first slot to give up (start() rejects with it); the other slot was failing too.
    const [first] = crashLoops.events;
    expect(error).toBe(first!.error);
    expect(first).toMatchObject({ remainingSlots: 1 });
    // Before: "reload and scale back up to restore the slot (the other workers keep serving)": none ever served.
    expect(first!.error.message).not.toContain('keep serving');
    expect(first!.error.message).toMatch(/Fix that, then start again \(no other worker is ready to serve: the other slot is still starting or restarting\)\.$/);
    crashLoops.stop();
  });

  it('[H33] keeps a service whose requests crash workers serving: crashes after the startup window are not failed starts', async () => {
    // The report's case: 2 workers, 6 requests that each crash one (process.exit(3) in a
    // handler). Each worker serves past the 1 s startup window (PM2's min_uptime) first; the old
    // 5 s window counted these as failed starts and retired both slots after three. (The crashing
    // request is a request message, so these workers served: see [H34].)
    const primary = testPrimary({ workerCount: 2, restart: { backoff: { initialMs: 10, maxMs: 50 } } });
    const crashLoops = record(primary, 'crashLoop');
    const crashes = record(primary, 'workerCrash');
    let workers = await primary.start();
    for (let round = 1; round <= 3; round++) {
      await until(() => workers.every((worker) => Date.now() - worker.readyAt! > 1_100), kPatienceMs, 'both workers past the startup window');
      const old = new Set(workers);
      for (const worker of workers) void primary.send(worker, 'exit', { code: 3 }).catch(() => {});
      await until(
        () => crashes.events.length === 2 * round && primary.workers.length === 2 && primary.workers.every((worker) => worker.state === 'ready' && !old.has(worker)),
        kPatienceMs,
        `both slots replaced, round ${round}`,
      );
      workers = [...primary.workers];
    }
    expect(crashes.events.map((event) => event.code)).toEqual([3, 3, 3, 3, 3, 3]);
    expect(crashLoops.events).toEqual([]);
    await expect(Promise.all(workers.map((worker) => primary.send(worker, 'echo', 'still serving')))).resolves.toEqual(['still serving', 'still serving']);
  });

  it('[H34][H366] keeps a busy service whose requests crash workers serving: a worker that served is never a failed start, and within the startup window backs off', async () => {
    // The PM2 user's round-4 case: under load, every restarted worker gets its next crashing
    // request within the startup window. Here every 20th request a worker serves calls
    // process.exit(3), and the startup window is a minute, so every crash falls inside it: under
    // the old rule each was a failed start (3 in a row retire a slot), and maxRestarts 3 would
    // trip the breaker too. Workers that served count toward neither. Since H366 a crash within
    // the window is an unstable restart: the slot backs off (it was restarted after initialMs,
    // attempt 1, every time), and still never gives up.
    const port = await freePort();
    const initialMs = 50;
    const primary = testPrimary(
      { workerCount: 2, env: { PORT: String(port), CRASH_EVERY: '20' }, restart: { backoff: { initialMs, maxMs: 5_000 }, startupWindowMs: 60_000, maxRestarts: 3 } },
      'workers/crash-every.ts',
    );
    const crashLoops = record<CrashLoopEvent>(primary, 'crashLoop');
    const crashes = record(primary, 'workerCrash');
    const restarts = record<WorkerRestartEvent>(primary, 'workerRestart');
    await primary.start();
    // The load: 6 clients in a loop, each request on its own connection; refused and reset
    // connections (a worker just died) are part of it.
    let isLoading = true;
    onCleanup(() => (isLoading = false));
    const answeredBy = new Set<string>();
    const client = async () => {
      while (isLoading) {
        const ok = await get(`http://127.0.0.1:${port}/`, 5_000).then(
          (response) => answeredBy.add(response.body),
          () => false,
        );
        // No worker listening for a moment: do not spin on refused connections.
        if (!ok) await new Promise((resolve) => setTimeout(resolve, 5));
      }
    };
    const clients = Array.from({ length: 6 }, client);
    await until(() => crashes.events.length >= 12 || crashLoops.events.length > 0, 2 * kPatienceMs, '12 crashes under load');
    isLoading = false;
    await Promise.all(clients);
    expect(crashLoops.events).toEqual([]);
    expect(crashes.events.every((event) => event.code === 3)).toBe(true);
    // Both slots served and crashed.
    expect(new Set(crashes.events.map((event) => event.worker.slot))).toEqual(new Set([0, 1]));
    // Every crash is restarted (the last ones may still wait for their delay), after initialMs.
    await until(
      () => restarts.events.length === crashes.events.length && primary.workers.length === 2 && primary.workers.every((worker) => worker.state === 'ready'),
      kPatienceMs,
      'every crashed worker restarted and ready',
    );
    // Per slot: initialMs doubling, capped at maxMs (5 s), attempt 1, 2, 3... (every crash is within the minute-long window).
    for (const slot of [0, 1]) {
      const ofSlot = restarts.events.filter((event) => event.worker.slot === slot);
      expect(ofSlot.map((event) => [event.delayMs, event.attempt])).toEqual(ofSlot.map((_, i) => [Math.min(initialMs * 2 ** i, 5_000), i + 1]));
    }
    expect(crashes.events.every((event) => event.hasServed && !event.isStartupFailure && event.unstableCrashes !== undefined)).toBe(true);
    expect(answeredBy.size).toBeGreaterThan(2);
    await expect(Promise.all(primary.workers.map((worker) => primary.send(worker, 'echo', 'still serving')))).resolves.toEqual(['still serving', 'still serving']);
    expect(primary.workers.map((worker) => worker.slot).sort()).toEqual([0, 1]);
  });

  it('[H34] counts a worker that answered a request message as served; notifications alone are not serving', async () => {
    // A minute-long startup window: every death below is within it. Served: no failed start (an
    // unstable restart since H366: backed off like one, attempt 1). Not served: a failed start,
    // backed off (attempt 2, twice initialMs).
    const primary = testPrimary({ restart: { backoff: { initialMs: 10, factor: 2, maxMs: 1_000 }, startupWindowMs: 60_000, maxStartupFailures: 5 } });
    const [first] = await primary.start();
    const restarts = record<WorkerRestartEvent>(primary, 'workerRestart');
    const crashes = record(primary, 'workerCrash');
    await expect(primary.send(first!, 'echo', 'served')).resolves.toBe('served');
    let ready = onceEvent(primary, 'workerReady');
    primary.notify(first!, 'exit', { code: 3 });
    const second = (await ready).worker;
    ready = onceEvent(primary, 'workerReady');
    primary.notify(second, 'exit', { code: 3 });
    await ready;
    expect(restarts.events.map((event) => [event.delayMs, event.attempt])).toEqual([[10, 1], [20, 2]]);
    expect(crashes.events.map((event) => [event.hasServed, event.isStartupFailure])).toEqual([
      [true, false],
      [false, true],
    ]);
  });

  it('does not restart with restart: false, nor a worker stopped on purpose', async () => {
    const primary = testPrimary({ workerCount: 2, restart: false });
    const [crashing, stopped] = await primary.start();
    const forks = record(primary, 'workerFork');
    const exit = onceEvent(primary, 'workerExit');
    process.kill(crashing!.pid!, 'SIGKILL');
    await exit;
    await expect(primary.stopWorker(stopped!)).resolves.toBe('graceful');
    // Nothing to wait for: a restart would be forked restart.backoff.initialMs (100 ms) after the
    // exit. A quiet moment three times as long shows none comes (on a busy machine it can only
    // miss a late fork, never fail a correct run).
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(forks.events).toEqual([]);
    expect(primary.workers).toEqual([]);
  });

  it('[F9] treats a spawn failure (no pid, no exit event) as a failed start, with backoff', async () => {
    const harness = startHarness({ HARNESS_BREAK_EXEC_PATH: '1', HARNESS_OPTIONS: JSON.stringify({ workerCount: 1, restart: { backoff: { initialMs: 10 } } }) });
    const failed = await harness.waitForEvent('startFailed');
    expect(failed).toMatchObject({ code: 'ERR_CRASH_LOOP', cause: 'ERR_WORKER_STARTUP', causeReason: 'spawn-failed' });
    expect(harness.events().filter((line) => line.event === 'workerError')).toEqual(Array(3).fill({ event: 'workerError', code: 'ENOENT' }));
    await expect(harness.exited()).resolves.toBe(1);
  });

  it('[F8] fails start() when the script is missing (before any fork since H251)', async () => {
    const primary = testPrimary({ workerScript: '/nonexistent/worker.js', execArgv: [], restart: false, silent: true });
    const error = await primary.start().catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'ERR_WORKER_MODULE', problem: 'not-found' });
  });
});
