/**
 * H640: `fork({ name })` again after that name's slot was given up in a crash loop takes that slot
 * up again, as a reload would (newcomer t64: each retry added a second given-up slot of the name,
 * the target grew from 2 to 3, and the reload that followed the fix started one of the two,
 * silently dropped the other, and said the "crash lines above" told why).
 */
import { writeFileSync } from 'node:fs';
import { describe, expect, it } from '@jest/globals';
import { CrashLoopError } from '../../src/index.js';
import { behaviourFile } from '../helpers/behaviour-file.js';
import { testPrimary } from '../helpers/primary.js';
import { onceEvent } from '../helpers/wait.js';

describe('fork({ name }) of a name given up in a crash loop', () => {
  it('[H640] takes the given-up slot up again (its number, one slot for the name), and a reload after the fix starts it', async () => {
    const file = behaviourFile('ready');
    // Slot 1, the named one, fails its _init until the test "fixes the code".
    writeFileSync(`${file}.slot1`, 'throw');
    const primary = testPrimary({ workerCount: 1, env: { INIT_BEHAVIOUR_FILE: file }, restart: { backoff: { initialMs: 10, factor: 1, maxMs: 10 } } }, 'workers/init-from-file.ts');
    await primary.start();
    await expect(primary.fork({ name: 'bad' })).rejects.toBeInstanceOf(CrashLoopError);
    expect(primary.givenUpSlots().map((slot) => slot.slot)).toEqual([1]);
    // The retry the error's advice allows: before, a second given-up slot of the name (slot 2), the target 3.
    await expect(primary.fork({ name: 'bad' })).rejects.toBeInstanceOf(CrashLoopError);
    expect(primary.givenUpSlots().map((slot) => slot.slot)).toEqual([1]);
    expect(primary.targetWorkers).toBe(2);
    // The fix, then the reload its advice names: the slot starts, and nothing is said to have failed.
    writeFileSync(`${file}.slot1`, 'ready');
    const complete = onceEvent<{ refillsFailed?: number }>(primary, 'reloadComplete');
    await primary.reload();
    expect((await complete).refillsFailed).toBeUndefined();
    expect(primary.workers.map((worker) => ({ slot: worker.slot, name: worker.name }))).toEqual([
      { slot: 0, name: undefined },
      { slot: 1, name: 'bad' },
    ]);
    expect(primary.targetWorkers).toBe(2);
    expect(primary.givenUpSlots()).toEqual([]);
  }, 120_000);
});
