import { describe, expect, it } from '@jest/globals';
// The page's own module, as the browser loads it.
// @ts-expect-error plain JavaScript served to the browser, no declarations
import { describeEvent, eventKind } from '../../src/cli/dashboard/page/timeline.js';

const worker = { workerId: 7, pid: 4242, slot: 1 };

describe('dashboard timeline', () => {
  it('tells the stops that did not go cleanly: a hung _destroy, a forced stop, a reload with failed workers, protocol errors', () => {
    expect(describeEvent({ type: 'workerDestroyTimeout', ...worker, timeoutMs: 2250 })).toBe(
      'worker 7 (pid 4242, slot 1): _destroy did not finish in 2250 ms; the worker cut it short (exit 1)',
    );
    expect(describeEvent({ type: 'shutdownForced', reason: 'SIGINT', killed: 2, openRequests: 3 })).toBe('a second SIGINT forced the stop: 2 workers killed, 3 requests still open');
    expect(describeEvent({ type: 'shutdownForced', reason: 'SIGTERM', killed: 1 })).toBe('a second SIGTERM forced the stop: 1 worker killed');
    expect(describeEvent({ type: 'reloadComplete', replaced: 2, graceful: 1, failed: 1, killed: 0 })).toBe(
      'rolling reload complete: 2 workers replaced; old workers: 1 graceful, 1 failed, 0 killed',
    );
    expect(describeEvent({ type: 'workerProtocolError', ...worker, dropped: 1, error: 'bad ping' })).toBe('worker 7 (pid 4242, slot 1) broke the protocol: 1 message dropped (bad ping)');
    for (const type of ['workerDestroyTimeout', 'workerProtocolError', 'shutdownForced']) expect(eventKind({ type }).tag).not.toBe('event');
  });
});
