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
      'slot 0: worker 1 was killed by SIGKILL before the reload stopped it; worker 3 ready (1/2)',
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
      'slot 0: worker 5 ready, worker 3 was killed by SIGKILL before the reload stopped it (1/2)',
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

  it('[H655] says a worker killed by a signal was killed, and one that exited with a code exited on its own (retest t64 N9)', () => {
    const events = [
      { type: 'reload', workers: 2 },
      { type: 'workerExit', slot: 0, workerId: 1, expected: false, code: 3 },
      { type: 'workerReady', slot: 0, workerId: 3 },
      { type: 'workerReady', slot: 1, workerId: 4 },
      { type: 'workerExit', slot: 1, workerId: 2, expected: false, code: null, signal: 'SIGTERM' },
    ] as unknown as ClusterEvent[];
    expect(new ReloadProgressLines('flags').lines(events)).toEqual([
      'slot 0: worker 1 exited on its own (exit code 3) before the reload stopped it; worker 3 ready (1/2)',
      'slot 1: worker 4 ready, worker 2 was killed by SIGTERM before the reload stopped it (2/2)',
    ]);
  });

  it('[H656] says a slot whose worker was killed just before the reload, by its restart, before the final wait (retest t64 N7)', () => {
    // The exit came before the reload began; its restart became ready during it: no line, "(1/2)" to the end.
    const events = [
      { type: 'workerExit', slot: 1, workerId: 2, expected: false, signal: 'SIGKILL' },
      { type: 'reload', workers: 2 },
      { type: 'workerReady', slot: 0, workerId: 3 },
      { type: 'workerReady', slot: 1, workerId: 4 },
      { type: 'workerExit', slot: 0, workerId: 1, expected: true, code: 0 },
      { type: 'reloadWaiting', waitMs: 874, windowMs: 1000 },
      { type: 'reloadComplete', replaced: 1, vacant: 1 },
    ] as unknown as ClusterEvent[];
    const lines = new ReloadProgressLines('flags').lines(events);
    expect(lines.slice(0, 2)).toEqual([
      'slot 0: worker 3 ready, worker 1 stopped (1/2)',
      "slot 1: worker 4 ready; the slot's old worker had exited before the reload reached it, so it had none to stop (2/2)",
    ]);
    expect(lines[2]).toMatch(/^waiting 874 ms more/);
    expect(lines).toHaveLength(3);
  });

  it('[H656] counts at the end the slots with no line and no worker ready yet, never past the total', () => {
    const events = [
      { type: 'reload', workers: 3 },
      { type: 'workerReady', slot: 0, workerId: 5 },
      { type: 'workerExit', slot: 0, workerId: 1, expected: true, code: 0 },
      { type: 'reloadComplete', replaced: 1, vacant: 5, retired: 0 },
    ] as unknown as ClusterEvent[];
    expect(new ReloadProgressLines('flags').lines(events)).toEqual([
      'slot 0: worker 5 ready, worker 1 stopped (1/3)',
      '2 more slots had no old worker to stop: their workers had exited before the reload reached them, or had not started yet; their next workers are started with the new code (3/3)',
    ]);
  });

  it('[H656] at the end, names the slot whose worker was killed during the reload and whose restart was not ready yet (retest t66 F3)', () => {
    const events = [
      { type: 'reload', workers: 2 },
      { type: 'workerReady', slot: 0, workerId: 8 },
      { type: 'workerExit', slot: 1, workerId: 7, expected: false, signal: 'SIGKILL' },
      { type: 'workerExit', slot: 0, workerId: 6, expected: true, code: 0 },
      { type: 'reloadComplete', replaced: 1, vacant: 1 },
    ] as unknown as ClusterEvent[];
    expect(new ReloadProgressLines('flags').lines(events)).toEqual([
      'slot 0: worker 8 ready, worker 6 stopped (1/2)',
      'slot 1: worker 7 was killed by SIGKILL before the reload stopped it; the slot is started again with the new code (2/2)',
    ]);
  });
});
