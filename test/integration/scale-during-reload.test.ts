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
});
