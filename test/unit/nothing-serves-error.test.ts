/**
 * The reload's error when every slot had been given up and none it started again stayed up
 * (H517), as the retest read it (H532): a crash loop's message names its slot, so no second
 * "Worker slot 0:" before it; slots that gave up again are not said to be restarting.
 */
import { describe, expect, it } from '@jest/globals';
import { CrashLoopError, WorkerExitedError } from '../../src/errors.js';
import { nothingServesError } from '../../src/primary/lifecycle/refill-given-up.js';

const gaveUp = (slot: number) => new CrashLoopError(slot, 3, { remainingSlots: 0, cause: new Error('boom') });

describe('nothingServesError', () => {
  it('[H532] names a crash loop by its own message, and says the slots were given up again', () => {
    const error = nothingServesError({ slots: [0, 1], failures: [{ slot: 0, error: gaveUp(0) }, { slot: 1, error: gaveUp(1) }] }, 1_000);
    expect(error.isNothingServing).toBe(true);
    expect(error.message).toContain('It started the 2 worker slots (0, 1) again with the new code, and none stayed up the 1.0 s startup window, so no worker serves. Worker slot 0 could not start');
    expect(error.message).not.toContain('Worker slot 0: Worker slot 0');
    expect(error.message).toMatch(/They were given up again; fix the code, then reload again\.$/);
    expect(error.message).not.toContain('restarts them');
  });

  it('[H532] a slot whose worker crashed in its window is named, and said to be restarting', () => {
    const crashed = new WorkerExitedError({ workerId: 7, pid: 42, exitCode: 1, signal: null }, '300 ms after it was ready, started again in worker slot 1 by the reload', { advice: 'Its output says why.' });
    const error = nothingServesError({ slots: [0, 1], failures: [{ slot: 1, error: crashed }, { slot: 0, error: gaveUp(0) }] }, 1_000);
    expect(error.message).toContain('so no worker serves. Worker slot 1: Worker 7 (pid 42) exited with code 1 300 ms after it was ready');
    expect(error.message).toMatch(/The restart policy restarts them as after any crash, until they give up again; fix the code, then reload again\.$/);
    expect(error.cause).toBe(crashed);
  });
});
