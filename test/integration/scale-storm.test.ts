/**
 * Scales that overlap a reload and each other (tester t23: `scale 1`, `scale 3`, `scale 2` 0.3 s
 * apart during a reload). A worker still booting in a slot a scale-down removes is ended at
 * once, not SIGKILLed at the shutdown timeout, and a stop that ends in a kill is counted by the
 * scale that caused it (H200); a scale-up whose new worker a later scale-down removes is
 * superseded, not failed (H201). The workers forked after the first ones boot for a minute
 * (boots-slowly.ts): still booting, for certain, when the scales come.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import type { ClusterPrimary, ShutdownReport, WorkerExitEvent, WorkerHandle } from '../../src/index.js';
import { capturedLogger } from '../helpers/captured-logger.js';
import { onCleanup } from '../helpers/cleanup.js';
import { testPrimary } from '../helpers/primary.js';
import { onceEvent, record, until } from '../helpers/wait.js';
import { describeScale } from '../../src/cli/control-outcome.js';
import { clusterStatus } from '../../src/control/cluster-status.js';
import { scaleWithCounts } from '../../src/control/stop-counts.js';

const kSlow = 'workers/boots-slowly.ts';

/** The env of boots-slowly.ts: the first `fast` workers start at once, the others boot for a minute. */
function slowBoots(fast: number, extra: Record<string, string> = {}): { env: Record<string, string>; dir: string } {
  const dir = mkdtempSync(join(tmpdir(), 'ck-boots-'));
  onCleanup(() => rmSync(dir, { recursive: true, force: true }));
  return { env: { BOOT_FAST: String(fast), BOOT_DELAY_MS: '60000', BOOT_DIR: dir, ...extra }, dir };
}

type ScaleComplete = { from: number; to: number; stopped: ShutdownReport; supersededBy?: number };

/** Scales to 1 from the `workerFork` of the first worker forked in slot 1 from now on (as in H177's tests). */
function scaleAtFork(primary: ClusterPrimary<any, any>): { scaled(): Promise<WorkerHandle[]>; forked(): WorkerHandle | undefined; stop(): void } {
  let scaled: Promise<WorkerHandle[]> | undefined;
  let forked: WorkerHandle | undefined;
  const onFork = ({ worker }: { worker: WorkerHandle }) => {
    if (worker.slot !== 1 || scaled !== undefined) return;
    forked = worker;
    scaled = primary.scale(1);
  };
  primary.on('workerFork', onFork);
  return {
    scaled: async () => {
      await until(() => scaled !== undefined, 60_000, 'the replacement of slot 1 forked');
      return scaled!;
    },
    forked: () => forked,
    stop: () => primary.off('workerFork', onFork),
  };
}

