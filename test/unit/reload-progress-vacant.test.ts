/**
 * `clusterkit reload`'s progress: a slot whose worker exited on its own during the reload gets
 * its line too (H574, retest t59: no line for it, and the count stopped one short).
 */
import { describe, expect, it } from '@jest/globals';
import type { ClusterEvent } from '../../src/control/control-protocol.js';
import { ReloadProgressLines } from '../../src/cli/reload-progress.js';

describe('reload progress with a worker that exited on its own', () => {
  it('[H574][H637] says the slot, how its worker ended, and the worker ready there, counted with the others', () => {
    const events = [
      { type: 'reload', workers: 2 },
      { type: 'workerExit', slot: 0, workerId: 1, expected: false, signal: 'SIGKILL' },
      { type: 'workerReady', slot: 0, workerId: 3 },
      { type: 'workerReady', slot: 1, workerId: 4 },
      { type: 'workerExit', slot: 1, workerId: 2, expected: true, code: 0 },
    ] as unknown as ClusterEvent[];
    expect(new ReloadProgressLines('flags').lines(events)).toEqual([
      'slot 0: worker 1 exited on its own (ended by SIGKILL) before the reload stopped it; worker 3 ready (1/2)',
      'slot 1: worker 4 ready, worker 2 stopped (2/2)',
    ]);
  });

  it('[H625] says the slot whose old worker exited while its ready replacement served beside it (minReadyMs), counted with the others', () => {
    // Retest t61 M2: kill -9 of slot 0's old worker in its replacement's --min-ready window: no line for slot 0, "(1/2)" to the end.
    const events = [
      { type: 'reload', workers: 2 },
      { type: 'workerReady', slot: 0, workerId: 5 },
      { type: 'workerExit', slot: 0, workerId: 3, expected: false, signal: 'SIGKILL' },
      { type: 'workerReady', slot: 1, workerId: 6 },
      { type: 'workerExit', slot: 1, workerId: 4, expected: true, code: 0 },
    ] as unknown as ClusterEvent[];
    expect(new ReloadProgressLines('flags').lines(events)).toEqual([
      'slot 0: worker 5 ready, worker 3 exited on its own (ended by SIGKILL) before its stop (1/2)',
      'slot 1: worker 6 ready, worker 4 stopped (2/2)',
    ]);
  });

  it('[H625] says nothing more for a replacement that crashed in its window: it is no old worker', () => {
    const events = [
      { type: 'reload', workers: 1 },
      { type: 'workerReady', slot: 0, workerId: 5 },
      { type: 'workerExit', slot: 0, workerId: 5, expected: false, code: 1 },
    ] as unknown as ClusterEvent[];
    expect(new ReloadProgressLines('flags').lines(events)).toEqual([]);
  });
});
