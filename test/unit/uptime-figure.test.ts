/**
 * [H436] How long a worker was up after it became ready, in one unit for the crashes read side
 * by side: a crash loop of a script that throws a second after listening said `966 ms after it
 * became ready` of one worker and `1.0 s after it became ready` of the next.
 */
import { describe, expect, it } from '@jest/globals';
import { formatUptime } from '../../src/duration.js';
import { CrashLoopError, WorkerExitedError } from '../../src/errors.js';

describe('the uptime figure of a crash [H436]', () => {
  it('[H436] says whole milliseconds on both sides of a second, as the readyMs field does; seconds from a minute on', () => {
    expect([966, 999.7, 1014, 1123.4].map(formatUptime)).toEqual(['966 ms', '1000 ms', '1014 ms', '1123 ms']);
    expect(formatUptime(12.5)).toBe('13 ms');
    expect(formatUptime(59_999.4)).toBe('59999 ms');
    // Long uptimes stay readable: a crash after hours is not compared to the millisecond.
    expect(formatUptime(59_999.6)).toBe('60.0 s');
    expect(formatUptime(3_600_000)).toBe('3600.0 s');
  });

  it('[H436] a crash loop quotes its last crash in the same unit', () => {
    const cause = new WorkerExitedError({ workerId: 13, pid: 4242, exitCode: 1, signal: null }, `${formatUptime(1014)} after it became ready`);
    const error = new CrashLoopError(0, 7, { cause, reason: 'too-many-restarts', windowMs: 60_000, remainingSlots: 1 });
    expect(error.message).toContain('exited with code 1 1014 ms after it became ready');
    expect(error.message).not.toMatch(/\d\.\d s after it became ready/);
  });
});
