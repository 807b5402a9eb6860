/**
 * A heartbeat, its answer checked twice: its shape by `isPingReport` (the system router), then
 * its figures against what the machine allows. A worker answers about itself, but its figures
 * go into `clusterkit status`, `/metrics` and the dashboard's totals: forged ones (8 PB of RSS,
 * 1e9 % CPU, a heap using more than it holds) once showed there as measured. An impossible
 * figure is left unknown, never shown, and the answer is counted as an `out-of-range` protocol
 * error (the rate-limited warning). Memory figures every answer has: one of them impossible
 * drops the answer whole (the worker's figures stay what they were, unknown before its first
 * good answer); the others are left out of it.
 */
// node:os through loadOs: a worker imports this bundle too, and must not load it at start (start-modules.test.ts).
import { loadOs } from '../../builtins.js';
import { ProtocolError } from '../../errors.js';
import { isPingReport, kMaxOpenRequests, kPingRequest, type PingReport } from '../../messaging/system-types.js';
import type { WorkerRecord } from '../pool/worker-record.js';
import type { PrimaryContext } from '../primary-context.js';

/** Sends `$ping` to `record`; resolves with the answer's possible figures, rejects as `ProtocolError` when its memory figures are not. */
export async function checkedPing(system: PrimaryContext['system'], record: WorkerRecord, timeoutMs: number): Promise<PingReport> {
  const report = await system.request(record, record.endpoint, kPingRequest, undefined, isPingReport, timeoutMs);
  const possible = possibleFigures(report, Date.now() - record.startedAt);
  if (possible === report) return report;
  system.reportDropped(record, 'out-of-range', kPingRequest);
  if (possible === undefined) throw new ProtocolError(record.describe(), 'out-of-range', kPingRequest);
  return possible;
}

/**
 * `report` when each figure is one a worker alive `uptimeMs` on this machine can have; a copy
 * without the impossible optional ones; undefined when a memory figure is impossible. Bounds:
 * RSS (resident pages) and the heap within physical memory, the heap used within the heap;
 * CPU within 100 % per core (every thread of the process together: `cpus()` counts the cores
 * online, `availableParallelism()` those it may run on); an event-loop delay within the
 * worker's life; open requests within `kMaxOpenRequests`.
 */
export function possibleFigures(report: PingReport, uptimeMs: number): PingReport | undefined {
  const { memoryBytes, maxCpuPercent } = (machine ??= readMachine());
  if (report.rss > memoryBytes || report.heapTotal > memoryBytes || report.heapUsed > report.heapTotal) return undefined;
  const impossible = {
    cpuPercent: report.cpuPercent !== undefined && report.cpuPercent > maxCpuPercent,
    loopDelayMean: report.loopDelayMean !== undefined && report.loopDelayMean > uptimeMs,
    loopDelayP99: report.loopDelayP99 !== undefined && report.loopDelayP99 > uptimeMs,
    openRequests: report.openRequests !== undefined && report.openRequests > kMaxOpenRequests,
  };
  if (!Object.values(impossible).includes(true)) return report;
  const possible: PingReport = { ...report };
  for (const [figure, isImpossible] of Object.entries(impossible)) if (isImpossible) delete possible[figure as keyof typeof impossible];
  return possible;
}

/** The machine's bounds, read once: `cpus()` reads /proc/cpuinfo, too much for every heartbeat answer. */
let machine: { readonly memoryBytes: number; readonly maxCpuPercent: number } | undefined;

function readMachine(): { memoryBytes: number; maxCpuPercent: number } {
  const os = loadOs();
  return { memoryBytes: os.totalmem(), maxCpuPercent: 100 * Math.max(os.availableParallelism(), os.cpus().length) };
}
