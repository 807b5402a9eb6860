import { describe, expect, it } from '@jest/globals';
import { destroyGraceMs, destroyReserveMs, stopMarginMs } from '../../src/stop-margin.js';

describe('how a stop is shared out', () => {
  it("[H350] keeps a tenth of the worker's own stop for _destroy, at least 100 ms, at most 1 s, never more than half", () => {
    // The worker's own stop for shutdownTimeoutMs 10 s (8 s), 3 s (2.25 s), 1 s (750 ms), 200 ms (150 ms).
    expect([10_000, 3_000, 1_000, 200].map((timeoutMs) => destroyReserveMs(timeoutMs - stopMarginMs(timeoutMs)))).toEqual([800, 225, 100, 75]);
    expect(destroyReserveMs(60_000)).toBe(1_000);
    expect(destroyReserveMs(1_500)).toBe(150);
    expect(destroyReserveMs(10)).toBe(5);
    // A stop whose deadline has passed already keeps nothing.
    expect(destroyReserveMs(0)).toBe(0);
    expect(destroyReserveMs(-5)).toBe(0);
  });

  it('[H360] lets _destroy run past the worker\'s own deadline for its whole slice by a quarter of the margin, at most 100 ms: its exit still comes half the margin before the SIGKILL', () => {
    expect([10_000, 3_000, 300, 150].map(destroyGraceMs)).toEqual([100, 100, 18.75, 9.375]);
    for (const timeoutMs of [60_000, 10_000, 3_000, 1_000, 300, 150, 10]) expect(destroyGraceMs(timeoutMs)).toBeLessThanOrEqual(stopMarginMs(timeoutMs) / 4);
  });
});
