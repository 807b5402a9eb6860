/**
 * A reload that finds a slot with no worker running at its turn (its worker died during the
 * reload, its restart still waiting out its back-off) starts the slot with the new code but
 * replaces nothing there, and says so (H574): in its event, its line and the reload command's
 * answer. Before, the slot counted as replaced.
 */
import { describe, expect, it } from '@jest/globals';
import type { WorkerHandle } from '../../src/index.js';
import { describeReload, outcomeExitCode, reloadOutcome } from '../../src/cli/control-outcome.js';
import { reloadWithCounts } from '../../src/control/stop-counts.js';
import { capturedLogger } from '../helpers/captured-logger.js';
import { testPrimary } from '../helpers/primary.js';
import { onceEvent } from '../helpers/wait.js';

describe('a reload with a slot whose worker died during it', () => {
  it('[H574][H637][H655] does not count that slot as replaced, and says why, in its event, its line and the reload command\'s answer', async () => {
    const { logger, text } = capturedLogger('info');
    // A back-off far longer than the reload: the slot is still empty at its turn, however slow the machine.
    const primary = testPrimary({ workerCount: 2, logger, restart: { backoff: { initialMs: 60_000 } } });
    const [, second] = await primary.start();
    // The old worker of slot 1 dies from outside as slot 0's replacement forks: before slot 1's turn.
    const onFork = ({ worker }: { worker: WorkerHandle }) => {
      if (worker.slot === 0) process.kill(second!.pid!, 'SIGKILL');
    };
    primary.once('workerFork', onFork);
    const exited = onceEvent<{ worker: WorkerHandle }>(primary, 'workerExit', 60_000, (event) => event.worker.id === second!.id);
    const complete = onceEvent<{ replaced: number; vacant?: number }>(primary, 'reloadComplete', 60_000);
    complete.catch(() => {});
    const reply = reloadWithCounts(primary, () => primary.reload());
    reply.catch(() => {});
    await exited;
    // H672: running as the reload began, killed during it.
    await expect(complete).resolves.toMatchObject({ replaced: 1, vacant: 1, vacantCrashed: 1 });
    const answer = await reply;
    expect(answer).toMatchObject({ workers: 1, vacant: 1 });
    // Before: "reloaded web: 2 workers replaced, no request cut off".
    // H610: the worker killed during it is said after it, and "no request cut off" is the reload's own stops'.
    expect(describeReload('web', answer)).toBe(
      "reloaded web: 1 worker replaced, no request cut off by its stops; 1 old worker not stopped by the reload: it crashed or was killed during the reload, not by it: no request known cut off (the cluster's log says how), and any worker started in its slot since the reload began runs the new code",
    );
    expect(outcomeExitCode(reloadOutcome(answer))).toBe(0);
    // The reload started the slot again with the new code: both slots serve, its restart not needed.
    expect(primary.workers.map((worker) => worker.slot).sort()).toEqual([0, 1]);
    // H672 (retest t67 F8): said as the CLI says it, not "(or had not started yet)".
    expect(text()).toContain('rolling reload complete: 1 worker replaced, 1 old worker not stopped by the reload: it crashed or was killed during the reload, not by it, and any worker started in its slot since the reload began runs the new code');
  }, 90_000);

  it('[H574][H672] does not count as replaced a worker killed while its own replacement starts (retest t59), and says it was killed during the reload', async () => {
    // Each worker's _init takes 1 s: the replacement of slot 0 is still starting when its old worker dies.
    const primary = testPrimary({ workerCount: 2, env: { INIT_DELAY_MS: '1000' }, restart: { backoff: { initialMs: 60_000 } } }, 'workers/init-slow.ts');
    const [first] = await primary.start();
    const onFork = ({ worker }: { worker: WorkerHandle }) => {
      if (worker.slot === 0) process.kill(first!.pid!, 'SIGKILL');
    };
    primary.once('workerFork', onFork);
    const complete = onceEvent<{ replaced: number; vacant?: number; stopped: { graceful: WorkerHandle[] } }>(primary, 'reloadComplete', 60_000);
    complete.catch(() => {});
    const reply = reloadWithCounts(primary, () => primary.reload());
    reply.catch(() => {});
    // Before: replaced 2, while the report's stopped workers were 1.
    await expect(complete).resolves.toMatchObject({ replaced: 1, vacant: 1, vacantCrashed: 1, stopped: { graceful: [expect.objectContaining({ slot: 1 })] } });
    await expect(reply).resolves.toMatchObject({ workers: 1, vacant: 1, graceful: 1 });
    expect(primary.workers.map((worker) => worker.slot).sort()).toEqual([0, 1]);
  }, 90_000);

  it('[H574] does not replace again a worker its slot started during the reload (a crash\'s restart): it runs the new code already (retest t59)', async () => {
    // Replacements boot in 1 s; the crash's restart comes 100 ms after the crash: it starts, on the new code, before its slot's turn.
    const primary = testPrimary({ workerCount: 2, env: { INIT_DELAY_MS: '1000' }, restart: { backoff: { initialMs: 100 } } }, 'workers/init-slow.ts');
    const [, second] = await primary.start();
    const onFork = ({ worker }: { worker: WorkerHandle }) => {
      if (worker.slot === 0) process.kill(second!.pid!, 'SIGKILL');
    };
    primary.once('workerFork', onFork);
    const forksInSlot1: number[] = [];
    const onAnyFork = ({ worker }: { worker: WorkerHandle }) => {
      if (worker.slot === 1) forksInSlot1.push(worker.id);
    };
    primary.on('workerFork', onAnyFork);
    const complete = onceEvent<{ replaced: number; vacant?: number }>(primary, 'reloadComplete', 60_000);
    complete.catch(() => {});
    try {
      const reply = reloadWithCounts(primary, () => primary.reload());
      reply.catch(() => {});
      await expect(complete).resolves.toMatchObject({ replaced: 1, vacant: 1 });
      // Before: the restart was replaced in turn ("2 workers replaced"), a second start for nothing.
      expect(forksInSlot1).toHaveLength(1);
      await expect(reply).resolves.toMatchObject({ workers: 1, vacant: 1 });
    } finally {
      primary.off('workerFork', onAnyFork);
    }
  }, 90_000);
});
