/**
 * A scale-down while a replacement starts in a slot it removes (H177): the replacement goes with
 * the slot. Before, once ready it took the slot over, and the pool kept its size for good.
 * Each scale is called from the `workerFork` of the replacement, so it always finds it starting.
 */
import { describe, expect, it } from '@jest/globals';
import type { ClusterPrimary, WorkerHandle } from '../../src/index.js';
import { describeReload, outcomeExitCode, reloadOutcome } from '../../src/cli/control-outcome.js';
import { reloadWithCounts } from '../../src/control/stop-counts.js';
import { capturedLogger } from '../helpers/captured-logger.js';
import { testPrimary } from '../helpers/primary.js';
import { onceEvent, record, until } from '../helpers/wait.js';

/** Scales to 1 from the `workerFork` of the first worker forked in slot 1 from now on. */
function scaleAtFork(primary: ClusterPrimary<any, any>): { scaled(what: string): Promise<WorkerHandle[]>; stop(): void } {
  let scaled: Promise<WorkerHandle[]> | undefined;
  const onFork = ({ worker }: { worker: WorkerHandle }) => {
    if (worker.slot === 1 && scaled === undefined) scaled = primary.scale(1);
  };
  primary.on('workerFork', onFork);
  return {
    scaled: async (what) => {
      await until(() => scaled !== undefined, 60_000, what);
      return scaled!;
    },
    stop: () => primary.off('workerFork', onFork),
  };
}

describe('scale-down during a replacement', () => {
  it('[H177] a reload: the replacement of a slot scaled away is stopped, and the pool has the scaled count', async () => {
    const primary = testPrimary({ workerCount: 2 });
    await primary.start();
    const changes = record<{ slot: number; reason: string }>(primary, 'slotChange');
    const scale = scaleAtFork(primary);
    try {
      const complete = onceEvent<{ replaced: number }>(primary, 'reloadComplete', 60_000);
      const reloaded = primary.reload();
      const workers = await scale.scaled('the replacement of slot 1 forked');
      expect(workers.map((worker) => worker.slot)).toEqual([0]);
      expect(primary.workers).toHaveLength(1);
      await reloaded;
      // Slot 0 was replaced; slot 1 went away before its replacement was ready: not counted.
      await expect(complete).resolves.toMatchObject({ replaced: 1 });
      expect(primary.workers).toHaveLength(1);
      expect(changes.events.filter((change) => change.slot === 1)).toEqual([]);
      await expect(primary.scale(1)).resolves.toHaveLength(1);
    } finally {
      scale.stop();
      changes.stop();
    }
  }, 90_000);

  it('[H191] a reload cut short by a scale-down says how many it did not replace and why, in its event, its line and the reload command\'s answer', async () => {
    const { logger, text } = capturedLogger('info');
    const primary = testPrimary({ workerCount: 3, logger });
    await primary.start();
    const scale = scaleAtFork(primary);
    try {
      const complete = onceEvent<{ replaced: number; retired: number }>(primary, 'reloadComplete', 60_000);
      // What `clusterkit reload` gets over the control socket, and prints.
      const reply = reloadWithCounts(primary, () => primary.reload());
      await scale.scaled('the replacement of slot 1 forked');
      // Slot 1 went while its replacement started, slot 2 before its turn: 2 slots not replaced.
      await expect(complete).resolves.toMatchObject({ replaced: 1, retired: 2 });
      const answer = await reply;
      expect(answer).toMatchObject({ workers: 1, retired: 2 });
      // Before: "reloaded web: 1 worker replaced, no request cut off", as if 1 had been asked for.
      expect(describeReload('web', answer)).toBe('reloaded web: 1 worker replaced, no request cut off; 2 not replaced: a scale-down removed their slots');
      // The same count does not fail the command: the slots that remain were all replaced.
      expect(outcomeExitCode(reloadOutcome(answer))).toBe(0);
      expect(text()).toMatch(/rolling reload complete: 1 worker replaced, 2 not replaced: a scale-down removed their slots/);
    } finally {
      scale.stop();
    }
  }, 90_000);

  it('[H177] a memory replacement: the slot scaled away does not come back when its replacement is ready', async () => {
    // Each worker holds 100 MiB from its start: every one is replaced three heartbeats after ready.
    const primary = testPrimary({ workerCount: 2, maxMemoryMb: 64, heartbeat: { intervalMs: 100, timeoutMs: 5_000 } }, 'workers/memory-hog.ts');
    await primary.start();
    const changes = record<{ slot: number; reason: string }>(primary, 'slotChange');
    const scale = scaleAtFork(primary);
    try {
      await scale.scaled('a memory replacement for slot 1 forked');
      expect(primary.workers.map((worker) => worker.slot).filter((slot) => slot !== 0)).toEqual([]);
      // Slot 0 goes on being replaced: two replacements there, and slot 1 never serves again.
      const changesAtScale = changes.events.length;
      await until(() => changes.events.slice(changesAtScale).filter((change) => change.slot === 0).length >= 2, 60_000, 'two replacements in slot 0');
      expect(changes.events.filter((change) => change.slot === 1)).toEqual([]);
      expect(primary.workers.map((worker) => worker.slot).filter((slot) => slot !== 0)).toEqual([]);
    } finally {
      scale.stop();
      changes.stop();
    }
  }, 150_000);
});
