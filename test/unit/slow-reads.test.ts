/**
 * How the costly reads of a worker's channel become `workerSlowMessage` reports (slow-reads.ts):
 * the time told adds up to the time read, the rest of a burst under 1 s included (H81), and a
 * trickle long after a burst is not told. Jest's fake clock: the 10 s happen at once.
 */
import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { SlowReadTally, type SlowReadLimits, type SlowReads } from '../../src/primary/pool/slow-reads.js';

beforeEach(() => {
  jest.useFakeTimers();
});
afterEach(() => {
  jest.useRealTimers();
});

/** A report as told, its types only when it has some (the tests of the times give none). */
type Told = Omit<SlowReads, 'types'> & { types?: string[] };

function tally(limits?: SlowReadLimits): { told: Told[]; tally: SlowReadTally } {
  const told: Told[] = [];
  return {
    told,
    tally: new SlowReadTally(({ types, ...reads }) => told.push(types.size > 0 ? { ...reads, types: [...types] } : reads), limits),
  };
}

const sum = (told: Told[], key: 'readMs' | 'reads') => told.reduce((total, reads) => total + reads[key], 0);

describe('SlowReadTally', () => {
  it('[H81] tells the rest of a burst under 1 s in the trailing report: 1.4 s read is 1.4 s told', () => {
    const { told, tally: reads } = tally();
    reads.add(600, 1_000);
    reads.add(500, 2_000);
    expect(told).toEqual([{ readMs: 1_100, reads: 2, bytes: 2_000, count: 1 }]);
    jest.advanceTimersByTime(2_000);
    reads.add(200, 500);
    reads.add(100, 700);
    expect(told).toHaveLength(1);
    jest.advanceTimersByTime(8_000);
    expect(told).toEqual([
      { readMs: 1_100, reads: 2, bytes: 2_000, count: 1 },
      { readMs: 300, reads: 2, bytes: 700, count: 0 },
    ]);
    expect(sum(told, 'readMs')).toBe(1_400);
    jest.advanceTimersByTime(60_000);
    expect(told).toHaveLength(2);
  });

  it('[H81] adds the rest to a trailing report of full seconds, and counts each second reached', () => {
    const { told, tally: reads } = tally();
    const times = [900, 900, 900, 900, 900, 900, 400];
    for (const readMs of times) {
      reads.add(readMs, 10);
      jest.advanceTimersByTime(readMs);
    }
    jest.advanceTimersByTime(10_000);
    expect(told.map((reads) => reads.count)).toEqual([1, 2]);
    expect(sum(told, 'readMs')).toBe(5_800);
    expect(sum(told, 'reads')).toBe(times.length);
  });

  it('[H81] keeps a rest that falls out of its window while its report is pending', () => {
    // A window far shorter than the interval, so the rest's window ends before the report.
    const { told, tally: reads } = tally({ slowMs: 1_000, windowMs: 100, intervalMs: 10_000 });
    reads.add(1_000, 1);
    jest.advanceTimersByTime(50);
    reads.add(100, 1);
    jest.advanceTimersByTime(5_000);
    reads.add(200, 1);
    expect(told).toHaveLength(1);
    jest.advanceTimersByTime(10_000);
    expect(told[1]).toEqual({ readMs: 300, reads: 2, bytes: 1, count: 0 });
    expect(sum(told, 'readMs')).toBe(1_300);
  });

  it('does not tell costly reads under 1 s that come long after a burst, nor ever alone', () => {
    const { told, tally: reads } = tally();
    reads.add(300, 1);
    jest.advanceTimersByTime(60_000);
    expect(told).toEqual([]);
    reads.add(1_200, 1);
    jest.advanceTimersByTime(20_000);
    reads.add(300, 1);
    jest.advanceTimersByTime(60_000);
    expect(told).toEqual([{ readMs: 1_200, reads: 1, bytes: 1, count: 1 }]);
  });

  it('[H618] tells the types the reads carried, added up across them, at most 8', () => {
    const { told, tally: reads } = tally();
    reads.add(600, 1_000, ['$metrics']);
    reads.add(500, 2_000, ['$metrics', '$ping', ...Array.from({ length: 10 }, (_, index) => `t${index}`)]);
    expect(told).toHaveLength(1);
    expect(told[0]!.types).toEqual(['$metrics', '$ping', 't0', 't1', 't2', 't3', 't4', 't5']);
  });
});
