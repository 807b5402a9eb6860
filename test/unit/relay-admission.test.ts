/**
 * A relayed `sendTo()` waiting at the primary's endpoint for room in the channel waits for
 * bytes only: not behind the primary's own requests, nor for one of their `maxPendingPerWorker`
 * places (code review of H471).
 */
import { describe, expect, it } from '@jest/globals';
import { Admission, kMaxQueuedBytes } from '../../src/messaging/admission.js';

describe('Admission of relays', () => {
  it('[H477] a relay waiting for room in the queue is let out when bytes free, while the primary\'s own requests still wait for a place', async () => {
    let pending = 1;
    let queuedBytes = kMaxQueuedBytes;
    const admission = new Admission({ maxPending: 1, maxPendingOption: 'maxPendingPerWorker', backpressure: 'wait', describePeer: () => 'worker 2', pendingCount: () => pending, queuedBytes: () => queuedBytes });
    const order: string[] = [];
    const own = admission.wait(1_000).then(() => order.push('own'));
    const relay = admission.wait(1_000, () => false, true).then(() => order.push('relay'));
    expect(admission.mayIssueBytesOnly(1_000)).toBe(false);
    // The channel drains; every place under maxPending is still taken by the primary's own requests.
    queuedBytes = 0;
    admission.admitWaiting();
    await relay;
    expect(order).toEqual(['relay']);
    // A place frees: the primary's own request goes, its place counted; the relay took none.
    pending = 0;
    admission.admitWaiting();
    await own;
    expect(order).toEqual(['relay', 'own']);
  });
});
