/**
 * The primary's answer to a worker's `$hangup` (H291): one wait at a time, however many ask.
 * Before, each question made a timer and a waiter of its own for 0.5 s, so a worker flooding
 * `$hangup` held one per message (H298).
 */
import { describe, expect, it } from '@jest/globals';
import { HangupRecord } from '../../src/primary/lifecycle/hangup-record.js';

describe('HangupRecord', () => {
  it('[H298] questions asked while one waits share its wait, and its answer', async () => {
    const record = new HangupRecord();
    const answers = Array.from({ length: 1_000 }, () => record.answer(true));
    expect(new Set(answers).size).toBe(1);
    record.note('reload');
    await expect(Promise.all(answers)).resolves.toEqual(Array.from({ length: 1_000 }, () => ({ outcome: 'reload' })));
  });

  it('[H298] with no SIGHUP of its own, the shared wait answers "none", and a later question waits afresh', async () => {
    const record = new HangupRecord();
    await expect(Promise.all([record.answer(true), record.answer(true)])).resolves.toEqual([{ outcome: 'none' }, { outcome: 'none' }]);
    const next = record.answer(true);
    record.note('stopping');
    await expect(next).resolves.toEqual({ outcome: 'stopping' });
    // Recent: answered at once.
    expect(record.answer(true)).toEqual({ outcome: 'stopping' });
    expect(record.answer(false)).toEqual({ outcome: 'unknown' });
  });

  it('[H702] a SIGHUP whose outcome is still undecided: questions wait for it, a stop that wins is what they get, and none answers "none" meanwhile', async () => {
    const record = new HangupRecord();
    // Asked before the primary's own SIGHUP came: its "none" timer gives way to the outcome.
    const early = record.answer(true);
    record.noteUndecided();
    const asked = record.answer(true);
    expect(asked).toBe(early);
    // Before (retest t74 P2): "reload" at once, as the primary went on to ignore it for its shutdown.
    record.note('stopping');
    await expect(Promise.all([early, asked])).resolves.toEqual([{ outcome: 'stopping' }, { outcome: 'stopping' }]);
    expect(record.answer(true)).toEqual({ outcome: 'stopping' });
    // The decided SIGHUP keeps its time: a worker that died of it then is heard.
    expect(record.heardSince(performance.now() - 100)).toBe(true);
  });

  it('[H699] heardSince: a SIGHUP of its own up to 2 s before a worker died, or after, is the same group signal; none, or an older one, is not', () => {
    const record = new HangupRecord();
    const now = performance.now();
    expect(record.heardSince(now)).toBe(false);
    record.note('reload');
    expect(record.heardSince(now)).toBe(true);
    expect(record.heardSince(now + 1_900)).toBe(true);
    expect(record.heardSince(now + 10_000)).toBe(false);
  });
});
