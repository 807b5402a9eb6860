/**
 * The benchmark scenarios. Each runs one implementation (raw node:cluster or clusterkit) with
 * one serialization and returns its figures; the runner interleaves trials of both.
 */
import { execFile } from 'node:child_process';
import type { Worker } from 'node:cluster';
import { fileURLToPath } from 'node:url';
import { ClusterPrimary, type Serialization, type WorkerHandle } from 'clusterkit';
import { kWorkerExecArgv, RawCluster } from './raw-cluster.js';

export type Implementation = 'raw' | 'clusterkit';

export interface Sizes {
  /** Requests per throughput trial, for 64-byte payloads (scaled down for bigger ones). */
  requests: number;
  /** Sequential round trips per latency trial. */
  roundTrips: number;
  /** Broadcasts per trial. */
  broadcasts: number;
  /** Requests of the memory scenario. */
  memoryRequests: number;
  /** Requests of the cold-start scenario, counted from the start of a fresh primary. */
  coldRequests: number;
}

const kKitWorker = fileURLToPath(new URL('./workers/kit-echo.mjs', import.meta.url));
const kColdStart = fileURLToPath(new URL('./cold-start.ts', import.meta.url));

export const kPayloads = {
  '64 B': { data: 'x'.repeat(52) },
  '10 KB': { data: 'x'.repeat(10 * 1024 - 12) },
  '1 MB': { data: 'x'.repeat(1024 * 1024 - 12) },
} as const;
export type PayloadSize = keyof typeof kPayloads;

/** A uniform face over both implementations. */
export interface Driver {
  readonly targets: unknown[];
  /** The worker processes' ids, for their CPU time. */
  readonly pids: Array<number | undefined>;
  request(target: unknown, payload: unknown): Promise<unknown>;
  notify(target: unknown, payload: unknown): void;
  count(target: unknown): Promise<number>;
  broadcast(payload: unknown): Promise<unknown>;
  stop(): Promise<void>;
}

export async function startDriver(implementation: Implementation, workers: number, serialization: Serialization): Promise<Driver> {
  if (implementation === 'raw') {
    const raw = await RawCluster.start(workers, serialization);
    return {
      targets: raw.workers,
      pids: raw.workers.map((worker) => worker.process.pid),
      request: (target, payload) => raw.request(target as Worker, payload),
      notify: (target, payload) => raw.notify(target as Worker, payload),
      count: (target) => raw.count(target as Worker) as Promise<number>,
      broadcast: (payload) => Promise.all(raw.workers.map((worker) => raw.request(worker, payload))),
      stop: () => raw.stop(),
    };
  }
  const primary = await startKit(workers, serialization);
  return {
    targets: primary.workers,
    pids: primary.workers.map((worker) => worker.pid),
    request: (target, payload) => primary.send(target as WorkerHandle, 'echo', payload),
    notify: (target, payload) => primary.notify(target as WorkerHandle, 'tick', payload),
    count: (target) => primary.send(target as WorkerHandle, 'count') as Promise<number>,
    broadcast: (payload) => primary.broadcast('echo', payload),
    stop: async () => void (await primary.shutdown()),
  };
}

export async function startKit(workers: number, serialization: Serialization): Promise<ClusterPrimary> {
  const primary = new ClusterPrimary({ workerScript: kKitWorker, execArgv: kWorkerExecArgv, workerCount: workers, serialization, logger: false, handleSignals: false });
  await primary.start();
  return primary;
}

/** Sequential round trips to one worker: p50 and p99 latency in microseconds. */
export async function roundTripLatency(driver: Driver, count: number): Promise<{ p50: number; p99: number }> {
  const target = driver.targets[0];
  const payload = kPayloads['64 B'];
  // Both sides get the same warm-up: enough for the JIT to optimize either code path.
  for (let i = 0; i < Math.max(2_000, count / 2); i++) await driver.request(target, payload);
  const samples = new Float64Array(count);
  for (let i = 0; i < count; i++) {
    const startedAt = process.hrtime.bigint();
    await driver.request(target, payload);
    samples[i] = Number(process.hrtime.bigint() - startedAt) / 1_000;
  }
  samples.sort();
  return { p50: samples[Math.floor(count * 0.5)]!, p99: samples[Math.floor(count * 0.99)]! };
}

/** Requests per second with `inFlight` requests outstanding at all times, spread over the workers. */
export async function pipelinedThroughput(driver: Driver, inFlight: number, payload: unknown, total: number): Promise<number> {
  const startedAt = process.hrtime.bigint();
  await drive(driver, inFlight, payload, total);
  return total / (Number(process.hrtime.bigint() - startedAt) / 1e9);
}

/** Runs of `measure` before the measured ones, on each new driver. */
export const kWarmUpRuns = 3;

/**
 * Warms up, then returns the median of `repetitions` runs of `measure` on the same driver:
 * steady state, as in a long-running service, for both implementations alike. The warm-up is
 * long because fresh workers start with cold JITs, and a worker with more code (clusterkit's)
 * takes longer to be optimized than a ten-line one.
 */
