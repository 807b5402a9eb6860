import { describe, expect, it } from '@jest/globals';
import { countMemoryReplacement, kMemoryLoopAt, memoryHardLimitBytes, memoryReplacementDelayMs } from '../../src/primary/pool/memory-policy.js';
import { normalizeRestartOptions } from '../../src/primary/primary-options.js';

describe('memory replacements in a row', () => {
  it('[H152] counts replacements soon after start without end; a worker that ran stably starts the count afresh', () => {
    expect(kMemoryLoopAt).toBe(3);
    expect(countMemoryReplacement(0, 4_000, 30_000)).toBe(1);
    expect(countMemoryReplacement(2, 4_000, 30_000)).toBe(3);
    // No ceiling: the slot is never given up for memory, however long the loop.
    expect(countMemoryReplacement(41, 4_000, 30_000)).toBe(42);
    // Ready for stableAfterMs: an ordinary replacement (a slow leak, a big job).
    expect(countMemoryReplacement(7, 30_000, 30_000)).toBe(0);
    expect(countMemoryReplacement(0, undefined, 30_000)).toBe(1);
  });

  it('[H164] backs off from the third replacement in a row by the restart backoff, capped; never a replacement after a stable run', () => {
    const restart = normalizeRestartOptions({ backoff: { initialMs: 100, factor: 2, maxMs: 1_000 } });
    expect([0, 1, 2, 3, 4, 5, 7, 50].map((inARow) => memoryReplacementDelayMs(inARow, restart))).toEqual([0, 0, 0, 100, 200, 400, 1_000, 1_000]);
    // The defaults: 100 ms doubling up to 30 s.
    expect(memoryReplacementDelayMs(3, normalizeRestartOptions(undefined))).toBe(100);
    expect(memoryReplacementDelayMs(40, normalizeRestartOptions(undefined))).toBe(30_000);
  });

  it('[H163] bounds a worker waiting for its replacement at what it used then plus the limit once more', () => {
    const mib = 1024 * 1024;
    expect(memoryHardLimitBytes(110 * mib, 100 * mib)).toBe(210 * mib);
  });
});
