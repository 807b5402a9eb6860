/**
 * `npm run bench:reload`: requests served, failed and latency while a 4-worker HTTP cluster
 * reloads all its workers under load from autocannon (in a separate process).
 *
 *   npm run bench:reload -- [--workers 4] [--connections 50] [--duration 10] [--reloads 2] [--delay 0] [--json]
 */
import { spawn } from 'node:child_process';
import net from 'node:net';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { ClusterPrimary } from 'clusterkit';

const { values } = parseArgs({
  options: {
    workers: { type: 'string', default: '4' },
    connections: { type: 'string', default: '50' },
    duration: { type: 'string', default: '10' },
    reloads: { type: 'string', default: '2' },
    delay: { type: 'string', default: '0' },
    json: { type: 'boolean', default: false },
  },
});

const port = await freePort();
const primary = new ClusterPrimary({
  workerScript: fileURLToPath(new URL('./fixtures/http-worker.ts', import.meta.url)),
  execArgv: ['--import', 'tsx'],
  workerCount: Number(values.workers),
  env: { PORT: String(port), BENCH_DELAY_MS: values.delay },
  logger: false,
  handleSignals: false,
});
await primary.start();

const durationSeconds = Number(values.duration);
const load = runAutocannon(`http://127.0.0.1:${port}/`, values.connections, values.duration);
const reloadTimes: number[] = [];
const reloads = Number(values.reloads);
// Spread the reloads over the middle of the run.
for (let i = 0; i < reloads; i++) {
  await sleep(((durationSeconds * 1000) / (reloads + 1)) * (i === 0 ? 1 : 0.5));
  const startedAt = Date.now();
  await primary.reload();
  reloadTimes.push(Date.now() - startedAt);
}
const result = await load;
await primary.shutdown();

const failed = result.errors + result.timeouts + result.non2xx;
const report = {
  workers: Number(values.workers),
  connections: Number(values.connections),
  durationSeconds,
  reloads: reloadTimes.length,
  reloadMs: reloadTimes,
  requests: result.requests,
  served: result.ok,
  failed,
  failedBreakdown: { errors: result.errors, timeouts: result.timeouts, non2xx: result.non2xx, resets: result.resets },
  p50Ms: result.p50Ms,
  p99Ms: result.p99Ms,
  maxMs: result.maxMs,
};
if (values.json) {
  console.log(JSON.stringify(report));
} else {
  console.log(`reload under load: ${report.workers} workers, ${report.connections} keep-alive connections, ${durationSeconds} s, ${reloadTimes.length} full reloads (${reloadTimes.join(' ms, ')} ms)`);
  console.log(`  requests served  ${report.served}`);
  console.log(`  requests failed  ${failed}  (errors ${result.errors}, timeouts ${result.timeouts}, non-2xx ${result.non2xx}; connection resets ${result.resets})`);
  console.log(`  latency          p50 ${report.p50Ms} ms, p99 ${report.p99Ms} ms, max ${report.maxMs} ms`);
}

interface LoadResult {
  requests: number;
  ok: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  resets: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
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
      if (code !== 0 || !line.startsWith('{')) reject(new Error(`autocannon exited with ${code}: ${output}`));
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
  return new Promise((resolve) => setTimeout(resolve, ms));
}
