/**
 * The note under `status`'s table for a slot given up in a crash loop (H277). Its count is the
 * breaker's: ends within the window, crashes and exits with code 0 alike, not restarts (retest
 * t31 L-A: "3 restarts" beside a row of 2 restarts and 3 crashes) (H302).
 */
import { describe, expect, it } from '@jest/globals';
import { formatWorkerCounts, workerTable } from '../../src/cli/format-status.js';
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

describe('[H396] a slot failing in a crash loop, not given up', () => {
  const failing = { slot: 1, name: undefined, roles: [], failures: 3, failedStarts: 2, lastFailure: 'Worker 7 (pid 42) could not start: the script /srv/a.js threw on import: Error: bad deploy', failedAt: 0, restarts: 2, crashes: 3 };

  it('waiting out its back-off: a row of its own, counted as restarting, and when it restarts', () => {
    const status = { workers: [], targetWorkers: 2, givenUpSlots: [], failingSlots: [{ ...failing, state: 'restarting', restartAt: 4_200, restartInMs: 4_200 }] } as unknown as ClusterStatus;
    const text = workerTable(status);
    expect(text).toMatch(/^ +- +- +1 +restarting +- +2 +3 /m);
    expect(text).toContain('restarting: slot 1 restarts in 4.2s, after 3 exits in a row (2 failed starts in a row); last failure: worker 7 (pid 42) could not start: the script /srv/a.js threw on import: Error: bad deploy\n');
    expect(formatWorkerCounts(status)).toBe('0/2 ready (1 restarting)');
  });

  it('its next worker starting: that worker\'s row, and a note of the failures before it', () => {
    const status = { workers: [], targetWorkers: 2, failingSlots: [{ ...failing, state: 'starting', workerId: 8 }] } as unknown as ClusterStatus;
    expect(workerTable(status)).toBe('(no workers)\n');
    const worker = { id: 8, pid: 43, slot: 1, state: 'starting', uptimeMs: 100, restarts: 3, crashes: 3, messagesIn: 0, messagesOut: 0 };
    const text = workerTable({ ...status, workers: [worker] } as unknown as ClusterStatus);
    expect(text).toContain('starting: slot 1 (worker 8) starts again, after 3 exits in a row (2 failed starts in a row); last failure: worker 7');
    expect(text).not.toMatch(/ restarting /);
  });

  it('an older primary (no failingSlots) or a malformed entry: the table as before', () => {
    expect(workerTable({ workers: [] } as unknown as ClusterStatus)).toBe('(no workers)\n');
    expect(workerTable({ workers: [], failingSlots: [{ ...failing, state: 'restarting' }] } as unknown as ClusterStatus)).toBe('(no workers)\n');
    expect(formatWorkerCounts({ workers: [], targetWorkers: 2 } as unknown as ClusterStatus)).toBe('0/2');
  });
});
