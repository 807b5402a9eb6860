/**
 * The rate limit of the per-worker warnings (`workerProtocolError`, `workerSlowMessage`,
 * `stickyRefused`, an ignored signal's line): the first occurrence is told at once, the ones
 * within the interval after it are added up and told when it ends. Before, they were told only
 * if more came later: a burst that ended within the interval went unreported (a retest: 300 000
 * dropped messages reported as 1).
 */
import { describe, expect, it } from '@jest/globals';
import { countLatest, kWarningIntervalMs, RateLimitedWarning } from '../../src/primary/pool/rate-limited-warning.js';
import { signalWarning, startingHangupLine } from '../../src/primary/lifecycle/ignored-signals.js';
import { until } from '../helpers/wait.js';

describe('RateLimitedWarning', () => {
  it('tells the first at once, then adds up a burst and tells it when the interval ends, once', async () => {
    expect(kWarningIntervalMs).toBe(10_000);
    const told: Array<{ count: number; latest: string }> = [];
    // 1 s, not less: under two CPU hogs the test was once switched out for more than a 50 ms
    // interval between the first note and the burst, which then started a new interval.
    const warning = new RateLimitedWarning(countLatest<string>, (summary) => told.push({ ...summary }), 1_000);
    warning.note({ count: 1, latest: 'first' });
    expect(told).toEqual([{ count: 1, latest: 'first' }]);
    for (let index = 0; index < 1_000; index++) warning.note({ count: 1, latest: `burst ${index}` });
    expect(told).toHaveLength(1);
    await until(() => told.length === 2, 10_000, 'the trailing warning');
    expect(told[1]).toEqual({ count: 1_000, latest: 'burst 999' });
    // One more within the interval after the trailing warning: told alone at the next interval's
    // end (a spurious warning in between would be the third told).
    warning.note({ count: 1, latest: 'later' });
    await until(() => told.length === 3, 10_000, 'the next trailing warning');
    expect(told[2]).toEqual({ count: 1, latest: 'later' });
  });

  it('[H230] flush() tells what is held at once, and only once: a shutdown or an exit does not wait out the interval, which would lose it', () => {
    const told: number[] = [];
    // An interval far past the test: only flush() can tell the held ones.
    const warning = new RateLimitedWarning<number>((held, next) => (held ?? 0) + next, (count) => told.push(count), 600_000);
    warning.flush();
    expect(told).toEqual([]); // nothing held: nothing told
    warning.note(1);
    warning.note(1);
    warning.note(1);
    expect(told).toEqual([1]);
    expect(warning.isHolding).toBe(true);
    warning.flush();
    expect(told).toEqual([1, 2]);
    expect(warning.isHolding).toBe(false);
    warning.flush();
    expect(told).toEqual([1, 2]);
  });

  it('[H706] a SIGHUP line told after the signals came says they came while the service was starting, not that it still is', () => {
    const told: string[] = [];
    const warning = signalWarning('SIGHUP', startingHangupLine, (text) => told.push(text));
    warning.note(1);
    warning.note(1);
    warning.note(1);
    // Told at a stop (or the interval's end), when the start may have failed already: before
    // (hostile t75 F9), `SIGHUP ignored (2 since the last such line): the service is still
    // starting ...` came after `shutting down: the start failed`.
    warning.flush();
    expect(told).toEqual([
      expect.stringMatching(/^SIGHUP ignored: the service is still starting, .* Send SIGHUP again once the service has started if the code changed since\.$/),
      'SIGHUP ignored (2 since the last such line) while the service was still starting: a rolling reload needs started workers to replace, and each worker loads the code as it is when it starts.',
    ]);
  });
});
