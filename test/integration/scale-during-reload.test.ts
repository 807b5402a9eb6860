/**
 * H251 (library t28 L8): scale() during a reload resolves with the workers the scale leaves,
 * not with the reload's old worker that is already stopping.
 */
import { describe, expect, it } from '@jest/globals';
import { testPrimary } from '../helpers/primary.js';
import { until } from '../helpers/wait.js';

describe('scale() during a reload', () => {
  it('[H251] resolves without the reload\'s old worker that is stopping', async () => {
    const primary = testPrimary({ workerCount: 2 });
    const [first] = await primary.start();
    // Keeps the first old worker in its stop (it finishes running handlers) while the scale runs.
    const slow = primary.send(first!, 'slow', { ms: 8_000 }).catch(() => undefined);
    const reloaded = primary.reload().catch(() => undefined);
    await until(() => first!.state === 'stopping', 60_000, 'the first old worker stopping');
    const workers = await primary.scale(3);
    expect(first!.state).toBe('stopping');
    expect(workers.map((worker) => worker.state)).not.toContain('stopping');
    expect(workers).not.toContain(first);
    await Promise.all([slow, reloaded]);
  }, 90_000);

  it('[H251] a scale-down during a reload resolves with one worker per slot left, not a replacement beside its old worker', async () => {
    const primary = testPrimary({ workerCount: 2 });
    await primary.start();
    const forked = new Promise<void>((resolve) => primary.once('workerFork', () => resolve()));
    const reloaded = primary.reload().catch(() => undefined);
    // The reload's first replacement is forked (starting) while slot 0's old worker still serves.
    await forked;
    const workers = await primary.scale(1);
    // Before: 2 handles, slot 0's old worker and its replacement, for a pool of 1 (retester t28).
    expect(workers).toHaveLength(1);
    await reloaded;
  }, 90_000);
});
