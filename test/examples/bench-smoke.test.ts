import { describe, expect, it } from '@jest/globals';
import { spawnScript, type Spawned } from '../helpers/spawn.js';

/** The JSON report a bench script printed on stdout; the whole output on failure, to diagnose. */
function parseReport<T>(run: Spawned, text: string): T {
  try {
    return JSON.parse(text) as T;
  } catch (error) {
    throw new Error(`The benchmark printed no JSON report. Output:\n${run.output()}`, { cause: error });
  }
}

/** The benchmarks run with tiny counts, so they cannot rot. No speed is asserted. */
describe('benchmark runners', () => {
  it('npm run bench measures both implementations and prints JSON rows', async () => {
    const run = spawnScript('bench/run.ts', { args: ['--quick', '--json', '--serialization', 'json', '--only', 'latency,pipelined,notify,broadcast,startup,memory'] });
    // 28 s at load 8; it missed 120 s in a run under load with CI beside it. An upper bound only.
    await expect(run.exited(300_000)).resolves.toBe(0);
    const report = parseReport<{ rows: Array<{ scenario: string; raw?: number; clusterkit?: number; memory?: object }> }>(run, run.stdout());
    const scenarios = report.rows.map((row) => row.scenario);
    expect(scenarios).toEqual(expect.arrayContaining(['round trip p50 (64 B, sequential)', 'start to ready, 4 workers', 'broadcast round trip, 4 workers']));
    expect(report.rows.filter((row) => row.scenario.startsWith('pipelined'))).toHaveLength(6);
    for (const row of report.rows.filter((entry) => !entry.memory)) {
      expect(row.raw).toBeGreaterThan(0);
      expect(row.clusterkit).toBeGreaterThan(0);
    }
  }, 330_000);

  it('npm run bench:reload reports served and failed requests', async () => {
    const run = spawnScript('bench/reload.ts', { args: ['--runs', '1', '--workers', '2', '--connections', '4', '--duration', '2', '--reloads', '1', '--json'] });
    await expect(run.exited(180_000)).resolves.toBe(0);
    const report = parseReport<{ served: number; failed: number; reloads: number }>(run, run.stdout().trim().split('\n').at(-1)!);
    expect(report.reloads).toBe(1);
    expect(report.served).toBeGreaterThan(0);
    expect(report.failed).toBe(0);
  }, 210_000);
});
