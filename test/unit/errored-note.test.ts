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

describe('[H344] the last failure of a given-up slot', () => {
  it('drops a requester\'s advice and its period: the note adds its own sentence', async () => {
    const { collectGivenUp } = await import('../../src/primary/features/given-up-stats.js');
    const { CrashLoopError } = await import('../../src/errors.js');
    const cause = new Error('Worker 4 (pid 16469) crashed of an uncaught Error: oops at /srv/server.cjs:3:26 before it replied to "x". The request was not answered; retry it on another worker if it is safe to repeat.');
    const error = new CrashLoopError(0, 3, { cause });
    const slot = { index: 0, spec: { name: undefined, roles: [] }, restarts: 2, crashes: 3 };
    const [stats] = collectGivenUp({ givenUp: [{ slot, since: 0, error }] } as never, 1_000);
    expect(stats!.lastFailure).toBe('Worker 4 (pid 16469) crashed of an uncaught Error: oops at /srv/server.cjs:3:26 before it replied to "x"');
  });
});
