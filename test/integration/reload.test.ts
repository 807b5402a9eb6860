import { readdirSync, writeFileSync } from 'node:fs';
import { getPriority } from 'node:os';
import { describe, expect, it } from '@jest/globals';
import { ReloadError, ShutdownInProgressError, type WorkerHandle } from '../../src/index.js';
import { freePort } from '../helpers/ports.js';
import { testPrimary } from '../helpers/primary.js';
import { waitUntilGone } from '../helpers/processes.js';
import { onCleanup } from '../helpers/cleanup.js';
import { spawnScript } from '../helpers/spawn.js';
import { kPatienceMs, onceEvent, record, until } from '../helpers/wait.js';
import { capturedLogger } from '../helpers/captured-logger.js';
import { behaviourFile } from '../helpers/behaviour-file.js';

describe('rolling reload', () => {
  it('[F12] replaces every worker one at a time, never dropping below the configured count, and resolves with its report', async () => {
    const primary = testPrimary({ workerCount: 3 });
    const before = await primary.start();
    let ready = before.length;
    let lowest = ready;
    primary.on('workerReady', () => ready++);
    primary.on('workerExit', () => {
      ready--;
      lowest = Math.min(lowest, ready);
    });
    const events = record(primary, 'reloadComplete');
    const forks = record(primary, 'workerFork');
    const restarts = record(primary, 'workerRestart');
    const reloadStarted = onceEvent(primary, 'reload');
    const report = await primary.reload();
    // The old workers' exits (an older generation of each slot) restart nothing.
    expect(forks.events).toHaveLength(3);
    expect(restarts.events).toEqual([]);
    await expect(reloadStarted).resolves.toEqual({ workers: 3, requestedBy: 'call' });
    expect(events.events).toEqual([{ replaced: 3, retired: 0, stopped: { graceful: before, failed: [], killed: [], requestsCut: 0 } }]);
    // The report reloadComplete carries (newcomer t78: reload() resolved with nothing).
    expect(report).toBe(events.events[0]);
    expect(lowest).toBeGreaterThanOrEqual(3);
    const after = primary.workers;
    expect(after.map((worker) => worker.slot).sort()).toEqual([0, 1, 2]);
    expect(after.some((worker) => before.includes(worker))).toBe(false);
    for (const worker of before) expect(worker).toMatchObject({ state: 'exited', exitCode: 0 });
    expect(after.every((worker) => worker.restarts === 1)).toBe(true);
    await waitUntilGone(before.map((worker) => worker.pid));
  });

  it('[F45][H47][H374] serializes control operations: a second reload runs after the first (queued, it replaced a slot already), shutdown stops it (and says so at warn)', async () => {
    const { logger, text } = capturedLogger();
    const primary = testPrimary({ workerCount: 2, logger });
    await primary.start();
    const first = primary.reload();
    const joined = record(primary, 'reloadJoined');
    const second = primary.reload();
    expect(second).not.toBe(first);
    expect(joined.events).toEqual([{ queued: true }]);
    await first;
    await second;
    const forks = record(primary, 'workerFork');
    // The first replacement is forked synchronously, so it is still loading when shutdown begins.
    const reloading = primary.reload().catch((e: unknown) => e);
    expect(forks.events).toHaveLength(1);
    // The replacement may still be booting; it stops once it can (a generous deadline: a busy
    // machine must not turn its stop into a kill).
    const report = await primary.shutdown({ timeoutMs: 60_000 });
    await expect(reloading).resolves.toBeInstanceOf(ReloadError);
    // The shutdown ended it, not the replacement: the message says so.
    expect((await reloading as Error).message).toMatch(/^The reload stopped because the primary began shutting down while the replacement for worker slot 0 was starting/);
    // Not the replacement's exit ("exited with code 0 before it was ready... check its output"):
    // the shutdown stopped it. Said at warn, not as a failure an alert would fire on.
    if ((await reloading as Error).message.includes('exited')) expect((await reloading as Error).message).toContain('(it was stopped with the other workers)');
    expect(await reloading).toMatchObject({ isShutdown: true });
    expect(text()).toMatch(/\[t\] WARN rolling reload stopped: The reload stopped because the primary began shutting down/);
    expect(text()).not.toContain('rolling reload failed');
    expect(forks.events).toHaveLength(1);
    expect(report.killed).toEqual([]);
    await expect(primary.reload()).rejects.toBeInstanceOf(ShutdownInProgressError);
  });

  it('[F44] stops at a failing replacement, keeps the old workers serving and rejects with ReloadError', async () => {
    const behaviour = behaviourFile('ready');
    const primary = testPrimary({ workerCount: 2, env: { INIT_BEHAVIOUR_FILE: behaviour } }, 'workers/init-from-file.ts');
    const before = await primary.start();
    writeFileSync(behaviour, 'throw'); // the next release is broken
    const failed = onceEvent(primary, 'reloadFailed');
    const error = await primary.reload().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ReloadError);
    expect(error).toMatchObject({ code: 'ERR_RELOAD_FAILED' });
    expect((error as Error).message).toContain('0 of 2 workers were replaced');
    expect((error as ReloadError).cause).toMatchObject({ reason: 'init-failed' });
    await expect(failed).resolves.toMatchObject({ error });
    expect(primary.workers).toEqual(before);
    for (const worker of before) await expect(primary.send(worker, 'echo', 'still serving')).resolves.toBe('still serving');
  });

  it('[F10] fails a reload whose replacement never becomes ready, at readyTimeoutMs', async () => {
    const behaviour = behaviourFile('ready');
    // Long enough for the first worker to start on a busy machine; the hung one never will.
    const primary = testPrimary({ env: { INIT_BEHAVIOUR_FILE: behaviour }, readyTimeoutMs: 10_000 }, 'workers/init-from-file.ts');
    const before = await primary.start();
    writeFileSync(behaviour, 'hang');
    await expect(primary.reload()).rejects.toThrow(/was not ready within 10000 ms/);
    expect(primary.workers).toEqual(before);
    await expect(primary.send(before[0]!, 'echo', 'still serving')).resolves.toBe('still serving');
  });

  it('[H155] a stop while a replacement is not ready yet counts it as notStarted, not as stopped gracefully', async () => {
    const behaviour = behaviourFile('ready');
    const primary = testPrimary({ env: { INIT_BEHAVIOUR_FILE: behaviour }, readyTimeoutMs: 60_000, shutdownTimeoutMs: 3_000 }, 'workers/init-from-file.ts');
    const [old] = await primary.start();
    writeFileSync(behaviour, 'hang');
    const forked = onceEvent<{ worker: WorkerHandle }>(primary, 'workerOnline');
    const reload = primary.reload().catch((error: unknown) => error);
    const { worker: replacement } = await forked;
    const report = await primary.shutdown();
    expect(await reload).toMatchObject({ isShutdown: true });
    expect(report.interrupted).toBe('replacement');
    expect(report.notStarted).toEqual([replacement]);
    expect(report.graceful).toEqual([old]);
  });

  it.each([
    ['new connections', 'close'],
    ['keep-alive connections', 'keepalive'],
  ])('[F43] reloads an HTTP cluster under continuous load with zero failed requests (%s)', async (_label, mode) => {
    const port = await freePort();
    const primary = testPrimary({ workerCount: 2, env: { PORT: String(port) } }, 'workers/http-server.ts');
    const before = await primary.start();
    const client = spawnScript('test/fixtures/load-client.ts', { args: [String(port), '10', '/?delay=20', mode] });
    // The client prints a line per 50 answered requests: the load flows before, during and after.
    const served = () => client.stdout().match(/^served \d+$/gm)?.length ?? 0;
    await until(() => served() >= 1, 30_000, 'requests served before the reload');
    await primary.reload();
    await primary.reload();
    const afterReloads = served();
    await until(() => served() > afterReloads, 30_000, 'requests served by the new workers');
    client.child.kill('SIGTERM');
    const [line] = await client.waitFor(/\{.*\}/);
    const result = JSON.parse(line) as { ok: number; failed: number; errors: Record<string, number> };
    expect(result.errors).toEqual({});
    expect(result.failed).toBe(0);
    expect(result.ok).toBeGreaterThan(100);
    expect(primary.workers.some((worker: WorkerHandle) => before.includes(worker))).toBe(false);
  });

  it('[H345][H371] a reload during a crash restart\'s backoff: the restart waits for the replacement, the slot never runs two workers, the crash is no failed stop', async () => {
    // Each worker boots in 1.5 s and exits 200 ms after ready; its restart is due 300 ms after the
    // crash: it comes due while the reload's replacement (booting 1.5 s) is not ready yet.
    // No startup window (H371): the replacement crashes too, and the reload must end at its takeover.
    const primary = testPrimary({
      env: { INIT_DELAY_MS: '1500', CRASH_AFTER_MS: '200' },
      restart: { backoff: { initialMs: 300, factor: 1, maxMs: 300 }, maxStartupFailures: 100, maxRestarts: 100, startupWindowMs: 0 },
    }, 'workers/init-slow.ts');
    // Slot 0's live workers, from the fork to the exit: never more than one.
    const live = new Set<number>();
    let most = 0;
    const onFork = ({ worker }: { worker: WorkerHandle }) => {
      live.add(worker.id);
      most = Math.max(most, live.size);
    };
    const onExit = ({ worker }: { worker: WorkerHandle }) => live.delete(worker.id);
    primary.on('workerFork', onFork);
    primary.on('workerExit', onExit);
    onCleanup(() => {
      primary.off('workerFork', onFork);
      primary.off('workerExit', onExit);
    });
    const restarts = record<{ previous: WorkerHandle; worker: WorkerHandle }>(primary, 'workerRestart');
    const [first] = await primary.start();
    await onceEvent(primary, 'workerCrash', kPatienceMs, (event: { worker: WorkerHandle }) => event.worker === first);
    // In the crash's backoff: its restart is pending.
    const complete = onceEvent<{ replaced: number; vacant?: number; stopped: { graceful: WorkerHandle[]; failed: WorkerHandle[]; killed: WorkerHandle[]; notStarted?: WorkerHandle[] } }>(primary, 'reloadComplete');
    await primary.reload();
    const { replaced, vacant, stopped } = await complete;
    // The restart's worker and the replacement were never alive together.
    expect(most).toBe(1);
    // [H574] No worker ran in the slot at its turn: started with the new code, not counted as replaced.
    expect({ replaced, vacant }).toEqual({ replaced: 0, vacant: 1 });
    // The first worker crashed on its own: the reload stopped nothing.
    expect(stopped).toMatchObject({ graceful: [], failed: [], killed: [] });
    expect(stopped.notStarted ?? []).toEqual([]);
    // The restart that came due while the replacement booted never forked: the replacement took its place.
    expect(restarts.events.filter((event) => event.previous === first)).toEqual([]);
    // The replacement crashes in turn and is restarted as usual, one worker at a time.
    await until(() => restarts.events.length >= 1, kPatienceMs, 'the replacement restarted after its crash');
    expect(most).toBe(1);
  });

  it('boots a replacement at a lower CPU priority where it can be restored, and gives every thread the primary\'s back once ready', async () => {
    const primary = testPrimary({ workerCount: 1 });
    await primary.start();
    const own = getPriority();
    const booting: number[] = [];
    // Read just after the fork (the reload lowers it in the same tick), not at 'workerOnline': on
    // a loaded machine a lowered process may take longer to boot than the 2 s it stays lowered.
    primary.on('workerFork', ({ worker }) => process.nextTick(() => booting.push(getPriority(worker.pid!))));
    await primary.reload();
    const [replacement] = primary.workers;
    // Root may raise a priority back; elsewhere (no CAP_SYS_NICE) nothing is lowered at all.
    if (process.platform === 'linux' && process.getuid?.() === 0) expect(booting).toEqual([Math.min(19, own + 10)]);
    else expect(booting.every((nice) => nice === own)).toBe(true);
    if (process.platform === 'linux') {
      const threads = readdirSync(`/proc/${replacement!.pid}/task`).map((tid) => getPriority(Number(tid)));
      expect(threads.every((nice) => nice === own)).toBe(true);
    }
    expect(getPriority(replacement!.pid!)).toBe(own);
  });
});
