/**
 * [H4] Counts without a ceiling: `scale(100000)` and `fork({ count: 100000 })` were accepted
 * and forked in one synchronous loop until pids or memory ran out. Now `maxWorkers` bounds
 * every worker count, and what is forked is forked one worker per event-loop turn.
 */
import { availableParallelism } from 'node:os';
import { describe, expect, it } from '@jest/globals';
import { ClusterPrimary, InvalidOptionError } from '../../src/index.js';
import { autoWorkerCount } from '../../src/primary/pool/cpu-limit.js';
import { onceEvent } from '../helpers/wait.js';
import { kDefaultFixture, testOptions, testPrimary } from '../helpers/primary.js';

describe('[H4] the worker ceiling', () => {
  it('[H4] maxWorkers defaults to 4 × the CPUs (at least 64) and refuses workerCount, fork() and scale() past it, forking nothing', async () => {
    // Checked first: without the option, the calls below would fork 100 000 workers.
    expect(new ClusterPrimary(testOptions()).options.maxWorkers).toBe(Math.max(64, 4 * autoWorkerCount()));
    expect(autoWorkerCount()).toBeLessThanOrEqual(availableParallelism());
    expect(() => new ClusterPrimary(testOptions(kDefaultFixture, { workerCount: 100_000 }))).toThrow(
      /^The "workerCount" option must be at most \d+, the "maxWorkers" option \(raise it to run more workers\)\. Received 100000$/,
    );
    expect(() => new ClusterPrimary(testOptions(kDefaultFixture, { maxWorkers: 0 }))).toThrow(InvalidOptionError);
    // 'auto' never asks for more than the ceiling.
    expect(new ClusterPrimary(testOptions(kDefaultFixture, { workerCount: 'auto', maxWorkers: 1 })).options.workerCount).toBe(1);

    const primary = testPrimary({ maxWorkers: 2 });
    await primary.start();
    await expect(primary.scale(100_000)).rejects.toThrow('The "count" option must be at most 2, the "maxWorkers" option');
    await expect(primary.fork({ count: 100_000 })).rejects.toThrow(InvalidOptionError);
    await expect(primary.fork({ count: 2 })).rejects.toThrow('The "count" option must be at most 1: the "maxWorkers" option is 2 and 1 worker runs already. Received 2');
    expect(primary.workers).toHaveLength(1);
  });

  it('[H4] forks one worker per event-loop turn; a scale-down during a scale-up retires the slots not yet forked', async () => {
    const primary = testPrimary({ maxWorkers: 16 });
    await primary.start();
    const forks: number[] = [];
    primary.on('workerFork', ({ worker }) => forks.push(worker.id));
    const scaling = primary.scale(16).catch((error: unknown) => error);
    // The first fork happens in the call; the next waits for a turn of the event loop.
    expect(forks).toHaveLength(1);
    expect(primary.workers).toHaveLength(2);
    await onceEvent(primary, 'workerFork');
    const shrinking = primary.scale(3);
    await shrinking;
    const forked = forks.length;
    expect(forked).toBeLessThan(15);
    // Its slots were scaled away: overtaken by the later scale, which has the last word, not failed (H201).
    expect(await scaling).not.toBeInstanceOf(Error);
    // Within the ceiling, what the scale-down left can grow again (slot numbers reused).
    await primary.scale(4);
    expect(primary.workers.map((handle) => handle.slot).sort()).toEqual([0, 1, 2, 3]);
    expect(forks.length).toBe(forked + 1);
  });
});
