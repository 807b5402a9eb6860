/**
 * A scale while a slot is given up in a crash loop (tester t30 F1, F2): it counts from the
 * target, given-up slots included, as status and /metrics do; a scale to that target does
 * nothing; a scale-up adds new slots and leaves the errored one as it is; a scale-down drops the
 * errored slot first; a slot's restarts and crashes never go backwards. Real processes.
 */
import { rmSync } from 'node:fs';
import { afterEach, describe, expect, it } from '@jest/globals';
import { cleanUpCli, cli } from './cli-process.js';
import { startWithGivenUpSlot } from './given-up-cluster.js';

afterEach(() => {
  cleanUpCli();
});

interface Status {
  targetWorkers: number;
  readyWorkers: number;
  givenUpSlots?: Array<{ slot: number; restarts: number; crashes: number }>;
}

/** The counter series of an exposition (`clusterkit_worker_restarts_total{slot="0"}` → 3), and the target. */
function parseMetrics(text: string): Map<string, number> {
  const values = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const space = line.lastIndexOf(' ');
    values.set(line.slice(0, space), Number(line.slice(space + 1)));
  }
  return values;
}

describe('clusterkit scale while a slot is given up [H284]', () => {
  it('[H284][H719] counts from the target: same N does nothing, up adds slots, down drops the errored slot first, counts never go backwards', async () => {
    const { run, runtime, healthPort, flag, slot } = await startWithGivenUpSlot('sgu');

    /** Every counter seen so far: none may go backwards while the primary lives. */
    const highest = new Map<string, number>();
    const check = async (target: number, givenUp: number): Promise<{ status: Status; metrics: Map<string, number> }> => {
      const status = JSON.parse((await cli(['status', 'sgu', '--json'], { runtime })).stdout) as Status;
      const metrics = parseMetrics(await (await fetch(`http://127.0.0.1:${healthPort}/metrics`)).text());
      expect(status.targetWorkers).toBe(target);
      expect(metrics.get('clusterkit_workers_target')).toBe(target);
      expect(status.givenUpSlots ?? []).toHaveLength(givenUp);
      expect(metrics.get('clusterkit_slots_given_up')).toBe(givenUp);
      // One crash loop only: no scale ran the broken slot again.
      expect(metrics.get('clusterkit_crash_loops_total')).toBe(1);
      for (const [series, value] of metrics) {
        if (!/^clusterkit_worker_(restarts|crashes)_total\{/.test(series)) continue;
        expect([series, value]).toEqual([series, Math.max(value, highest.get(series) ?? 0)]);
        highest.set(series, value);
      }
      return { status, metrics };
    };
    const { status: given } = await check(2, 1);
    const { restarts, crashes } = given.givenUpSlots![0]!;

    // The target it has: nothing forked, said so, the errored slot named.
    const same = await cli(['scale', 'sgu', '2'], { runtime, ms: 30_000 });
    expect(same.code).toBe(0);
    expect(same.stdout).toContain('sgu already has a target of 2 workers: nothing to do');
    expect(same.stdout).toContain('1 of them errored');
    // [H719] The cluster's own line says it too (hostile t79: `already 2, nothing to do` while 1 worker ran).
    await run.waitFor(/scale to 2 workers: already 2, nothing to do; 1 of them errored \(given up in a crash loop\): fix the code, then a reload starts it again from=2 to=2 givenUp=1/);
    expect((await check(2, 1)).status.givenUpSlots).toEqual([expect.objectContaining({ slot, restarts, crashes })]);

    // The code fixed on disk, not reloaded: a scale-up adds a slot and leaves the errored one.
    rmSync(flag);
    expect((await cli(['scale', 'sgu', '3'], { runtime, ms: 30_000 })).code).toBe(0);
    expect((await check(3, 1)).status.readyWorkers).toBe(2);
    expect((await cli(['scale', 'sgu', '+1'], { runtime, ms: 30_000 })).code).toBe(0);
    const four = await check(4, 1);
    expect(four.status.readyWorkers).toBe(3);
    expect(four.status.givenUpSlots).toEqual([expect.objectContaining({ slot, restarts, crashes })]);
    expect(run.output()).not.toMatch(/scaling from [01] to/);

    // Down by 2: the errored slot first, then the newest live one.
    expect((await cli(['scale', 'sgu', '2'], { runtime, ms: 30_000 })).code).toBe(0);
    expect((await check(2, 0)).status.readyWorkers).toBe(2);

    // A scale-up that takes the dropped slot's number again goes on from its counts.
    expect((await cli(['scale', 'sgu', '+1'], { runtime, ms: 30_000 })).code).toBe(0);
    const { metrics } = await check(3, 0);
    expect(metrics.get(`clusterkit_worker_crashes_total{slot="${slot}"}`)).toBe(crashes);
    expect(metrics.get(`clusterkit_worker_restarts_total{slot="${slot}"}`)).toBe(restarts + 1);
    expect(run.output()).toMatch(/scaling from 2 to 3 workers[\s\S]*scaling from 3 to 4 workers[\s\S]*scaling from 4 to 2 workers[\s\S]*scaling from 2 to 3 workers/);

    expect((await cli(['stop', 'sgu'], { runtime })).code).toBe(0);
    await expect(run.exited()).resolves.toBe(0);
  }, 120_000);
});
