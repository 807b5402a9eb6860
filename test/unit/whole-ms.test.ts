/**
 * [H419] Millisecond figures in messages are whole: a worker's deadline, computed from a timeout
 * and what its stop already took, made a warning say "did not exit within 2936.75 ms".
 */
import { describe, expect, it } from '@jest/globals';
import { formatElapsed } from '../../src/duration.js';
import { HookTimeoutError, MessageTimeoutError } from '../../src/errors.js';
import { wholeMs } from '../../src/whole-ms.js';
import { describeKilledDescendants } from '../../src/worker/end-descendants.js';

describe('wholeMs [H419]', () => {
  it('[H419] rounds a computed figure to whole milliseconds; a missing one stays missing', () => {
    expect(wholeMs(2936.75)).toBe(2937);
    expect(wholeMs(2936.25)).toBe(2936);
    expect(wholeMs(0.4)).toBe(0);
    expect(wholeMs(3000)).toBe(3000);
    expect(wholeMs(undefined)).toBeUndefined();
  });

  it('[H419] formatElapsed says whole milliseconds under a second, and a figure that rounds to 1000 in seconds', () => {
    expect(formatElapsed(849.6)).toBe('850 ms');
    expect(formatElapsed(12.5)).toBe('13 ms');
    expect(formatElapsed(999.7)).toBe('1.0 s');
    expect(formatElapsed(12_345)).toBe('12.3 s');
  });

  it('[H419] messages built from a fractional figure say it whole', () => {
    expect(new HookTimeoutError('_destroy', 2936.75).message).toBe('_destroy() did not finish within 2937 ms; the process continues without waiting for it.');
    expect(describeKilledDescendants([4242], 1999.5)).toMatch(/^its process 4242 \(started by its code\) did not end within 2000 ms of SIGTERM/);
    const fractional = /\d\.\d+ ?ms/;
    expect(new HookTimeoutError('_init', 12.5).message).not.toMatch(fractional);
    expect(describeKilledDescendants([1, 2], 750.25)).not.toMatch(fractional);
    expect(new MessageTimeoutError('ping', 1234.5, 'worker 3 (pid 4242)').message).toMatch(/^Worker 3 \(pid 4242\) did not reply to "ping" within 1235 ms\./);
  });
});
