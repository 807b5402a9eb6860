/**
 * The rate limit of the per-worker warnings (`workerProtocolError`, `workerSlowMessage`): a
 * worker repeating a fault cannot flood the log, and the warning that comes says how many it
 * covers.
 */
import { describe, expect, it } from '@jest/globals';
import { kProtocolWarningIntervalMs, nextWarning } from '../../src/primary/pool/protocol-errors.js';

describe('nextWarning', () => {
  it('warns at once the first time, then at most once per interval, counting what it covers', () => {
    const first = nextWarning(undefined, 1, 1_000);
    expect(first).toEqual({ mark: { at: 1_000, count: 1 }, since: 1 });
    // Within the interval: nothing, however many more.
    expect(nextWarning(first!.mark, 50, 1_000 + kProtocolWarningIntervalMs - 1)).toBeUndefined();
    // Past it: one warning for the 49 since the first.
    expect(nextWarning(first!.mark, 50, 1_000 + kProtocolWarningIntervalMs)).toEqual({ mark: { at: 1_000 + kProtocolWarningIntervalMs, count: 50 }, since: 49 });
  });
});