describe('scales during a reload and each other', () => {
  it('[H200] a reload replacement still booting in a slot scaled away is ended at once, not killed at the timeout', async () => {
    // Workers 1, 2 (the first), 3 (slot 0's replacement) start at once; slot 1's replacement boots for a minute.
    const primary = testPrimary({ workerCount: 2, shutdownTimeoutMs: 3_000, env: slowBoots(3).env }, kSlow);
    await primary.start();
    const exits = record<WorkerExitEvent>(primary, 'workerExit');
    const scale = scaleAtFork(primary);
    try {
      const completes = record<ScaleComplete>(primary, 'scaleComplete');
      const reloaded = primary.reload();
      await (await scale.scaled());
      const replacement = scale.forked()!;
      await reloaded;
      const exit = exits.events.find((event) => event.worker === replacement);
      // Before: `$shutdown` waited for its `$hello`, a minute away: SIGKILLed at the timeout.
      expect(exit).toMatchObject({ signal: 'SIGTERM', killed: false, expected: true, isEndedUnstarted: true });
      expect(completes.events).toHaveLength(1);
      expect(completes.events[0]!.stopped.killed).toEqual([]);
      expect(primary.workers.map((worker) => worker.slot)).toEqual([0]);
      completes.stop();
    } finally {
      scale.stop();
      exits.stop();
    }
  }, 120_000);

  it('[H200] a replacement the scale-down had to kill is counted in that scale’s report', async () => {
    // The booting replacement ignores SIGTERM (once it says so with its file): only the SIGKILL at the timeout ends it.
    const boots = slowBoots(3, { IGNORE_TERM: '1' });
    const primary = testPrimary({ workerCount: 2, shutdownTimeoutMs: 2_000, env: boots.env }, kSlow);
    await primary.start();
    const forked = onceEvent<{ worker: WorkerHandle }>(primary, 'workerFork', 60_000, ({ worker }) => worker.slot === 1);
    const reloaded = primary.reload();
    const { worker: replacement } = await forked;
    await until(() => existsSync(join(boots.dir, 'booting')), 60_000, 'the replacement ignoring SIGTERM');
    const complete = onceEvent<ScaleComplete>(primary, 'scaleComplete', 60_000);
    await primary.scale(1);
    // Before: killed=0, and the reload did not count it either (its slot was gone).
    expect((await complete).stopped.killed).toEqual([replacement]);
    await reloaded;
  }, 120_000);

  it('[H201] a scale-up whose new worker a later scale-down removes is superseded, not failed', async () => {
    const primary = testPrimary({ workerCount: 1, shutdownTimeoutMs: 3_000, env: slowBoots(1).env }, kSlow);
    await primary.start();
    const exits = record<WorkerExitEvent>(primary, 'workerExit');
    const completes = record<ScaleComplete>(primary, 'scaleComplete');
    try {
      const forked = onceEvent<{ worker: WorkerHandle }>(primary, 'workerFork', 60_000, ({ worker }) => worker.slot === 2);
      const up = primary.scale(3);
      const { worker: removed } = await forked;
      const down = primary.scale(2);
      // Before: scale(3) rejected "worker 3 was stopped before it was ready".
      await expect(up).resolves.toBeDefined();
      await down;
      expect(completes.events.find((event) => event.to === 3)).toMatchObject({ from: 1, to: 3, supersededBy: 2 });
      expect(completes.events.find((event) => event.to === 2)!.stopped.killed).toEqual([]);
      await until(() => exits.events.some((event) => event.worker === removed), 30_000, 'worker 3 exited');
      expect(exits.events.find((event) => event.worker === removed)).toMatchObject({ signal: 'SIGTERM', killed: false, isEndedUnstarted: true });
      expect(primary.workers.map((worker) => worker.slot)).toEqual([0, 1]);
    } finally {
      exits.stop();
      completes.stop();
    }
  }, 120_000);
  it('[H211][H615] a scale-down that removes workers not ready yet counts them as not started: line, reply and `clusterkit scale` answer', async () => {
    const { logger, text } = capturedLogger();
    const primary = testPrimary({ workerCount: 1, shutdownTimeoutMs: 30_000, logger, env: slowBoots(1).env }, kSlow);
    await primary.start();
    const completes = record<ScaleComplete>(primary, 'scaleComplete');
    const forks = record<{ worker: WorkerHandle }>(primary, 'workerFork');
    try {
      const up = primary.scale(3);
      await until(() => forks.events.length === 2, 60_000, 'the scale-up forked its two workers');
      const removed = forks.events.map(({ worker }) => worker);
      const stops = await scaleWithCounts(primary, () => primary.scale(1));
      await up;
      const down = completes.events.find((event) => event.to === 1)!;
      // Before: graceful=0 failed=0 killed=0 on main (in no count), graceful=2 once their stop ended them (H202).
      expect(down.stopped).toEqual({ graceful: [], failed: [], killed: [], requestsCut: 0, notStarted: [...removed].reverse() });
      expect(text()).toMatch(/\[t\] scaling from 3 to 1 worker complete: 2 workers stopped before they were ready \(the lines above say how\) from=3 to=1 graceful=0 failed=0 killed=0 notStarted=2\n/);
      expect(stops).toMatchObject({ unclean: 0, requestsCut: 0, notStarted: 2 });
      const status = clusterStatus(primary, { name: 'sc', script: 'app.js', startedAt: Date.now(), targetWorkers: () => 1 });
      expect(describeScale('sc', 1, { ...status, stops })).toBe(`scaled sc to 1 worker (pid ${primary.workers[0]!.pid}), 2 workers stopped before they were ready`);
      expect(stops).toMatchObject({ graceful: 0 });
      // [H615] A ready worker it stopped too is said beside them (ops t61: scale 4, then scale 1 at once: the ready one in no count).
      expect(describeScale('sc', 1, { ...status, stops: { ...stops, graceful: 1 } })).toBe(
        `scaled sc to 1 worker (pid ${primary.workers[0]!.pid}), 1 ready worker stopped gracefully and 2 workers stopped before they were ready`,
      );
    } finally {
      completes.stop();
      forks.stop();
    }
  }, 120_000);
});
