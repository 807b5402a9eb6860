/**
 * A heartbeat, its answer checked twice: its shape by `isPingReport` (the system router), then
 * its figures against what the machine allows. A worker answers about itself, but its figures
 * go into `clusterkit status`, `/metrics` and the dashboard's totals: forged ones (8 PB of RSS,
 * 1e9 % CPU, a heap using more than it holds) once showed there as measured. An impossible
 * figure is left unknown, never shown, and the answer is counted as an `out-of-range` protocol
 * error (the rate-limited warning). Memory figures every answer has: one of them impossible
 * drops the answer whole (the worker's figures stay what they were, unknown before its first
 * good answer); the others are left out of it.
 *
 * The answer's place among the worker's words is taken as it is read (`WorkerRecord.noteArrival`),
 * not when the promise settles: words read after it in the same read (a `$openRequests`) are
 * handled before the promise's jobs run, and would look older than the answer (H220).
 */
// node:os through loadOs: a worker imports this bundle too, and must not load it at start (start-modules.test.ts).
import { loadOs } from '../../builtins.js';
import { ProtocolError } from '../../errors.js';
import { checkPayload } from '../../messaging/payload-check.js';
import { isPingReport, kMaxOpenRequests, kPingRequest, type PingReport } from '../../messaging/system-types.js';
import type { WorkerRecord } from '../pool/worker-record.js';
import type { PrimaryContext } from '../primary-context.js';

/** A checked heartbeat answer, and its place among the worker's words read on its channel (`WorkerRecord.noteArrival`). */
export interface PingAnswer {
  report: PingReport;
  arrival: number;
}

/**
 * Sends `$ping` to `record`; resolves with the answer's possible figures, rejects as `ProtocolError`
 * when its shape is wrong (`bad-reply`) or its memory figures are impossible (`out-of-range`).
 * Both checks run as the answer is read, not when the promise settles: a second answer to the
 * same ping read in the same chunk (a worker's own listener answering before clusterkit's) is a
 * `duplicate-reply` reported after the first answer's problem, so the warning told at once
 * names the forged figures, not the genuine answer that followed them.
 */
export function checkedPing(system: PrimaryContext['system'], record: WorkerRecord, timeoutMs: number): Promise<PingAnswer> {
  const { endpoint } = record;
  return new Promise<PingAnswer>((resolve, reject) => {
    const onReply = (reply: unknown) => {
      const arrival = record.noteArrival();
      if (!isPingReport(reply)) {
        system.reportDropped(record, 'bad-reply', kPingRequest);
        return reject(new ProtocolError(record.describe(), 'bad-reply', kPingRequest));
      }
      const possible = possibleFigures(reply, Date.now() - record.startedAt);
      if (possible === reply) return resolve({ report: reply, arrival });
      system.reportDropped(record, 'out-of-range', kPingRequest);
      if (possible === undefined) return reject(new ProtocolError(record.describe(), 'out-of-range', kPingRequest));
      resolve({ report: possible, arrival });
    };
    // requestInto: its callback runs as the reply is read.
    endpoint.requestInto(kPingRequest, undefined, checkPayload(undefined, endpoint.serialization, Number.POSITIVE_INFINITY, kPingRequest), timeoutMs, undefined, onReply, reject);
  });
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
    heapLimit: report.heapLimit !== undefined && (report.heapLimit < kMinHeapLimit || report.heapLimit > kMaxHeapLimit),
    cpuPercent: report.cpuPercent !== undefined && report.cpuPercent > maxCpuPercent,
    loopDelayMean: report.loopDelayMean !== undefined && report.loopDelayMean > uptimeMs,
    loopDelayP99: report.loopDelayP99 !== undefined && report.loopDelayP99 > uptimeMs,
    openRequests: report.openRequests !== undefined && report.openRequests > kMaxOpenRequests,
    idleConnections: report.idleConnections !== undefined && report.idleConnections > kMaxOpenRequests,
  };
  if (!Object.values(impossible).includes(true)) return report;
  const possible: PingReport = { ...report };
  for (const [figure, isImpossible] of Object.entries(impossible)) if (isImpossible) delete possible[figure as keyof typeof impossible];
  return possible;
}

/** A heap limit below 1 MiB: V8 does not start with one (`--max-old-space-size=1` aborts in its start). */
const kMinHeapLimit = 1024 * 1024;
/** Above 1 PiB: no heap of this age has one (V8 takes `--max-old-space-size` beyond physical memory, so not bound by it). */
const kMaxHeapLimit = 2 ** 50;

/** The machine's bounds, read once: `cpus()` reads /proc/cpuinfo, too much for every heartbeat answer. */
let machine: { readonly memoryBytes: number; readonly maxCpuPercent: number } | undefined;

function readMachine(): { memoryBytes: number; maxCpuPercent: number } {
  const os = loadOs();
  return { memoryBytes: os.totalmem(), maxCpuPercent: 100 * Math.max(os.availableParallelism(), os.cpus().length) };
}
