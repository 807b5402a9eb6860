/**
 * A worker whose event loop is blocked answers no heartbeat. Until the heartbeat kills it
 * (`heartbeat.timeoutMs`), every report must say it is silent, and for how long, instead of
 * repeating the figures of its last answer as if they were current: `primary.stats()`, the
 * control socket's `status` (what `clusterkit status --json` prints), the `clusterkit status`
 * table and `primary.metrics()`. A worker that answers is never shown silent.
 *
 * The block is ended by the test (a file it creates), never by a clock; the heartbeat timeout
 * is long, so the kill never races the assertions.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { controlRequest } from '../../src/control/control-client.js';
import type { ClusterStatus } from '../../src/control/control-protocol.js';
import type { WorkerHandle, WorkerStats } from '../../src/index.js';
import { isCpuMeasured } from '../../src/primary/pool/measured-cpu.js';
import { cli, runtimeDir } from '../cli/cli-process.js';
import { onCleanup } from '../helpers/cleanup.js';
import { capturedLogger } from '../helpers/captured-logger.js';
import { testPrimary } from '../helpers/primary.js';
import { onceEvent, record, until } from '../helpers/wait.js';

/** Gate files that end a block; removed after the file, once every worker has been released. */
const gates = mkdtempSync(join(tmpdir(), 'ck-gates-'));
onCleanup(() => rmSync(gates, { recursive: true, force: true }));

/** The stats row of `worker`. */
function rowOf(rows: readonly WorkerStats[], worker: WorkerHandle): WorkerStats {
  const row = rows.find((candidate) => candidate.id === worker.id);
  if (!row) throw new Error(`no stats row for worker ${worker.id}`);
  return row;
}

/**
 * Resolves after the primary's next poll phase: the workers' answers already waiting on their
 * channels are read by then. A poll of `until` runs in the timers phase, and after the test
 * process was descheduled for a while (a loaded machine) that comes before the reads: the
 * primary's view would be as old as its own stall, which is not the worker's silence.
 */
const afterReads = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Fails the wait at once if the healthy worker is ever shown silent. */
function assertAnswers(rows: readonly WorkerStats[], worker: WorkerHandle): void {
  const row = rowOf(rows, worker);
  if (row.isSilent) throw new Error(`the healthy worker ${worker.id} was shown silent: ${JSON.stringify(row)}`);
}

/** Blocks `worker`'s event loop until the returned function is called (or the test ends). */
async function block(primary: ReturnType<typeof testPrimary>, worker: WorkerHandle, name: string): Promise<() => void> {
  const gate = join(gates, name);
  const release = onCleanup(() => writeFileSync(gate, ''));
  // Asleep rather than spinning: a spinning worker takes one of the two cores from the healthy
  // one, which under load then goes unheard for over a second itself.
  await expect(primary.send(worker, 'sleepUntilFile', { path: gate })).resolves.toBe('blocking');
  return release;
}

