/**
 * The heap's limit in a heartbeat answer (H394): its shape and range checked as the answer is
 * read, and the judgement it feeds (the heap near its limit), which only words a silent worker's
 * lines.
 */
import { describe, expect, it } from '@jest/globals';
import { isPingReport, type PingReport } from '../../src/messaging/system-types.js';
import { possibleFigures } from '../../src/primary/lifecycle/checked-ping.js';
import { describeHeapPressure, heapPressureOf } from '../../src/primary/pool/heap-pressure.js';
import type { WorkerHealth } from '../../src/primary/pool/worker-record.js';

const kMiB = 1024 * 1024;
const report: PingReport = { rss: 200 * kMiB, heapUsed: 121 * kMiB, heapTotal: 150 * kMiB, heapLimit: 128 * kMiB };

function health(heapUsedBytes: number, heapLimitBytes: number | undefined): WorkerHealth {
  return { rssBytes: 200 * kMiB, heapUsedBytes, heapTotalBytes: 150 * kMiB, heapLimitBytes, eventLoopDelayMs: undefined, eventLoopDelayP99Ms: undefined, cpuPercent: undefined, openRequests: undefined, idleConnections: undefined, at: 0 };
}

describe('[H394] the heap limit in a heartbeat answer', () => {
  it('is optional (older workers) and a finite non-negative figure when there', () => {
    expect(isPingReport(report)).toBe(true);
    expect(isPingReport({ ...report, heapLimit: undefined })).toBe(true);
    for (const heapLimit of [-1, Number.NaN, Number.POSITIVE_INFINITY, '128', null]) expect(isPingReport({ ...report, heapLimit })).toBe(false);
  });

  it('an impossible limit (below 1 MiB, above 1 PiB) is left out of the answer, the rest kept; a limit below the heap used is possible (the young generation counts in the heap used, not in the limit)', () => {
    expect(possibleFigures(report, 60_000)).toBe(report);
    expect(possibleFigures({ ...report, heapLimit: 64 * 1024 }, 60_000)).toEqual({ rss: report.rss, heapUsed: report.heapUsed, heapTotal: report.heapTotal });
    expect(possibleFigures({ ...report, heapLimit: 2 ** 51 }, 60_000)).toEqual({ rss: report.rss, heapUsed: report.heapUsed, heapTotal: report.heapTotal });
    const smallOld = { ...report, heapLimit: 16 * kMiB };
    expect(possibleFigures(smallOld, 60_000)).toBe(smallOld);
  });

  it('a heap at 90 % of its limit or more is near it, and the clause says by how much; below, or with no limit said, it is not', () => {
    expect(heapPressureOf(health(121 * kMiB, 128 * kMiB))).toEqual({ heapUsedBytes: 121 * kMiB, heapLimitBytes: 128 * kMiB });
    expect(describeHeapPressure(heapPressureOf(health(121 * kMiB, 128 * kMiB))!)).toBe(
      'its heap was 121 of 128 MB (95 % of its limit) at its last answer: most likely garbage collection near the heap limit (a leak, or too small a --max-old-space-size: raise it, or set maxMemoryMb to replace the worker before it gets there)',
    );
    expect(describeHeapPressure({ heapUsedBytes: 140 * kMiB, heapLimitBytes: 128 * kMiB })).toMatch(/^its heap was 140 of 128 MB \(at its limit\) at its last answer: /);
    expect(describeHeapPressure({ heapUsedBytes: 127.9 * kMiB, heapLimitBytes: 128 * kMiB })).toMatch(/^its heap was 128 of 128 MB \(99 % of its limit\) at its last answer: /);
    expect(heapPressureOf(health(100 * kMiB, 128 * kMiB))).toBeUndefined();
    expect(heapPressureOf(health(121 * kMiB, undefined))).toBeUndefined();
    expect(heapPressureOf(undefined)).toBeUndefined();
  });
});
