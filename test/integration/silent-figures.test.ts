/**
 * What the reports show of a hung worker's figures that the primary measures itself (Linux:
 * /proc), and of the heap limit a worker reports: the `clusterkit status` table from the real
 * CLI, `status --json` over the control socket, `primary.stats()` and `primary.metrics()`.
 *
 * The hang is a sleep (no CPU taken from the healthy worker) ended by a file the test writes,
 * never by a clock; the heartbeat timeout is a minute, so no kill races the assertions.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { controlRequest } from '../../src/control/control-client.js';
import type { ClusterStatus } from '../../src/control/control-protocol.js';
import type { WorkerHandle, WorkerStats } from '../../src/index.js';
import { isCpuMeasured } from '../../src/primary/pool/measured-cpu.js';
import { isRssMeasured } from '../../src/primary/pool/measured-rss.js';
import { cli, runtimeDir } from '../cli/cli-process.js';
import { onCleanup } from '../helpers/cleanup.js';
import { testPrimary } from '../helpers/primary.js';
import { until } from '../helpers/wait.js';

const gates = mkdtempSync(join(tmpdir(), 'ck-gates-'));
onCleanup(() => rmSync(gates, { recursive: true, force: true }));

const kMiB = 1024 * 1024;

function rowOf(rows: readonly WorkerStats[], worker: WorkerHandle): WorkerStats {
  const row = rows.find((candidate) => candidate.id === worker.id);
  if (!row) throw new Error(`no stats row for worker ${worker.id}`);
  return row;
}

/** The control directory of a runtime dir the test's primary serves in (restored after the test). */
function serveIn(runtime: string): string {
  const saved = process.env.XDG_RUNTIME_DIR;
  process.env.XDG_RUNTIME_DIR = runtime;
  onCleanup(() => (saved === undefined ? delete process.env.XDG_RUNTIME_DIR : (process.env.XDG_RUNTIME_DIR = saved)));
  return join(runtime, 'clusterkit');
}

/** A value of `family` for `slot` in a Prometheus text; undefined when absent. */
function sample(text: string, family: string, slot: number): number | undefined {
  const match = new RegExp(`^${family}\\{slot="${slot}"\\} (\\S+)$`, 'm').exec(text);
  return match ? Number(match[1]) : undefined;
}

/** Blocks `worker`'s loop (asleep) until the returned function is called or the test ends; `grow` makes it take `mb` MiB meanwhile. */
async function hang(primary: ReturnType<typeof testPrimary>, worker: WorkerHandle, name: string, mb = 0): Promise<{ release: () => void; grow: () => void }> {
  const gate = join(gates, name);
  const growGate = join(gates, `${name}-grow`);
  const release = onCleanup(() => writeFileSync(gate, ''));
  await expect(primary.send(worker, 'sleepGrowingUntilFile', { path: gate, growPath: growGate, mb })).resolves.toBe('blocking');
  return { release, grow: () => writeFileSync(growGate, '') };
}

