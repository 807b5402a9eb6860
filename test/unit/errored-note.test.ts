/**
 * The note under `status`'s table for a slot given up in a crash loop (H277). Its count is the
 * breaker's: ends within the window, crashes and exits with code 0 alike, not restarts (retest
 * t31 L-A: "3 restarts" beside a row of 2 restarts and 3 crashes) (H302).
 */
import { describe, expect, it } from '@jest/globals';
import { workerTable } from '../../src/cli/format-status.js';
import type { ClusterStatus } from '../../src/control/control-protocol.js';

const given = { slot: 0, name: undefined, state: 'errored', since: 0, givenUpMs: 6_000, restarts: 2, crashes: 3, failures: 3, lastFailure: 'Worker 4 (pid 16469) died of SIGSEGV' };

describe('the errored note', () => {
  it('[H302] counts the ends the breaker counted, not restarts', () => {
    const text = workerTable({ workers: [], givenUpSlots: [{ ...given, reason: 'too-many-restarts' }] } as unknown as ClusterStatus);
    expect(text).toContain('errored: slot 0 given up 6s ago (crash loop: ended 3 times within the restart window); last failure: worker 4 (pid 16469) died of SIGSEGV.');
    expect(text).not.toMatch(/\d restarts within/);
    const starts = workerTable({ workers: [], givenUpSlots: [{ ...given, reason: 'startup-failures' }] } as unknown as ClusterStatus);
    expect(starts).toContain('(crash loop: 3 failed starts in a row)');
  });
});
