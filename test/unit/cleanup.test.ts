import { beforeAll, describe, expect, it } from '@jest/globals';
import { EventEmitter } from 'eventemitter3';
import { onceEvent, record, until } from '../helpers/wait.js';

/** The test helpers release what they created after each test, also when it failed early. */
describe('test cleanup', () => {
  const emitter = new EventEmitter();
  let conditionCalls = 0;

  it('a test that leaves waits behind (as a failing one does)', () => {
    void onceEvent(emitter, 'never', 60_000);
    record(emitter, 'never');
    void until(() => {
      conditionCalls++;
      return false;
    }, 60_000);
    expect(emitter.listenerCount('never')).toBe(2);
  });

  it('finds them released: no listener left, no timer still polling', async () => {
    expect(emitter.listenerCount('never')).toBe(0);
    const callsAfterCleanup = conditionCalls;
    // Several polling periods of until() (20 ms): a live poll would have called it again.
    for (let i = 0; i < 5; i++) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(conditionCalls).toBe(callsAfterCleanup);
  });
});

describe('test cleanup of what a file shares', () => {
  const emitter = new EventEmitter();
  beforeAll(() => {
    record(emitter, 'shared');
  });

  it('keeps what beforeAll created through the first test...', () => {
    expect(emitter.listenerCount('shared')).toBe(1);
  });

  it('...and the next: it is released after the file', () => {
    expect(emitter.listenerCount('shared')).toBe(1);
  });
});
