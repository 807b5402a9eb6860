/**
 * `clusterkit reload`'s progress: a slot whose worker exited on its own during the reload gets
 * its line too (H574, retest t59: no line for it, and the count stopped one short).
 */
import { describe, expect, it } from '@jest/globals';
import type { ClusterEvent } from '../../src/control/control-protocol.js';
import { ReloadProgressLines } from '../../src/cli/reload-progress.js';

describe('reload progress with a worker that exited on its own', () => {
  it('[H574] says the slot, how its worker ended, and the worker ready there, counted with the others', () => {
    const events = [
      { type: 'reload', workers: 2 },
      { type: 'workerExit', slot: 0, workerId: 1, expected: false, signal: 'SIGKILL' },
      { type: 'workerReady', slot: 0, workerId: 3 },
      { type: 'workerReady', slot: 1, workerId: 4 },
      { type: 'workerExit', slot: 1, workerId: 2, expected: true, code: 0 },
    ] as unknown as ClusterEvent[];
    expect(new ReloadProgressLines('flags').lines(events)).toEqual([
      'slot 0: worker 1 exited on its own (ended by SIGKILL), not replaced; worker 3 ready (1/2)',
      'slot 1: worker 4 ready, worker 2 stopped (2/2)',
    ]);
  });
});
