/**
 * One cold trial, in a process of its own: start the workers, then time the very first
 * `requests` pipelined requests, with no warm-up of the primary's or the workers' JIT. This is
 * what a service meets just after it started or reloaded, and what a short job lives in.
 * Prints one JSON line: requests per second, and CPU time per request in the primary and in
 * the workers (nanoseconds; absent where /proc cannot be read).
 *
 *   node --import tsx bench/cold-start.ts <raw|clusterkit> <json|advanced> <requests> <inFlight>
 */
import type { Serialization } from 'clusterkit';
import { cpuNs, cpuNsOf } from './cpu-time.js';
import { drive, kPayloads, startDriver, type Implementation } from './scenarios.js';

const [implementation, serialization, requests = '40000', inFlight = '64'] = process.argv.slice(2);
const total = Number(requests);
const driver = await startDriver(implementation as Implementation, 2, serialization as Serialization);
try {
  const primaryBefore = cpuNs(process.pid);
  const workersBefore = cpuNsOf(driver.pids);
  const startedAt = process.hrtime.bigint();
  await drive(driver, Number(inFlight), kPayloads['64 B'], total);
  const elapsedNs = Number(process.hrtime.bigint() - startedAt);
  const primaryAfter = cpuNs(process.pid);
  const workersAfter = cpuNsOf(driver.pids);
  const perRequest = (before: number | undefined, after: number | undefined) =>
    before === undefined || after === undefined ? undefined : (after - before) / total;
  console.log(JSON.stringify({ rate: total / (elapsedNs / 1e9), primaryNs: perRequest(primaryBefore, primaryAfter), workersNs: perRequest(workersBefore, workersAfter) }));
} finally {
  await driver.stop();
}