export async function steady(measure: () => Promise<number>, repetitions: number, warmUpRuns = kWarmUpRuns): Promise<number> {
  for (let i = 0; i < warmUpRuns; i++) await measure();
  const results: number[] = [];
  for (let i = 0; i < repetitions; i++) results.push(await measure());
  return results.sort((a, b) => a - b)[Math.floor(repetitions / 2)]!;
}

/** Sends `total` requests, keeping `inFlight` outstanding, round-robin over the workers. */
export async function drive(driver: Driver, inFlight: number, payload: unknown, total: number): Promise<void> {
  let issued = 0;
  let next = 0;
  const lane = async () => {
    while (issued < total) {
      issued++;
      await driver.request(driver.targets[next++ % driver.targets.length], payload);
    }
  };
  await Promise.all(Array.from({ length: inFlight }, lane));
}

/** Notifications per second, counted as delivered by the workers themselves (measured after a warm-up run). */
export async function notifyThroughput(driver: Driver, total: number): Promise<number> {
  const payload = kPayloads['64 B'];
  const before = await Promise.all(driver.targets.map((target) => driver.count(target)));
  const startedAt = process.hrtime.bigint();
  for (let i = 0; i < total; i++) {
    driver.notify(driver.targets[i % driver.targets.length], payload);
    // Yield now and then, as a real producer does, so writes can drain.
    if (i % 1_000 === 999) await new Promise((resolve) => setImmediate(resolve));
  }
  const after = await Promise.all(driver.targets.map((target) => driver.count(target)));
  const delivered = after.reduce((sum, count, index) => sum + count - before[index]!, 0);
  if (delivered !== total) throw new Error(`notify: ${delivered} of ${total} delivered`);
  return total / (Number(process.hrtime.bigint() - startedAt) / 1e9);
}

/** Broadcast round trips (to every worker, all replies awaited) per second. */
export async function broadcastRate(driver: Driver, count: number): Promise<number> {
  const payload = kPayloads['64 B'];
  const startedAt = process.hrtime.bigint();
  for (let i = 0; i < count; i++) await driver.broadcast(payload);
  return count / (Number(process.hrtime.bigint() - startedAt) / 1e9);
}

/**
 * The first `total` pipelined requests (64 B, 64 in flight, 2 workers) of a primary started
 * just now, in a fresh process (cold-start.ts): requests per second, and CPU time per request
 * in µs, of the primary and of the workers.
 */
export async function coldStart(implementation: Implementation, serialization: Serialization, total: number): Promise<Record<string, number>> {
  const { stdout } = await new Promise<{ stdout: string }>((resolve, reject) =>
    execFile(process.execPath, ['--import', 'tsx', kColdStart, implementation, serialization, String(total), '64'], (error, out) => (error ? reject(error) : resolve({ stdout: out }))),
  );
  const result = JSON.parse(stdout.trim().split('\n').at(-1)!) as { rate: number; primaryNs?: number; workersNs?: number };
  return { rate: result.rate, ...(result.primaryNs === undefined || result.workersNs === undefined ? {} : { cpuUs: (result.primaryNs + result.workersNs) / 1000 }) };
}

/** Milliseconds from start to every worker ready (raw: forked, online and first message received). */
export async function startToReady(implementation: Implementation, workers: number, serialization: Serialization): Promise<number> {
  // Let the previous trial's processes finish exiting: they would compete for the CPU.
  await new Promise((resolve) => setTimeout(resolve, 300));
  const startedAt = process.hrtime.bigint();
  const driver = await startDriver(implementation, workers, serialization);
  const elapsed = Number(process.hrtime.bigint() - startedAt) / 1e6;
  await driver.stop();
  return elapsed;
}

/** Primary heap and RSS before, at the peak of, and after 1 000 000 pipelined requests. */
export async function memoryAfterRequests(serialization: Serialization, total: number): Promise<Record<string, number>> {
  const gc = (globalThis as { gc?: () => void }).gc;
  const settle = async () => {
    for (let i = 0; i < 3; i++) {
      gc?.();
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    return process.memoryUsage();
  };
  const driver = await startDriver('clusterkit', 2, serialization);
  await drive(driver, 1_024, kPayloads['64 B'], 20_000);
  const before = await settle();
  let peakHeap = 0;
  const sampler = setInterval(() => (peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed)), 50);
  await drive(driver, 1_024, kPayloads['64 B'], total);
  clearInterval(sampler);
  const after = await settle();
  await driver.stop();
  const mb = (bytes: number) => Math.round((bytes / 1024 / 1024) * 10) / 10;
  return {
    heapBeforeMb: mb(before.heapUsed),
    heapPeakMb: mb(peakHeap),
    heapAfterMb: mb(after.heapUsed),
    rssBeforeMb: mb(before.rss),
    rssAfterMb: mb(after.rss),
    gcAvailable: gc ? 1 : 0,
  };
}
