/**
 * [H516] How a worker tells the end of its IPC channel: what closed it inside the worker, and how
 * its primary is now (a real /proc read of the Jest process's parent for the latter). A closed
 * channel was always told as the primary's death. The dying primary's states (a zombie, an exit
 * under way) are met for real by the SIGKILL tests of test/integration/orphan-drain.test.ts.
 */
import { existsSync } from 'node:fs';
import { describe, expect, it } from '@jest/globals';
import { channelEndOf } from '../../src/worker/orphan-stop.js';
import { primaryLiveness } from '../../src/worker/primary-liveness.js';

describe('channelEndOf', () => {
  it("[H516] the worker's own close, with its primary running (or no /proc to tell): its own code", () => {
    expect(channelEndOf('process.disconnect()', 'runs')).toEqual({ by: 'own-code', call: 'process.disconnect()' });
    expect(channelEndOf('cluster.worker.disconnect()', 'unsure')).toEqual({ by: 'own-code', call: 'cluster.worker.disconnect()' });
    expect(channelEndOf('cluster.worker.kill()', 'runs')).toEqual({ by: 'own-code', call: 'cluster.worker.kill()' });
  });

  it("[H516] no close of the worker's, its primary running: the primary closed it; with no /proc to tell, its death as before", () => {
    expect(channelEndOf(undefined, 'runs')).toEqual({ by: 'primary', isAsked: false });
    expect(channelEndOf('primary-asked', 'runs')).toEqual({ by: 'primary', isAsked: true });
    expect(channelEndOf(undefined, 'unsure')).toEqual({ by: 'primary-gone' });
  });

  it('[H516] a primary that is gone is said gone, whatever closed the channel', () => {
    for (const own of [undefined, 'process.disconnect()', 'primary-asked'] as const) expect(channelEndOf(own, 'gone')).toEqual({ by: 'primary-gone' });
  });
});

describe('primaryLiveness', () => {
  it('[H516] a pid that is not the parent is gone; the real parent runs', () => {
    expect(primaryLiveness(process.ppid === 1 ? 2 : 1)).toBe('gone');
    expect(primaryLiveness(process.ppid)).toBe(existsSync('/proc/self/stat') ? 'runs' : 'unsure');
  });
});
