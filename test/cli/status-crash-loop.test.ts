/**
 * `status`, `status --json`, `ls` and /readyz while every slot is failing and waits out its
 * restart's backoff, before any is given up (newcomer t39 H1): the service is down, and the
 * answer said `running`, `(no workers)`, `0/2`, with nothing of the failing slots. Real processes:
 * a deploy broken on disk, both workers killed, their restarts throwing on import.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import { freePort } from '../helpers/ports.js';
import { kRepoRoot } from '../helpers/spawn.js';
import { cleanUpCli, cli, readyPids, runtimeDir, startCli, tempProject } from './cli-process.js';

afterEach(() => {
  cleanUpCli();
});

interface FailingSlot {
  slot: number;
  state: string;
  failures: number;
  failedStarts: number;
  lastFailure: string;
  restartAt?: number;
  restartInMs?: number;
}

interface Status {
  state: string;
  readyWorkers: number;
  workers: unknown[];
  givenUpSlots: unknown[];
  failingSlots?: FailingSlot[];
}

describe('status during a crash loop\'s backoff [H396]', () => {
  it('[H396] says restarting, each failing slot with its exits in a row, its last failure and when it restarts; ls counts them; /readyz says why', async () => {
    const runtime = runtimeDir();
    const healthPort = await freePort();
    const project = tempProject({});
    const flag = join(project, 'broken');
    // A 5 s back-off, doubled: the restarts that throw are followed by 10 s with no worker at all.
    // startupWindow 0: the kill is no failed start, so the counts below are exact.
    writeFileSync(
      join(project, 'ck.config.cjs'),
      `module.exports = { apps: [{ name: 'cls', script: ${JSON.stringify(join(kRepoRoot, 'test/fixtures/cli-fails-on-reload.mjs'))}, workers: 2, restartBackoff: '5s', startupWindow: 0, maxStartupFailures: 10, healthPort: ${healthPort}, healthHost: '127.0.0.1', env: { CLI_FIXTURE_FLAG: ${JSON.stringify(flag)} } }] };\n`,
    );
    const run = startCli(['run', '-c', 'ck.config.cjs'], { runtime, cwd: project });
    await run.waitFor(/service cls started: 2 workers/, 30_000);
    writeFileSync(flag, '');
    for (const pid of readyPids(run)) process.kill(pid, 'SIGKILL');
    // Both restarts threw on import: both slots now wait out a 10 s back-off.
    await run.waitFor(/ERROR worker \d+ could not start[^\n]*\n[\s\S]*ERROR worker \d+ could not start/, 30_000);

    const json = JSON.parse((await cli(['status', 'cls', '--json'], { runtime })).stdout) as Status;
    expect(json.state).toBe('restarting');
    expect(json.readyWorkers).toBe(0);
    expect(json.workers).toEqual([]);
    expect(json.givenUpSlots).toEqual([]);
    expect(json.failingSlots).toHaveLength(2);
    for (const slot of json.failingSlots!) {
      expect(slot).toEqual(expect.objectContaining({ state: 'restarting', failures: 2, failedStarts: 1 }));
      expect(slot.lastFailure).toMatch(/^Worker \d+ \(pid \d+\) could not start: the script .*cli-fails-on-reload\.mjs threw on import: Error: the new release is broken/);
      expect(slot.restartInMs).toBeGreaterThan(0);
      expect(slot.restartInMs).toBeLessThanOrEqual(10_000);
      expect(typeof slot.restartAt).toBe('number');
    }
    expect(json.failingSlots!.map((slot) => slot.slot).sort()).toEqual([0, 1]);

    const text = (await cli(['status', 'cls'], { runtime })).stdout;
    expect(text).toMatch(/^cluster cls {2}pid \d+ {2}restarting {2}up \S+ {2}workers 0\/2 ready \(2 restarting\)/);
    expect(text).not.toContain('(no workers)');
    expect(text).toMatch(/^ +- +- +0 +restarting +- +1 +2 /m);
    for (const slot of [0, 1]) {
      expect(text).toMatch(new RegExp(`^restarting: slot ${slot} restarts in \\d+\\.\\ds, after 2 exits in a row \\(1 failed start\\); last failure: worker \\d+ \\(pid \\d+\\) could not start: .*threw on import: Error: the new release is broken`, 'm'));
    }

    const list = (await cli(['ls'], { runtime })).stdout;
    expect(list).toMatch(/^cls +\d+ +restarting +0\/2 ready \(2 restarting\) /m);

    const readyz = await fetch(`http://127.0.0.1:${healthPort}/readyz`);
    expect(readyz.status).toBe(503);
    const body = (await readyz.json()) as { failingSlots?: number; reason?: string };
    expect(body.failingSlots).toBe(2);
    expect(body.reason).toMatch(/^0 of 1 required workers ready, 2 worker slots failing and restarting \(the next restart in \d+\.\ds\)$/);

    expect((await cli(['stop', 'cls'], { runtime, ms: 30_000 })).code).toBe(0);
    await expect(run.exited()).resolves.toBe(0);
  });
});
