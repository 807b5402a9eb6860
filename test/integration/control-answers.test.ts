/**
 * What `clusterkit reload` and `clusterkit scale` (and the dashboard's buttons) answer when a
 * scale and a reload overlap: each says what it did, not what the cluster looks like mid-way.
 */
import { describe, expect, it } from '@jest/globals';
import { describeReload, describeScale, servingWorkers } from '../../src/cli/control-outcome.js';
import { clusterStatus } from '../../src/control/cluster-status.js';
import { reloadWithCounts } from '../../src/control/stop-counts.js';
import { testPrimary } from '../helpers/primary.js';
import { onceEvent } from '../helpers/wait.js';

describe('control answers', () => {
  it('[H38] a reload answers with the workers it replaced, even when a scale during it added one', async () => {
    const primary = testPrimary({ workerCount: 2 });
    await primary.start();
    const started = onceEvent(primary, 'reload');
    const reload = reloadWithCounts(primary, () => primary.reload());
    await started;
    await primary.scale(3);
    const answer = await reload;
    expect(answer.workers).toBe(2);
    expect(describeReload('web', answer)).toBe('reloaded web: 2 workers replaced, no request cut off');
    expect(primary.workers).toHaveLength(3);
  });

  it('[H38] a scale answered mid-reload lists one pid per slot: the worker serving it', async () => {
    // Slot 0: its old worker serves while its replacement starts. Slot 1: the old one stops, the new serves.
    const workers = [
      { id: 1, slot: 0, state: 'ready', pid: 101 },
      { id: 2, slot: 1, state: 'stopping', pid: 102 },
      { id: 3, slot: 0, state: 'starting', pid: 103 },
      { id: 4, slot: 1, state: 'ready', pid: 104 },
      { id: 5, slot: 2, state: 'starting', pid: 105 },
    ];
    expect(servingWorkers(workers).map((worker) => worker.pid)).toEqual([101, 104, 105]);
    const primary = testPrimary({ workerCount: 1 });
    await primary.start();
    const status = clusterStatus(primary, { name: 'web', script: 'app.js', startedAt: Date.now(), targetWorkers: () => 1 });
    expect(describeScale('web', 1, { ...status, workers: [...status.workers, ...status.workers.map((worker) => ({ ...worker, id: worker.id + 10, state: 'stopping' as const }))] })).toBe(
      `scaled web to 1 worker (pids ${primary.workers[0]!.pid})`,
    );
    // Overtaken by a later scale, or by a shutdown: said, rather than a count the cluster no longer has.
    expect(describeScale('web', 1, { ...status, targetWorkers: 3 })).toBe(`scaled web to 1 worker (pids ${primary.workers[0]!.pid}); a later scale asks for 3 workers`);
    expect(describeScale('web', 1, { ...status, state: 'stopping', workers: [] })).toBe('scaled web to 1 worker (pids none); since then, the cluster began shutting down');
  });
});
