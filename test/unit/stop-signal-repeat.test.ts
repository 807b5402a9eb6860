import { describe, expect, it } from '@jest/globals';
import { kRepeatWindowMs, stopSignalRepeats } from '../../src/primary/lifecycle/stop-signal-repeat.js';

describe('stop signal repeats', () => {
  it('[F55] the same signal within the window repeats the request; later, or another signal, is a new one', () => {
    let now = 1_000;
    const isRepeat = stopSignalRepeats(kRepeatWindowMs, () => now);
    expect(isRepeat('SIGTERM')).toBe(false);
    now += 1; // coreutils timeout: the command, then its process group
    expect(isRepeat('SIGTERM')).toBe(true);
    now += kRepeatWindowMs - 2;
    expect(isRepeat('SIGTERM')).toBe(true); // still within the window of the first
    now += 1;
    expect(isRepeat('SIGTERM')).toBe(false); // a deliberate second request
    now += 10;
    expect(isRepeat('SIGINT')).toBe(false); // another signal is never a copy
    expect(isRepeat('SIGINT')).toBe(true);
  });
});