describe('a silent worker', () => {
  it('[H66] is shown silent by stats(), status, the status table and metrics before the heartbeat kills it, and answers again once unblocked', async () => {
    const runtime = runtimeDir();
    const saved = process.env.XDG_RUNTIME_DIR;
    process.env.XDG_RUNTIME_DIR = runtime;
    onCleanup(() => (saved === undefined ? delete process.env.XDG_RUNTIME_DIR : (process.env.XDG_RUNTIME_DIR = saved)));
    const directory = join(runtime, 'clusterkit');
    // Silent after max(2 intervals, 1 s) = 1 s; killed only after a minute.
    const primary = testPrimary({ serviceName: 'silent', workerCount: 2, heartbeat: { intervalMs: 100, timeoutMs: 60_000 } });
    const unresponsive = record(primary, 'workerUnresponsive');
    const [healthy, hung] = (await primary.start()) as [WorkerHandle, WorkerHandle];
    await until(() => primary.stats().every((row) => row.eventLoopDelayMs !== undefined), 30_000, 'two heartbeat answers from each worker');
    for (const row of primary.stats()) {
      expect(row).toMatchObject({ state: 'ready', isSilent: false });
      expect(row.silentMs).toBeGreaterThanOrEqual(0);
      expect(row.healthAgeMs).toBeGreaterThanOrEqual(0);
    }

    const unblock = await block(primary, hung, 'first');
    await until(
      async () => {
        await afterReads();
        const rows = primary.stats();
        assertAnswers(rows, healthy);
        return rowOf(rows, hung).isSilent;
      },
      30_000,
      'the blocked worker shown silent',
    );
    await afterReads();
    const silent = rowOf(primary.stats(), hung);
    expect(silent.state).toBe('ready');
    expect(silent.silentMs).toBeGreaterThan(1_000);
    // Its memory figures are those of its last answer, at least as old as its silence; its loop
    // delays, measured over an interval long past, are left out, and so is its CPU unless the
    // primary reads it itself (Linux; asleep, about 0: H390).
    expect(silent.healthAgeMs).toBeGreaterThan(900);
    expect(silent.rssBytes).toBeGreaterThan(0);
    expect(silent.eventLoopDelayMs).toBeUndefined();
    if (isCpuMeasured) expect(silent.cpuPercent).toBeLessThan(50);
    else expect(silent.cpuPercent).toBeUndefined();

    // `clusterkit status --json` prints this answer.
    const status = (await controlRequest('silent', 'status', { directory })) as ClusterStatus;
    expect(rowOf(status.workers, hung)).toMatchObject({ state: 'ready', isSilent: true });
    expect(rowOf(status.workers, hung).silentMs).toBeGreaterThan(1_000);
    assertAnswers(status.workers, healthy);

    // The table, from the real CLI: the silent worker's state says so, without loop delay, and
    // without CPU unless the primary measured it (Linux, H413).
    const table = await cli(['status', 'silent'], { runtime });
    expect(table.code).toBe(0);
    const line = (worker: WorkerHandle) => table.stdout.split('\n').find((text) => new RegExp(`^\\s*${worker.id}\\s+${worker.pid}\\s`).test(text)) ?? '';
    expect(line(hung)).toMatch(isCpuMeasured ? /\ssilent \d+\.\ds\s.*\s-\s+\d+\.\d%\s+\d+\s+\d+$/ : /\ssilent \d+\.\ds\s.*\s-\s+-\s+\d+\s+\d+$/);
    expect(line(healthy)).toMatch(/\sready\s.*\d%\s/);
    expect(table.stdout).toContain('silent: no answer to the heartbeat for that long');

    // Prometheus: not up, silent for over a second; the healthy worker up and recently heard.
    // A scrape waits up to its timeout for the blocked worker's answer: with two CPU hogs beside
    // the suite, the healthy worker once went unheard for 1.1 s meanwhile, and was rightly shown
    // silent too (under-load run on 3ce23fa). Scraped again until it was heard.
    let metrics = '';
    await until(
      async () => {
        metrics = await primary.metrics({ timeoutMs: 1_000 });
        return metrics.includes(`clusterkit_worker_up{slot="${healthy.slot}"} 1`);
      },
      30_000,
      'a scrape with the healthy worker heard',
    );
    expect(metrics).toContain(`clusterkit_worker_up{slot="${hung.slot}"} 0`);
    expect(metrics).toContain(`clusterkit_worker_up{slot="${healthy.slot}"} 1`);
    const seconds = (worker: WorkerHandle) => Number(new RegExp(`^clusterkit_worker_silent_seconds\\{slot="${worker.slot}"\\} (\\S+)$`, 'm').exec(metrics)?.[1]);
    expect(seconds(hung)).toBeGreaterThan(1);
    // The healthy worker was heard since (how recently depends on the machine's load).
    expect(seconds(healthy)).toBeLessThan(seconds(hung));
    expect(metrics).not.toMatch(new RegExp(`^clusterkit_worker_event_loop_delay_p99_seconds\\{slot="${hung.slot}"\\}`, 'm'));

    // All of this before any kill: the worker is still the same process.
    expect(unresponsive.events).toEqual([]);
    expect(primary.workers.map((worker) => worker.id)).toContain(hung.id);

    // Unblocked, it answers again: no longer silent, with fresh figures.
    unblock();
    await until(
      async () => {
        await afterReads();
        const rows = primary.stats();
        assertAnswers(rows, healthy);
        const row = rowOf(rows, hung);
        return !row.isSilent && row.silentMs! < 1_000 && row.healthAgeMs! < 1_000;
      },
      30_000,
      'the unblocked worker answering again',
    );
    expect(unresponsive.events).toEqual([]);
  });

  it('[H327][H344] a worker stopped with SIGSTOP is shown stopped, not silent, by stats(), status, the status table and /readyz, and answers again after SIGCONT', async () => {
    const runtime = runtimeDir();
    const saved = process.env.XDG_RUNTIME_DIR;
    process.env.XDG_RUNTIME_DIR = runtime;
    onCleanup(() => (saved === undefined ? delete process.env.XDG_RUNTIME_DIR : (process.env.XDG_RUNTIME_DIR = saved)));
    const directory = join(runtime, 'clusterkit');
    // Silent after 1 s; killed only after a minute, so the kill never races the assertions.
    const primary = testPrimary({ serviceName: 'stopped', workerCount: 2, heartbeat: { intervalMs: 100, timeoutMs: 60_000 } });
    const [healthy, stopped] = (await primary.start()) as [WorkerHandle, WorkerHandle];
    const { address } = await primary.listenHealth({ port: 0, host: '127.0.0.1', minReady: 2 });
    const readyz = async () => {
      const response = await fetch(`http://127.0.0.1:${address.port}/readyz`);
      return { status: response.status, body: (await response.json()) as Record<string, unknown> };
    };
    const resume = onCleanup(() => {
      try {
        process.kill(stopped.pid!, 'SIGCONT');
      } catch {
        // gone
      }
    });
    const silent = onceEvent(primary, 'workerSilent', 30_000);
    process.kill(stopped.pid!, 'SIGSTOP');
    await expect(silent).resolves.toMatchObject({ worker: stopped });
    await afterReads();
    expect(rowOf(primary.stats(), stopped)).toMatchObject({ state: 'ready', isSilent: true, isPaused: true });
    expect(rowOf(primary.stats(), healthy).isPaused).toBe(false);

    // `clusterkit status --json` prints this answer.
    const status = (await controlRequest('stopped', 'status', { directory })) as ClusterStatus;
    expect(rowOf(status.workers, stopped)).toMatchObject({ state: 'ready', isSilent: true, isPaused: true });

    // The table, from the real CLI. Before: `silent 5.8s` and the note of a blocked event loop.
    // Taken again while the healthy worker is itself silent: on a machine loaded far past its
    // cores (under-load run with load average 121 on ee5cd3e) it missed its 1 s too.
    let table = await cli(['status', 'stopped'], { runtime });
    await until(
      async () => {
        if (!/workers 1\/2 ready \(1 stopped\)/.test(table.stdout)) table = await cli(['status', 'stopped'], { runtime });
        return /workers 1\/2 ready \(1 stopped\)/.test(table.stdout);
      },
      60_000,
      'a status table with the healthy worker answering',
    );
    expect(table.code).toBe(0);
    const line = table.stdout.split('\n').find((text) => new RegExp(`^\\s*${stopped.id}\\s+${stopped.pid}\\s`).test(text)) ?? '';
    // Its CPU, where the primary measures it (H413): a stopped process runs nothing.
    expect(line).toMatch(isCpuMeasured ? /\sstopped, silent \d+\.\ds\s.*\s-\s+0\.0%\s+\d+\s+\d+$/ : /\sstopped, silent \d+\.\ds\s.*\s-\s+-\s+\d+\s+\d+$/);
    expect(table.stdout).toMatch(/workers 1\/2 ready \(1 stopped\)/);
    expect(table.stdout).toContain('stopped: its process is stopped (kill -STOP or a debugger; kill -CONT resumes it), not blocked');
    // Not counted or noted as silent (its state says for how long it has been silent, H482).
    expect(table.stdout).not.toMatch(/\d+ silent|^silent:/m);

    // [H344] Nor is it ready for Kubernetes: before, /readyz said 2 ready, 200. Asked again
    // while the healthy worker is itself silent (a machine loaded far past its cores).
    let ready = await readyz();
    await until(
      async () => {
        if (ready.body.silentWorkers !== 0) ready = await readyz();
        return ready.body.silentWorkers === 0;
      },
      60_000,
      '/readyz with the healthy worker answering',
    );
    expect(ready).toEqual({
      status: 503,
      body: {
        status: 'not ready',
        readyWorkers: 1,
        silentWorkers: 0,
        pausedWorkers: 1,
        minReady: 2,
        reason: '1 of 2 required workers ready, 1 stopped (SIGSTOP, Ctrl-Z or a debugger; kill -CONT resumes it)',
      },
    });

    // Resumed, it answers again: neither silent nor stopped.
    const answers = onceEvent(primary, 'workerSilenceEnd', 30_000);
    resume();
    await expect(answers).resolves.toMatchObject({ worker: stopped });
    await until(
      async () => {
        await afterReads();
        const row = rowOf(primary.stats(), stopped);
        return !row.isSilent && !row.isPaused;
      },
      30_000,
      'the resumed worker answering again',
    );
    expect(await readyz()).toMatchObject({ status: 200, body: { readyWorkers: 2 } });
  });

  it('[H66] is shown silent first, then killed at the heartbeat timeout; its replacement is not silent', async () => {
    const primary = testPrimary({ heartbeat: { intervalMs: 100, timeoutMs: 5_000 } });
    const [hung] = (await primary.start()) as [WorkerHandle];
    await until(() => primary.stats()[0]?.healthAgeMs !== undefined, 30_000, 'a heartbeat answer');
    let silentBeforeKill: WorkerStats | undefined;
    const unresponsive = onceEvent(primary, 'workerUnresponsive', 30_000);
    const replaced = onceEvent(primary, 'workerReady', 30_000);
    primary.notify(hung, 'block', { ms: -1 });
    await until(
      async () => {
        await afterReads();
        silentBeforeKill = primary.stats().find((row) => row.id === hung.id && row.isSilent);
        return silentBeforeKill !== undefined;
      },
      30_000,
      'the blocked worker shown silent',
    );
    const { silentMs } = await unresponsive;
    expect(silentBeforeKill!.silentMs).toBeLessThan(silentMs);
    const { worker } = await replaced;
    await until(() => primary.stats().some((row) => row.id === worker.id && row.healthAgeMs !== undefined), 30_000, 'the replacement\'s first answer');
    expect(primary.stats()).toEqual([expect.objectContaining({ id: worker.id, state: 'ready', isSilent: false })]);
  });

  it('[H390] keeps the memory it had when ready for a worker silent before its first heartbeat answer, its CPU the primary\'s reading', async () => {
    // The first ping comes one interval (3 s) after the start: the worker blocks before it.
    const primary = testPrimary({ workerCount: 1, heartbeat: { intervalMs: 3_000, timeoutMs: 60_000 } });
    const [worker] = (await primary.start()) as [WorkerHandle];
    await block(primary, worker, 'before-first-answer');
    await until(() => rowOf(primary.stats(), worker).isSilent, 30_000, 'the worker shown silent');
    const row = rowOf(primary.stats(), worker);
    // Before: no reading at all, and status showed "-" for its memory.
    expect(row.rssBytes).toBeGreaterThan(0);
    expect(row.heapUsedBytes).toBeGreaterThan(0);
    expect(row.heapTotalBytes).toBeGreaterThan(0);
    expect(row.healthAgeMs).toBeGreaterThanOrEqual(row.silentMs!);
    expect(row.eventLoopDelayMs).toBeUndefined();
    // Its CPU: on Linux the primary's own reading at each heartbeat tick (asleep, about 0), silent
    // or not (H390); elsewhere none, as it never answered.
    if (isCpuMeasured) expect(row.cpuPercent).toBeLessThan(50);
    else expect(row.cpuPercent).toBeUndefined();
  });

  it('[H66] has no silence without the heartbeat: nothing asks an idle worker to speak', async () => {
    const primary = testPrimary({ heartbeat: false });
    await primary.start();
    expect(primary.stats()).toEqual([expect.objectContaining({ state: 'ready', silentMs: undefined, healthAgeMs: undefined, isSilent: false })]);
    expect(await primary.metrics()).not.toContain('clusterkit_worker_silent_seconds{');
  });
  it('[H585][H746] whose heartbeat timeout is its silence threshold too is reported silent before it is killed, as events.md promises, in one line with its kill', async () => {
    // Silent after min(timeout, max(2 intervals, 1 s)) = 3 s: the timeout itself. The tick that
    // first finds the silence also kills (before: workerUnresponsive with no workerSilent). The
    // same comes of a first late tick already past the timeout on a busy machine.
    const { logger, text } = capturedLogger();
    const primary = testPrimary({ serviceName: 'silent-kill', workerCount: 1, logger, heartbeat: { intervalMs: 2_000, timeoutMs: 3_000 } });
    const order: string[] = [];
    primary.on('workerSilent', ({ worker }) => order.push(`silent ${worker.id}`));
    primary.on('workerUnresponsive', ({ worker }) => order.push(`unresponsive ${worker.id}`));
    const [hung] = (await primary.start()) as [WorkerHandle];
    const killed = onceEvent(primary, 'workerUnresponsive', 60_000);
    await block(primary, hung, 'silent-kill');
    await killed;
    expect(order).toEqual([`silent ${hung.id}`, `unresponsive ${hung.id}`]);
    // Its unresponsive line says it, killed now, not "pass it over until it answers" (retest t60);
    // no WARN of its own besides (retest t85: a WARN, an ERROR, then the kill's WARN, for one hang).
    expect(text()).toMatch(new RegExp(`ERROR worker ${hung.id} unresponsive \\(silent for [\\d.]+ s, its event loop most likely blocked, past the heartbeat timeout\\), killing it`));
    expect(text()).not.toContain(`worker ${hung.id} silent for`);
  });
});
