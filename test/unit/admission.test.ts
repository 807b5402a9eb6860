import { describe, expect, it } from '@jest/globals';
import { BackpressureError } from '../../src/errors.js';
import { Admission } from '../../src/messaging/admission.js';

function admission(maxPendingOption: 'maxPendingPerWorker' | 'maxPending') {
  return new Admission({ maxPending: 2, maxPendingOption, backpressure: 'reject', describePeer: () => 'the primary', pendingCount: () => 2, queuedBytes: () => 0 });
}

describe('Admission', () => {
  it('names the pending-limit option of the side that hit it', () => {
    const worker = admission('maxPending').error();
    expect(worker).toBeInstanceOf(BackpressureError);
    expect(worker.option).toBe('maxPending');
    expect(worker.message).toMatch(/option "maxPending"\)/);
    const primary = admission('maxPendingPerWorker').error();
    expect(primary.option).toBe('maxPendingPerWorker');
    expect(primary.message).toMatch(/option "maxPendingPerWorker"\)/);
  });
});
