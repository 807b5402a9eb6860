/**
 * One meaning of "ready" across `clusterkit status`, `/readyz` and `/metrics` (H375): a worker
 * whose event loop is blocked (silent) is not counted ready by any of them; `/metrics`' states
 * sum to the live workers (`state="silent"`). And what Prometheus could not see before: reloads
 * by outcome, and each worker's CPU time as a counter, true for a silent worker too (H390).
 *
 * Workers block asleep until the test writes a gate file (silent-dispatch.test.ts), never for a
 * clock; timing appears only as generous upper bounds.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { ReloadError, type WorkerHandle } from '../../src/index.js';
import { clusterStatus } from '../../src/control/cluster-status.js';
import { onCleanup } from '../helpers/cleanup.js';
import { get } from '../helpers/http.js';
import { freePort } from '../helpers/ports.js';
import { testPrimary } from '../helpers/primary.js';
import { until } from '../helpers/wait.js';

const gates = mkdtempSync(join(tmpdir(), 'ck-metrics-truth-'));
onCleanup(() => rmSync(gates, { recursive: true, force: true }));

/** procfs: where the primary reads a worker's CPU itself (H390). */
const itOnLinux = process.platform === 'linux' ? it : it.skip;

/**
 * A spinning worker's CPU is above this (%); a quiet one's is a few %. Far from 100 %: on a
 * loaded machine (two CPU hogs on two cores, test files in parallel) a spinner gets a fraction
 * of a core, and a floor of 50 % failed there.
 */
const kBusyPercent = 20;

/** Resolves after the primary's next poll phase: answers already waiting on the channels are read by then. */
const afterReads = () => new Promise<void>((resolve) => setImmediate(resolve));

