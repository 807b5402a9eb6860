import { describe, expect, it } from '@jest/globals';
import { decideMemoryReplacement, kMaxMemoryReplacements } from '../../src/primary/pool/memory-policy.js';

describe('memory-limit breaker', () => {
  it('replaces twice in a row soon after start, then gives up; a worker that ran stably starts the count afresh', () => {
    expect(kMaxMemoryReplacements).toBe(3);
    expect(decideMemoryReplacement(0, 4_000, 30_000)).toEqual({ replace: true, inARow: 1 });
    expect(decideMemoryReplacement(1, 4_000, 30_000)).toEqual({ replace: true, inARow: 2 });
    expect(decideMemoryReplacement(2, 4_000, 30_000)).toEqual({ replace: false, inARow: 3 });
    // Ready for stableAfterMs: an ordinary replacement (a slow leak, a big job), never the breaker.
    expect(decideMemoryReplacement(2, 30_000, 30_000)).toEqual({ replace: true, inARow: 0 });
    expect(decideMemoryReplacement(0, undefined, 30_000)).toEqual({ replace: true, inARow: 1 });
  });
});
