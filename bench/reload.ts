/**
 * `npm run bench:reload`: what users feel of a rolling reload. A plain HTTP server (each request
 * waits `--delay` ms, its "work") on `--workers` workers, under keep-alive load from autocannon
 * (in a separate process), with `--reloads` reloads in the middle of each `--duration` s run.
 * Each of `--runs` runs reports requests served and failed, and the p99 latency before the
 * reload (steady state, after a 1 s warm-up), of the requests in flight during it, and after
 * it, all from the same run. The summary takes the median over the runs.
 *
 *   npm run bench:reload -- [--runs 10] [--workers 2] [--connections 20] [--duration 8]
 *                           [--reloads 1] [--delay 5] [--gradual-drain <ms>] [--json] [--timeline]
 *
 * `--gradual-drain` sets the primary's `gradualDrainMs` (its default otherwise; 0 releases a
 * retiring worker's connections all at once).
 */
import { spawn } from 'node:child_process';
import net from 'node:net';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { ClusterPrimary } from 'clusterkit';
import { latencyByWindow, median, percentile, type Samples, type WindowLatency } from './latency-windows.js';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '10' },
    workers: { type: 'string', default: '2' },
    connections: { type: 'string', default: '20' },
    duration: { type: 'string', default: '8' },
    reloads: { type: 'string', default: '1' },
    delay: { type: 'string', default: '5' },
    'gradual-drain': { type: 'string' },
    json: { type: 'boolean', default: false },
    timeline: { type: 'boolean', default: false },
  },
});

/** The floor of issue 15: reload p99 at most this many times steady p99 (median of the runs). */
const kMaxReloadRatio = 1.5;
const kWarmUpMs = 1_000;
const now = () => performance.timeOrigin + performance.now();
const log = (text: string) => {
  if (!values.json) console.log(text);
};

interface RunReport {
  reloadMs: number[];
  served: number;
  failed: number;
  failedBreakdown: Record<string, number>;
  steady: WindowLatency;
  reload: WindowLatency;
  after: WindowLatency;
  /** p99 over the whole run (warm-up included), ms. */
  p99Ms: number;
}

const runs: RunReport[] = [];
for (let run = 0; run < Number(values.runs); run++) {
  const report = await measureRun();
  runs.push(report);
  log(
    `run ${run + 1}: served ${report.served}, failed ${report.failed}; p99 steady ${report.steady.p99Ms} ms, ` +
      `reload ${report.reload.p99Ms} ms (${report.reload.count} requests, ${report.reloadMs.join('/')} ms), after ${report.after.p99Ms} ms`,
  );
}

const steadyP99 = round(median(runs.map((run) => run.steady.p99Ms)));
const reloadP99 = round(median(runs.map((run) => run.reload.p99Ms)));
const summary = {
  runs: runs.length,
  workers: Number(values.workers),
  connections: Number(values.connections),
  durationSeconds: Number(values.duration),
  delayMs: Number(values.delay),
  reloads: Number(values.reloads),
  runsWithFailures: runs.filter((run) => run.failed > 0).length,
  served: runs.reduce((sum, run) => sum + run.served, 0),
  failed: runs.reduce((sum, run) => sum + run.failed, 0),
  steadyP99Ms: steadyP99,
  reloadP99Ms: reloadP99,
  afterP99Ms: round(median(runs.map((run) => run.after.p99Ms))),
  /** Median over the runs of each run's reload p99 / steady p99. */
  reloadRatio: round(median(runs.map((run) => run.reload.p99Ms / run.steady.p99Ms))),
  reloadMs: Math.round(median(runs.flatMap((run) => run.reloadMs))),
  loadAverage: (await import('node:os')).loadavg().map(round),
};
const meetsFloor = summary.runsWithFailures === 0 && summary.reloadRatio <= kMaxReloadRatio;
if (values.json) {
  console.log(JSON.stringify({ ...summary, meetsFloor, runs: runs }));
} else {
  log(`\nreload under load: ${summary.workers} workers, ${summary.connections} keep-alive connections, ${summary.durationSeconds} s runs, ${summary.reloads} reload(s) each (median ${summary.reloadMs} ms), requests wait ${summary.delayMs} ms`);
  log(`  runs with failed requests  ${summary.runsWithFailures} of ${summary.runs} (${summary.failed} failed of ${summary.served + summary.failed})`);
  log(`  p99 latency (median)       steady ${steadyP99} ms, during reload ${reloadP99} ms, after ${summary.afterP99Ms} ms`);
  log(`  reload p99 / steady p99    ${summary.reloadRatio}x (median of the runs; floor <= ${kMaxReloadRatio}x: ${meetsFloor ? 'ok' : 'MISSED'})`);
  log(`  load average               ${summary.loadAverage.join(' ')}`);
}

