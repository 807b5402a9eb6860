/**
 * `clusterkit reload` and `scale` name the one cause the primary gave for their unclean stops,
 * as `clusterkit stop` does (H578, ops t59: they said "see the cluster's log" for the same
 * deadline cut that `stop` named).
 */
import { describe, expect, it } from '@jest/globals';
import { describeReload, describeScale, type ScaleReply } from '../../src/cli/control-outcome.js';

const kDeadline = 'requests still open at its shutdown deadline were cut off, so it exited with code 1; raise the shutdown timeout if they take longer';

describe('the cause of unclean stops in the reload and scale lines', () => {
  it('[H578] is the failed workers\' cause when none was killed, the killed workers\' when none failed, and the log otherwise', () => {
    expect(describeReload('web', { workers: 1, graceful: 0, failed: 1, killed: 0, requestsCut: 1, failedCause: kDeadline })).toBe(`reloaded web: 1 worker replaced, but 1 request cut off and 1 old worker did not stop cleanly (${kDeadline})`);
    expect(describeReload('web', { workers: 2, graceful: 0, failed: 0, killed: 2, requestsCut: 0, killedCause: 'still running at the shutdown timeout, 4.0 s' })).toBe(
      'reloaded web: 2 workers replaced, but 2 old workers did not stop cleanly (killed: still running at the shutdown timeout, 4.0 s)',
    );
    // Two kinds, or no cause given (an older primary): the log, as before.
    expect(describeReload('web', { workers: 2, graceful: 0, failed: 1, killed: 1, requestsCut: 0, failedCause: kDeadline, killedCause: 'x' })).toBe("reloaded web: 2 workers replaced, but 2 old workers did not stop cleanly (see the cluster's log)");
    expect(describeReload('web', { workers: 1, graceful: 0, failed: 1, killed: 0, requestsCut: 0 })).toBe("reloaded web: 1 worker replaced, but 1 old worker did not stop cleanly (see the cluster's log)");
    // A cause that is no short string is not quoted.
    expect(describeReload('web', { workers: 1, graceful: 0, failed: 1, killed: 0, requestsCut: 0, failedCause: 'x'.repeat(301) })).toContain("(see the cluster's log)");
    const scale = { name: 'web', workers: [], stops: { unclean: 1, failed: 1, killed: 0, requestsCut: 2, failedCause: kDeadline } } as unknown as ScaleReply;
    expect(describeScale('web', 1, scale)).toContain(`but 2 requests cut off and 1 stopped worker did not stop cleanly (${kDeadline})`);
  });

  it('[H714] a scale-down that removed a slot whose restart waited says the restart was cancelled, not a stop', () => {
    // Retest t80: `scaled s3 to 1 worker (no worker)` and nothing of the restart the scale cancelled.
    const scale = { name: 'web', workers: [{ id: 1, pid: 42, slot: 0, state: 'ready' }], stops: { unclean: 0, requestsCut: 0, restartsCancelled: 1 } } as unknown as ScaleReply;
    expect(describeScale('web', 1, scale)).toBe('scaled web to 1 worker (pid 42); 1 restart waiting out its back-off was cancelled');
  });
});
