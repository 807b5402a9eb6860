/**
 * [H539] `clusterkit run`'s `process.exit()` waits for the output still on its way out
 * (src/cli/exit-waits.ts, H535/H537); a second call while it waits exits at once, with the first
 * call's code. Before (retest t56), the later call's code won: a second SIGTERM's 143 became the
 * 1 of the shutdown it forced, in 3 of 8 runs.
 */
import { describe, expect, it } from '@jest/globals';
import { spawnScript } from '../helpers/spawn.js';

describe('clusterkit run: the exit that waits for output', () => {
  it('[H539] a second process.exit() while the first waits ends the process at once with the first one\'s code', async () => {
    const child = spawnScript('test/fixtures/exit-waits-first-code.ts');
    // At once: the wait never settles, and the bound is 2 s; the second call does not wait for it.
    await expect(child.exited(30_000)).resolves.toBe(143);
  });
});
