/**
 * `/metrics` stays valid exposition while the cluster changes (PM2 retest N4, N3): one sample per
 * series during a `--wait-ready` reload, when each slot has its old worker and its replacement
 * alive at once (H278); and a slot the crash-loop breaker gave up on stays visible, in `/metrics`
 * and in `status`, as PM2's `errored` (H277). Real processes, a real reload, a real crash loop.
 */
import { rmSync } from 'node:fs';
import { afterEach, describe, expect, it } from '@jest/globals';
import { freePort } from '../helpers/ports.js';
import { until } from '../helpers/wait.js';
import { cleanUpCli, cli, runtimeDir, startCli } from './cli-process.js';
import { startWithGivenUpSlot } from './given-up-cluster.js';

afterEach(() => {
  cleanUpCli();
});

/** Each series (name and label set) of an exposition, and those written more than once. */
function parseExposition(text: string): { values: Map<string, number>; duplicates: string[] } {
  const values = new Map<string, number>();
  const duplicates: string[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const space = line.lastIndexOf(' ');
    const series = line.slice(0, space);
    if (values.has(series)) duplicates.push(series);
    values.set(series, Number(line.slice(space + 1)));
  }
  return { values, duplicates };
}

async function scrape(port: number): Promise<string> {
  const response = await fetch(`http://127.0.0.1:${port}/metrics`);
  expect(response.status).toBe(200);
  return response.text();
}

describe('/metrics during a reload [H278]', () => {
  it('[H278] has one sample per series while old workers and their replacements are both alive', async () => {
    const runtime = runtimeDir();
    const healthPort = await freePort();
    const run = startCli(
      ['run', 'test/fixtures/cli-wait-ready.mjs', '-w', '2', '--name', 'expo', '--wait-ready', '--health-port', String(healthPort), '--health-host', '127.0.0.1'],
      { runtime, env: { PORT: String(await freePort()), WARM_MS: '1500' } },
    );
    await run.waitFor(/service expo started: 2 workers/, 30_000);
    const reload = cli(['reload', 'expo'], { runtime, ms: 60_000 });
    let isDone = false;
    void reload.finally(() => (isDone = true));
    let scrapes = 0;
    let overlapping = 0;
    while (!isDone) {
      const { values, duplicates } = parseExposition(await scrape(healthPort));
      expect(duplicates).toEqual([]);
      scrapes++;
      // A slot with two live workers: the moment PM2 retest N4 saw `{slot="0"}` twice.
      if ((values.get('clusterkit_workers{state="starting"}') ?? 0) + (values.get('clusterkit_workers{state="stopping"}') ?? 0) > 0) overlapping++;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect((await reload).code).toBe(0);
    expect(scrapes).toBeGreaterThan(0);
    expect(overlapping).toBeGreaterThan(0);
    const after = parseExposition(await scrape(healthPort));
    expect(after.duplicates).toEqual([]);
    expect(after.values.get('clusterkit_worker_restarts_total{slot="0"}')).toBe(1);
    expect(after.values.get('clusterkit_workers_target')).toBe(2);
    expect((await cli(['stop', 'expo'], { runtime })).code).toBe(0);
    await expect(run.exited()).resolves.toBe(0);
  }, 90_000);
});

interface Status {
  targetWorkers: number;
  readyWorkers: number;
  givenUpSlots?: Array<{ slot: number; state: string; since: number; crashes: number; failures: number; reason: string; lastFailure: string }>;
}

describe('a slot given up in a crash loop [H277]', () => {
  it('[H277] is errored in status and kept in /metrics (target, given up, crash loops, its crashes), through the reload that restores it', async () => {
    // The code breaks, then a worker dies: its restarts throw, and the breaker gives its slot up.
    const { run, runtime, healthPort, flag, slot } = await startWithGivenUpSlot('errd');

    const status = JSON.parse((await cli(['status', 'errd', '--json'], { runtime })).stdout) as Status;
    expect(status.targetWorkers).toBe(2);
    expect(status.givenUpSlots).toEqual([
      expect.objectContaining({ slot, state: 'errored', failures: 3, reason: 'startup-failures', lastFailure: expect.stringContaining('the new release is broken') }),
    ]);
    // The kill, then the failed starts (three, or two when the kill itself came within the startup window).
    const crashes = status.givenUpSlots![0]!.crashes;
    expect(crashes).toBeGreaterThanOrEqual(3);
    expect(Date.now() - status.givenUpSlots![0]!.since).toBeLessThan(60_000);
    const text = (await cli(['status', 'errd'], { runtime })).stdout;
    expect(text).toContain('workers 1/2 ready (1 errored)');
    expect(text).toMatch(new RegExp(`^\\s*-\\s+-\\s+${slot}\\s+errored\\s`, 'm'));
    expect(text).toMatch(new RegExp(`errored: slot ${slot} given up \\d+(ms|s) ago \\(crash loop: 3 failed starts in a row\\); last failure: .*the new release is broken`));
    expect((await cli(['show', 'errd'], { runtime })).stdout).toContain(`errored: slot ${slot} given up`);
    expect((await cli(['list'], { runtime })).stdout).toContain('1/2 ready (1 errored)');

    const given = parseExposition(await scrape(healthPort));
    expect(given.duplicates).toEqual([]);
    expect(given.values.get('clusterkit_workers_target')).toBe(2);
    expect(given.values.get('clusterkit_slots_given_up')).toBe(1);
    expect(given.values.get('clusterkit_crash_loops_total')).toBe(1);
    expect(given.values.get(`clusterkit_worker_up{slot="${slot}"}`)).toBe(0);
    // The crashes stay counted while the slot has no worker.
    expect(given.values.get(`clusterkit_worker_crashes_total{slot="${slot}"}`)).toBe(crashes);

    // The fix and a reload: the slot starts again, and its counts go on from where they were.
    rmSync(flag);
    expect((await cli(['reload', 'errd'], { runtime, ms: 60_000 })).code).toBe(0);
    await until(async () => (JSON.parse((await cli(['status', 'errd', '--json'], { runtime })).stdout) as Status).readyWorkers === 2, 30_000, 'both slots served again');
    const restored = parseExposition(await scrape(healthPort));
    expect(restored.values.get('clusterkit_slots_given_up')).toBe(0);
    expect(restored.values.get('clusterkit_crash_loops_total')).toBe(1);
    expect(restored.values.get(`clusterkit_worker_crashes_total{slot="${slot}"}`)).toBe(crashes);
    expect(restored.values.get(`clusterkit_worker_up{slot="${slot}"}`)).toBe(1);
    expect((await cli(['stop', 'errd'], { runtime })).code).toBe(0);
    await expect(run.exited()).resolves.toBe(0);
  }, 120_000);
});
