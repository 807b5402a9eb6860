/**
 * The cancels of aborted `sendTo()` relays are told before the sender's next relay (retest t68b:
 * a retry in the abort's own tick reached the primary before the cancels, and was refused, its
 * places still held by the aborted ones).
 */
import { describe, expect, it } from '@jest/globals';
import { RelayCancels } from '../../src/worker/relay-cancels.js';

describe('RelayCancels', () => {
  it('[H674] flushNow() tells the waiting cancels at once, in one notice; the end-of-tick flush then tells nothing twice', async () => {
    const told: number[][] = [];
    const cancels = new RelayCancels((_type, payload) => void told.push(payload.keys));
    const [a, b] = [cancels.nextKey(), cancels.nextKey()];
    cancels.cancel(a);
    cancels.cancel(b);
    cancels.flushNow();
    expect(told).toEqual([[a, b]]);
    await new Promise((resolve) => process.nextTick(resolve));
    expect(told).toEqual([[a, b]]);
    cancels.cancel(cancels.nextKey());
    await new Promise((resolve) => process.nextTick(resolve));
    expect(told).toHaveLength(2);
  });
});
