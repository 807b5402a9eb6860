/**
 * What `clusterkit reload` and `clusterkit scale` (and the dashboard's buttons) answer when a
 * scale and a reload overlap: each says what it did, not what the cluster looks like mid-way.
 */
import { describe, expect, it } from '@jest/globals';
import { describeReload, describeScale, outcomeExitCode, scaleOutcome, servingWorkers } from '../../src/cli/control-outcome.js';
import { clusterStatus } from '../../src/control/cluster-status.js';
import { reloadWithCounts, scaleWithCounts } from '../../src/control/stop-counts.js';
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

  it('[H610][H655] a reload answers with the workers that crashed or were killed meanwhile, counted once with the slots they left: its "no request cut off" is its own stops\'', async () => {
    const primary = testPrimary({ workerCount: 2 });
    const [, second] = await primary.start();
    const started = onceEvent(primary, 'reload');
    const crashed = onceEvent(primary, 'workerCrash');
    const reload = reloadWithCounts(primary, () => primary.reload());
    await started;
    // Ops t61: a kill -9 during the reload; the answer said "no request cut off", the clients saw resets.
    process.kill(second!.pid!, 'SIGKILL');
    await crashed;
    const answer = await reload;
    expect(answer.crashed).toMatchObject({ workers: 1, requestsCut: 0 });
    // Killed before the reload stopped it: its slot is vacant too, and the line counts it once (H655, retest t64 N9).
    expect(describeReload('web', answer)).toMatch(
      answer.vacant === 1
        ? /^reloaded web: 1 worker replaced, no request cut off by its stops; 1 old worker not stopped by the reload: it crashed or was killed during the reload, not by it: no request known cut off \(the cluster's log says how\), and any worker started in its slot since the reload began runs the new code$/
        : /^reloaded web: \d workers? replaced, no request cut off by its stops; .*meanwhile 1 worker crashed or was killed, not by the reload: no request known cut off \(the cluster's log says how\)$/,
    );
    const cut = { workers: 1, requestsCut: 2, connectionsReset: 5, isLowerBound: true as const };
    expect(describeReload('web', { ...answer, vacant: 0, crashed: cut })).toContain(
      "meanwhile 1 worker crashed or was killed, not by the reload: at least 2 requests cut off and at least 5 open connections reset (a request sent on one since its last report is lost too) (the cluster's log says how)",
    );
    expect(describeReload('web', { ...answer, vacant: 2, crashed: cut })).toContain(
      "2 old workers not stopped by the reload: 1 crashed or was killed during the reload, not by it: at least 2 requests cut off and at least 5 open connections reset (a request sent on one since its last report is lost too) (the cluster's log says how); the other had crashed before it began (or had not started yet); any worker started in their slots since the reload began runs the new code",
    );
    // More crashes than vacant slots (a restart crashed too): the old worker is said to be among them, not counted apart.
    const twice = describeReload('web', { ...answer, vacant: 1, vacantCrashed: 1, crashed: { ...cut, workers: 2 } });
    expect(twice).toContain('1 old worker not stopped by the reload: it crashed or was killed during the reload, not by it, and any worker started in its slot since the reload began runs the new code');
    expect(twice).toContain('meanwhile 2 workers (the old worker above among them) crashed or were killed, not by the reload: at least 2 requests cut off');
    // An older primary's answer has none: as before.
    const { crashed: _crashed, ...older } = answer;
    expect(describeReload('web', older)).not.toContain('meanwhile');
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
      `scaled web to 1 worker (pid ${primary.workers[0]!.pid})`,
    );
    // Overtaken by a later scale, or by a shutdown: said, rather than a count the cluster no longer has.
    expect(describeScale('web', 1, { ...status, targetWorkers: 3 })).toBe(`scaled web to 1 worker (pid ${primary.workers[0]!.pid}); a later scale asks for 3 workers`);
    expect(describeScale('web', 1, { ...status, state: 'stopping', workers: [] })).toBe('scaled web to 1 worker (no worker); since then, the cluster began shutting down');
  });

  it('[H586] a scale\'s answer says "pid" for one, and labels a slot whose worker is not ready yet (a restart in its back-off)', async () => {
    const primary = testPrimary({ workerCount: 1 });
    await primary.start();
    const status = clusterStatus(primary, { name: 'web', script: 'app.js', startedAt: Date.now(), targetWorkers: () => 3 });
    const ready = status.workers[0]!;
    // Newcomer t60: "scaled api to 1 worker (pids 1493)"; "(pids 2907, 2908, 2910)" with 2907 a restart not ready yet.
    const workers = [
      { ...ready, slot: 0, state: 'starting' as const, pid: 2907 },
      { ...ready, id: 8, slot: 1, pid: 2908 },
      { ...ready, id: 9, slot: 2, pid: 2910 },
    ];
    expect(describeScale('api', 3, { ...status, workers })).toBe('scaled api to 3 workers (pids 2907 (starting), 2908, 2910)');
    expect(describeScale('api', 1, { ...status, targetWorkers: 1, workers: [{ ...ready, pid: 1493 }] })).toBe('scaled api to 1 worker (pid 1493)');
    expect(describeScale('api', 1, { ...status, targetWorkers: 1, workers: [{ ...ready, pid: 1493 }], stops: { unclean: 0, requestsCut: 0, already: true } })).toBe('api already has a target of 1 worker: nothing to do (pid 1493)');
  });

  it('[H201] scales that overlap: the answer says a later scale was asked, with the workers labelled, and a superseded scale-up as such', async () => {
    const primary = testPrimary({ workerCount: 1 });
    await primary.start();
    const pid = primary.workers[0]!.pid;
    // Another primary's answer: each later scale is counted from its `scale` event.
    const scaled = scaleWithCounts(primary, async () => {
      const own = primary.scale(2);
      await onceEvent(primary, 'scaleComplete');
      await primary.scale(1);
      await own;
    });
    await expect(scaled).resolves.toMatchObject({ unclean: 0, laterScale: 1 });
    // Tester t23: "scaled s2 to 1 worker (pids 5513, 5981)" after a later `scale 3` started one.
    const status = clusterStatus(primary, { name: 'web', script: 'app.js', startedAt: Date.now(), targetWorkers: () => 1 });
    const workers = [
      { ...status.workers[0]!, pid },
      { ...status.workers[0]!, id: 7, slot: 4, state: 'starting' as const, pid: 5981 },
      { ...status.workers[0]!, id: 8, slot: 5, state: 'stopping' as const, pid: 6008 },
    ];
    expect(describeScale('s2', 1, { ...status, workers, stops: { unclean: 0, requestsCut: 0, laterScale: 2 } })).toBe(
      `scaled s2 to 1 worker; since then, a later scale asks for 2 workers: now pids ${pid}, 5981 (starting), 6008 (stopping)`,
    );
    expect(describeScale('s2', 3, { ...status, workers, stops: { unclean: 0, requestsCut: 0, laterScale: 2, supersededBy: 2 } })).toBe(
      `scale of s2 to 3 workers superseded: a later scale to 2 workers removed new workers of it before they were ready; now pids ${pid}, 5981 (starting), 6008 (stopping)`,
    );
    expect(outcomeExitCode(scaleOutcome({ ...status, stops: { unclean: 0, requestsCut: 0, supersededBy: 2 } }))).toBe(0);
  });
});
