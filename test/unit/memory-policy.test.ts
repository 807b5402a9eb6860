import { describe, expect, it } from '@jest/globals';
import { countMemoryReplacement, kMemoryLoopAt } from '../../src/primary/pool/memory-policy.js';

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
});