/** The value of one sample of an exposition (`name{labels}` exactly), or undefined. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((entry) => entry.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('ready means the same everywhere [H375]', () => {
  it('[H375] a silent worker is out of /readyz readyWorkers and /metrics clusterkit_workers{state="ready"}, as status counts it; minReady counts only the workers that answer', async () => {
    // Silent after max(2 intervals, 1 s) = 1 s; killed only after a minute, so the kill never races the assertions.
    const primary = testPrimary({ workerCount: 2, heartbeat: { intervalMs: 100, timeoutMs: 60_000 } });
    const [healthy, hung] = (await primary.start()) as [WorkerHandle, WorkerHandle];
    const lenient = await primary.listenHealth({ port: 0, host: '127.0.0.1', metricsTimeoutMs: 500 });
    const strict = await primary.listenHealth({ port: 0, host: '127.0.0.1', minReady: 2 });
    const readyz = async (port: number) => {
      const { status, body } = await get(`http://127.0.0.1:${port}/readyz`);
      return { status, body: JSON.parse(body) as Record<string, unknown> };
    };
    await until(() => primary.stats().every((row) => row.healthAgeMs !== undefined), 30_000, 'a heartbeat answer from each worker');
    expect(await readyz(strict.address.port)).toMatchObject({ status: 200, body: { readyWorkers: 2, silentWorkers: 0 } });

    const gate = join(gates, `hung-${hung.id}`);
    onCleanup(() => writeFileSync(gate, ''));
    await expect(primary.send(hung, 'sleepUntilFile', { path: gate })).resolves.toBe('blocking');
    await until(
      async () => {
        await afterReads();
        return primary.stats().some((row) => row.id === hung.id && row.isSilent);
      },
      30_000,
      'the hung worker shown silent',
    );

    // `clusterkit status --json` (its header's `workers 1/2 ready (1 silent)`).
    const status = clusterStatus(primary, { name: 'metrics-truth', script: 'ready.ts', startedAt: Date.now(), targetWorkers: () => 2 });
    expect(status.readyWorkers).toBe(1);
    // /readyz: before, readyWorkers 2 beside silentWorkers 1, and 200 with minReady 2.
    expect(await readyz(lenient.address.port)).toEqual({ status: 200, body: { status: 'ready', readyWorkers: 1, silentWorkers: 1, minReady: 1 } });
    const short = await readyz(strict.address.port);
    expect(short.status).toBe(503);
    expect(short.body).toMatchObject({ status: 'not ready', readyWorkers: 1, silentWorkers: 1, minReady: 2 });
    expect(short.body.reason).toMatch(/^1 of 2 required workers ready, 1 silent for \d+\.\ds or more \(no answer to the heartbeat\)$/);
    // /metrics over HTTP: before, clusterkit_workers{state="ready"} 2 beside clusterkit_worker_up 0.
    const metrics = await get(`http://127.0.0.1:${lenient.address.port}/metrics`, 30_000);
    expect(metrics.status).toBe(200);
    expect(metrics.body).toContain('clusterkit_workers{state="starting"} 0\nclusterkit_workers{state="ready"} 1\nclusterkit_workers{state="silent"} 1\nclusterkit_workers{state="closed"} 0\nclusterkit_workers{state="stopping"} 0\n');
    expect(sample(metrics.body, `clusterkit_worker_up{slot="${hung.slot}"}`)).toBe(0);
    expect(sample(metrics.body, `clusterkit_worker_up{slot="${healthy.slot}"}`)).toBe(1);

    // Answering again, it is ready again everywhere.
    writeFileSync(gate, '');
    await until(async () => (await readyz(strict.address.port)).status === 200, 30_000, '/readyz ready again with minReady 2');
    expect((await readyz(strict.address.port)).body).toMatchObject({ readyWorkers: 2, silentWorkers: 0 });
    expect(await primary.metrics()).toContain('clusterkit_workers{state="ready"} 2\nclusterkit_workers{state="silent"} 0\n');
  });

  it('[H375] writes each worker\'s CPU time as a counter that grows as it works', async () => {
    const primary = testPrimary({ workerCount: 1, heartbeat: { intervalMs: 100, timeoutMs: 60_000 } });
    const [worker] = (await primary.start()) as [WorkerHandle];
    const series = `clusterkit_worker_cpu_seconds_total{slot="${worker.slot}"}`;
    let before: number | undefined;
    await until(async () => (before = sample(await primary.metrics(), series)) !== undefined, 30_000, 'a first CPU figure');
    const text = await primary.metrics();
    expect(text).toContain('# TYPE clusterkit_worker_cpu_seconds_total counter\n');
    // 300 ms of a busy loop: its CPU time grows by about that much, told at the next heartbeat answer.
    await expect(primary.send(worker, 'block', { ms: 300 })).resolves.toBe('unblocked');
    let after = before!;
    await until(async () => (after = sample(await primary.metrics(), series)!) >= before! + 0.25, 30_000, 'the CPU counter to grow by the busy loop');
    expect(after).toBeGreaterThan(before!);
  });

  itOnLinux('[H390] a silent worker spinning at 100 % shows its true CPU in stats(), status --json and the CPU counter, read by the primary', async () => {
    // Silent after max(2 intervals, 1 s) = 1 s; killed only after a minute.
    const primary = testPrimary({ workerCount: 1, heartbeat: { intervalMs: 200, timeoutMs: 60_000 } });
    const [worker] = (await primary.start()) as [WorkerHandle];
    const series = `clusterkit_worker_cpu_seconds_total{slot="${worker.slot}"}`;
    const rowOf = () => primary.stats().find((row) => row.id === worker.id);
    await until(() => rowOf()?.healthAgeMs !== undefined && rowOf()?.cpuPercent !== undefined, 30_000, 'a first heartbeat answer and CPU reading');
    const gate = join(gates, `spin-${worker.id}`);
    onCleanup(() => writeFileSync(gate, ''));
    // Busy until the gate exists: its loop is blocked and it burns a core.
    await expect(primary.send(worker, 'blockUntilFile', { path: gate })).resolves.toBe('blocking');
    await until(
      async () => {
        await afterReads();
        return rowOf()?.isSilent === true;
      },
      30_000,
      'the spinning worker shown silent',
    );
    // Before: the last answer's quiet figure (a few %), whatever the worker burnt since. Not a
    // core's full 100 %: beside CPU hogs on a busy machine a spinning worker gets less of a core.
    let row = rowOf();
    await until(() => (row = rowOf())!.isSilent && row!.cpuPercent! > kBusyPercent, 30_000, `the silent worker's CPU above ${kBusyPercent} %`);
    expect(row!.healthAgeMs).toBeGreaterThan(900);
    // `clusterkit status --json` prints this answer.
    const status = JSON.parse(JSON.stringify(clusterStatus(primary, { name: 'metrics-truth', script: 'ready.ts', startedAt: Date.now(), targetWorkers: () => 1 }))) as ReturnType<typeof clusterStatus>;
    const shown = status.workers.find((entry) => entry.id === worker.id)!;
    expect(shown).toMatchObject({ state: 'ready', isSilent: true });
    expect(shown.cpuPercent).toBeGreaterThan(kBusyPercent);
    // Nor are its loop delays repeated from an interval long past.
    expect(shown.eventLoopDelayMs).toBeUndefined();
    // The counter grows during the silence (before: it stood at the last answer's figure).
    const before = sample(await primary.metrics({ timeoutMs: 500 }), series)!;
    expect(before).toBeGreaterThan(0);
    let after = before;
    await until(async () => (after = sample(await primary.metrics({ timeoutMs: 500 }), series)!) >= before + 0.5, 30_000, 'the CPU counter to grow while silent');
    expect(rowOf()!.isSilent).toBe(true);
    expect(after).toBeGreaterThanOrEqual(before + 0.5);
    writeFileSync(gate, '');
  });

  it('[H375] counts reloads by outcome: one that succeeds, one whose replacement crashes after ready fails', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'ck-reload-outcome-'));
    onCleanup(() => rmSync(directory, { recursive: true, force: true }));
    const file = join(directory, 'build');
    writeFileSync(file, 'good');
    const port = await freePort();
    const primary = testPrimary({ workerCount: 1, env: { PORT: String(port), BUILD_FILE: file }, silent: true }, 'workers/build-from-file.ts');
    await primary.start();
    // Every series from the first scrape, at 0: an alert on increase() has its starting point.
    let text = await primary.metrics();
    expect(text).toContain('# TYPE clusterkit_reloads_total counter\nclusterkit_reloads_total{outcome="succeeded"} 0\nclusterkit_reloads_total{outcome="failed"} 0\n');
    expect(text).toContain('# TYPE clusterkit_requests_cut_total counter\n');
    expect(text).toContain('# TYPE clusterkit_connections_reset_total counter\n');

    await primary.reload();
    expect(sample(await primary.metrics(), 'clusterkit_reloads_total{outcome="succeeded"}')).toBe(1);

    // A build that dies 200 ms after ready: the reload fails (H365, H371).
    writeFileSync(file, 'crash-after-ready');
    await expect(primary.reload()).rejects.toBeInstanceOf(ReloadError);
    text = await primary.metrics();
    expect(sample(text, 'clusterkit_reloads_total{outcome="succeeded"}')).toBe(1);
    expect(sample(text, 'clusterkit_reloads_total{outcome="failed"}')).toBe(1);
  });
});