describe('a silent worker\'s measured figures', () => {
  it('[H413] the status table shows a silent worker\'s CPU as the primary measured it, and its note says so; status --json says it was measured', async () => {
    const runtime = runtimeDir();
    const directory = serveIn(runtime);
    const primary = testPrimary({ serviceName: 'silentcpu', workerCount: 2, heartbeat: { intervalMs: 100, timeoutMs: 60_000 } });
    const [healthy, hung] = (await primary.start()) as [WorkerHandle, WorkerHandle];
    await until(() => primary.stats().every((row) => row.cpuPercent !== undefined), 30_000, 'a CPU figure of each worker');
    const { release } = await hang(primary, hung, 'cpu');
    await until(() => rowOf(primary.stats(), hung).isSilent, 30_000, 'the hung worker shown silent');

    const status = (await controlRequest('silentcpu', 'status', { directory })) as ClusterStatus;
    const json = rowOf(status.workers, hung);
    expect(json).toMatchObject({ isSilent: true, isCpuMeasured: isCpuMeasured });
    const table = await cli(['status', 'silentcpu'], { runtime });
    expect(table.code).toBe(0);
    const line = (worker: WorkerHandle) => table.stdout.split('\n').find((text) => new RegExp(`^\\s*${worker.id}\\s+${worker.pid}\\s`).test(text)) ?? '';
    if (isCpuMeasured) {
      // Before: `-` for its CPU, though --json had the primary's figure (asleep: about 0).
      expect(line(hung)).toMatch(/\ssilent \d+\.\ds\s.*\s-\s+\d+\.\d%\s+\d+\s+\d+$/);
      expect(table.stdout).toContain('silent: no answer to the heartbeat for that long (a blocked event loop?); loop unknown until it answers, cpu as the primary reads it\n');
    } else {
      expect(line(hung)).toMatch(/\ssilent \d+\.\ds\s.*\s-\s+-\s+\d+\s+\d+$/);
      expect(table.stdout).toContain('loop and cpu unknown until it answers\n');
    }
    expect(line(healthy)).toMatch(/\sready\s.*\d%\s/);
    release();
    await until(() => !rowOf(primary.stats(), hung).isSilent, 30_000, 'the worker answering again');
  });

  it('[H414] a silent worker\'s RSS is measured while it stays silent (Linux): its memory growing shows in stats(), status --json and /metrics', async () => {
    // Elsewhere there is no /proc: a silent worker's RSS is its last answer's, by design.
    if (!isRssMeasured) return;
    const runtime = runtimeDir();
    const directory = serveIn(runtime);
    const primary = testPrimary({ serviceName: 'silentrss', workerCount: 2, heartbeat: { intervalMs: 100, timeoutMs: 60_000 } });
    const [, hung] = (await primary.start()) as [WorkerHandle, WorkerHandle];
    await until(() => primary.stats().every((row) => row.healthAgeMs !== undefined && row.eventLoopDelayMs !== undefined), 30_000, 'heartbeat answers from each worker');
    const { release, grow } = await hang(primary, hung, 'rss', 160);
    await until(() => rowOf(primary.stats(), hung).isSilent, 30_000, 'the hung worker shown silent');
    const before = rowOf(primary.stats(), hung).rssBytes!;
    expect(before).toBeGreaterThan(0);
    // It takes 160 MiB while it answers nothing: before, its RSS stayed its last answer's.
    grow();
    const grown = before + 128 * kMiB;
    await until(() => rowOf(primary.stats(), hung).rssBytes! > grown, 30_000, `the silent worker's RSS past ${grown} bytes (was ${before})`);
    const row = rowOf(primary.stats(), hung);
    expect(row.isSilent).toBe(true);
    // Still the figures of its last answer otherwise.
    expect(row.healthAgeMs).toBeGreaterThan(900);

    const status = (await controlRequest('silentrss', 'status', { directory })) as ClusterStatus;
    expect(rowOf(status.workers, hung).isSilent).toBe(true);
    expect(rowOf(status.workers, hung).rssBytes).toBeGreaterThan(grown);
    const metrics = await primary.metrics({ timeoutMs: 1_000 });
    expect(sample(metrics, 'clusterkit_worker_rss_bytes', hung.slot)).toBeGreaterThan(grown);
    expect(metrics).toContain(`clusterkit_worker_up{slot="${hung.slot}"} 0`);

    // Answering again, its RSS is that of its answers (measured then): the grown memory still held.
    release();
    await until(() => !rowOf(primary.stats(), hung).isSilent && rowOf(primary.stats(), hung).healthAgeMs! < 1_000, 30_000, 'the worker answering again');
    expect(rowOf(primary.stats(), hung).rssBytes).toBeGreaterThan(grown);
  });

  it('[H415] /metrics has each worker\'s reported heap limit, clusterkit_worker_heap_limit_bytes, with its HELP and TYPE', async () => {
    const primary = testPrimary({ serviceName: 'heaplimit', workerCount: 2, heartbeat: { intervalMs: 100, timeoutMs: 60_000 } });
    const workers = await primary.start();
    await until(() => primary.stats().every((row) => row.heapLimitBytes !== undefined), 30_000, 'a heap limit from each worker');
    const metrics = await primary.metrics();
    expect(metrics).toMatch(/^# HELP clusterkit_worker_heap_limit_bytes \S.*$/m);
    expect(metrics).toMatch(/^# TYPE clusterkit_worker_heap_limit_bytes gauge$/m);
    const stats = primary.stats();
    for (const worker of workers) {
      const limit = sample(metrics, 'clusterkit_worker_heap_limit_bytes', worker.slot);
      expect(limit).toBe(rowOf(stats, worker).heapLimitBytes);
      expect(limit).toBeGreaterThan(sample(metrics, 'clusterkit_worker_heap_used_bytes', worker.slot)!);
    }
  });
});