async function measureRun(): Promise<RunReport> {
  const port = await freePort();
  const primary = new ClusterPrimary({
    workerScript: fileURLToPath(new URL('./fixtures/http-worker.mjs', import.meta.url)),
    execArgv: [],
    workerCount: Number(values.workers),
    env: { PORT: String(port), BENCH_DELAY_MS: values.delay },
    logger: false,
    handleSignals: false,
    ...(values['gradual-drain'] === undefined ? {} : { gradualDrainMs: Number(values['gradual-drain']) }),
  });
  const events: Array<[number, string]> = [];
  if (values.timeline) {
    for (const name of ['workerFork', 'workerOnline', 'workerListening', 'workerReady', 'workerExit'] as const) {
      primary.on(name, (event: { worker: { id: number } }) => events.push([now(), `${name} ${event.worker.id}`]));
    }
  }
  await primary.start();
  const durationMs = Number(values.duration) * 1000;
  const reloads = Number(values.reloads);
  const loadStart = now();
  const load = runAutocannon(`http://127.0.0.1:${port}/`, values.connections, values.duration);
  const windows: Array<[number, number]> = [];
  try {
    // Spread the reloads over the middle of the run.
    for (let i = 0; i < reloads; i++) {
      await sleep(loadStart + (durationMs / (reloads + 1)) * (i + 1) - now());
      const startedAt = now();
      await primary.reload();
      windows.push([startedAt, now()]);
    }
  } finally {
    await load.catch(() => undefined);
    await primary.shutdown();
  }
  const result = await load;
  const latency = latencyByWindow(result.samples, { warmUpEnd: loadStart + kWarmUpMs, reloads: windows });
  if (values.timeline) printTimeline(result.samples, loadStart, windows, events);
  return {
    reloadMs: windows.map(([from, to]) => Math.round(to - from)),
    served: result.ok,
    failed: result.errors + result.timeouts + result.non2xx,
    failedBreakdown: { errors: result.errors, timeouts: result.timeouts, non2xx: result.non2xx, resets: result.resets },
    ...latency,
    p99Ms: result.p99Ms,
  };
}

/** p99 and max latency per 100 ms of the run, with the reload and worker events. */
function printTimeline(samples: Samples, loadStart: number, windows: Array<[number, number]>, events: Array<[number, string]>): void {
  const buckets = new Map<number, number[]>();
  for (let i = 0; i < samples.end.length; i++) {
    const bucket = Math.floor((samples.end[i]! - loadStart) / 100);
    let list = buckets.get(bucket);
    if (!list) buckets.set(bucket, (list = []));
    list.push(samples.latency[i]!);
  }
  const marks = [...events, ...windows.flatMap(([from, to]): Array<[number, string]> => [[from, 'reload'], [to, 'reloadComplete']])];
  for (const [bucket, list] of [...buckets].sort((a, b) => a[0] - b[0])) {
    const sorted = Float64Array.from(list).sort();
    const here = marks.filter(([at]) => Math.floor((at - loadStart) / 100) === bucket).map(([at, name]) => `${name} @${Math.round(at - loadStart)}`);
    log(`  ${String(bucket * 100).padStart(5)} ms  n ${String(list.length).padStart(4)}  p99 ${percentile(sorted, 0.99).toFixed(1).padStart(6)}  max ${sorted.at(-1)!.toFixed(1).padStart(6)}  ${here.join(', ')}`);
  }
}

interface LoadResult {
  ok: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  resets: number;
  p99Ms: number;
  samples: Samples;
}

function runAutocannon(url: string, connections: string, duration: string): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const script = fileURLToPath(new URL('./load/autocannon-run.ts', import.meta.url));
    const child = spawn(process.execPath, ['--import', 'tsx', script, url, connections, duration], { stdio: ['ignore', 'pipe', 'inherit'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('error', reject);
    child.on('exit', (code) => {
      const line = output.trim().split('\n').at(-1) ?? '';
      if (code !== 0 || !line.startsWith('{')) reject(new Error(`autocannon exited with ${code}: ${output.slice(0, 2_000)}`));
      else resolve(JSON.parse(line) as LoadResult);
    });
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}
