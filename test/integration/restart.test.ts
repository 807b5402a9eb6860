import { afterEach, describe, expect, it } from '@jest/globals';
import { CrashLoopError, RemoteError, WorkerExitedError, WorkerStartupError, type WorkerRestartEvent } from '../../src/index.js';
import { testPrimary } from '../helpers/primary.js';
import { killHarnesses, startHarness } from '../helpers/harness.js';
import { onceEvent, record, until } from '../helpers/wait.js';

afterEach(() => killHarnesses());

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
    const primary = testPrimary();
    const [worker] = await primary.start();
    const crashes = record(primary, 'workerCrash');
    let ready = onceEvent(primary, 'workerReady');
    await primary.send(worker!, 'crashAsync');
    const { worker: second } = await ready;
    ready = onceEvent(primary, 'workerReady');
    await primary.send(second, 'rejectUnhandled');
    await ready;
    expect(crashes.events.map((event) => event.code)).toEqual([1, 1]);
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
    const primary = testPrimary({ env: { FIXTURE_INIT: 'throw' } });
    const forks = record(primary, 'workerFork');
    const restarts = record<WorkerRestartEvent>(primary, 'workerRestart');
    const crashLoop = onceEvent(primary, 'crashLoop');
    const error = await primary.start().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CrashLoopError);
    expect(error).toMatchObject({ code: 'ERR_CRASH_LOOP', failures: 3 });
    expect((error as Error).message).toContain('bad config: DATABASE_URL is missing');
    const cause = (error as CrashLoopError).cause as WorkerStartupError;
    expect(cause).toMatchObject({ reason: 'init-failed' });
    expect(cause.cause).toBeInstanceOf(RemoteError);
    await expect(crashLoop).resolves.toMatchObject({ slot: 0, failures: 3, reason: 'startup-failures' });
    expect(forks.events).toHaveLength(3);
    expect(restarts.events.map((event) => event.delayMs)).toEqual([100, 200]);
    expect(primary.workers).toEqual([]);
  });

  it('[F6] grows the backoff for repeated crashes and resets it after a stable run', async () => {
    const primary = testPrimary({
      // A start takes over a second on a loaded machine, and uptime counts from the fork.
      restart: { backoff: { initialMs: 20, factor: 2, maxMs: 1_000 }, startupWindowMs: 0, stableAfterMs: 2_500, maxRestarts: 50 },
    });
    const [first] = await primary.start();
    const restarts = record<WorkerRestartEvent>(primary, 'workerRestart');
    let current = first!;
    const crashAndReplace = async () => {
      const ready = onceEvent(primary, 'workerReady');
      process.kill(current.pid!, 'SIGKILL');
      current = (await ready).worker;
    };
    for (let i = 0; i < 3; i++) await crashAndReplace();
    await until(() => Date.now() - current.startedAt > 2_600, 10_000, 'a stable run');
    await crashAndReplace();
    expect(restarts.events.map((event) => [event.delayMs, event.attempt])).toEqual([[20, 1], [40, 2], [80, 3], [20, 1]]);
  });

  it('trips the breaker on too many ordinary crashes within the window', async () => {
    const primary = testPrimary({ restart: { backoff: { initialMs: 10 }, startupWindowMs: 0, maxRestarts: 2, windowMs: 60_000 } });
    let [current] = await primary.start();
    const crashLoop = onceEvent(primary, 'crashLoop');
    for (let i = 0; i < 2; i++) {
      const ready = onceEvent(primary, 'workerReady');
      process.kill(current!.pid!, 'SIGKILL');
      current = (await ready).worker;
    }
    process.kill(current!.pid!, 'SIGKILL');
    await expect(crashLoop).resolves.toMatchObject({ reason: 'too-many-restarts', failures: 3 });
    await until(() => primary.workers.length === 0, 5_000, 'no worker left');
  });

  it('does not restart with restart: false, nor a worker stopped on purpose', async () => {
    const primary = testPrimary({ workerCount: 2, restart: false });
    const [crashing, stopped] = await primary.start();
    const forks = record(primary, 'workerFork');
    const exit = onceEvent(primary, 'workerExit');
    process.kill(crashing!.pid!, 'SIGKILL');
    await exit;
    await expect(primary.stopWorker(stopped!)).resolves.toBe('graceful');
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

  it('[F8] fails start() when the script is missing (the worker dies before online)', async () => {
    const primary = testPrimary({ workerScript: '/nonexistent/worker.js', execArgv: [], restart: false, silent: true });
    const error = await primary.start().catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'ERR_WORKER_STARTUP', reason: 'exited' });
  });
});
