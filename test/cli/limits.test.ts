/**
 * [H3] [H4] The CLI's durations and worker counts, on the built CLI: a duration past what a
 * Node timer holds and a worker count past the ceiling are usage errors (exit 2) before
 * anything runs; a large scale-up leaves the primary answering `status` and `stop`.
 */
import { join } from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import { controlRequest } from '../../src/control/control-client.js';
import type { ClusterStatus } from '../../src/control/control-protocol.js';
import { defaultMaxWorkers } from '../../src/primary/pool/cpu-limit.js';
import { until } from '../helpers/wait.js';
import { cleanUpCli, cli, runtimeDir, startCli, tempProject } from './cli-process.js';

afterEach(() => cleanUpCli());

const idle = 'test/fixtures/cli-idle-script.mjs';
const kLimitMessage = /must be at most 2147483647 ms \(596h, about 24\.8 days: the longest a Node timer can wait\)\. Received "600h"\./;

describe('[H3] [H4] CLI limits', () => {
  it('[H3] refuses durations a timer cannot hold, from flags and from the config file, with exit 2', async () => {
    const runtime = runtimeDir();
    const project = (app: object) => tempProject({ 'idle.mjs': 'setInterval(() => {}, 1 << 30);\n', 'clusterkit.config.json': JSON.stringify({ apps: [{ script: 'idle.mjs', ...app }] }) });
    const cases: Array<[string[], RegExp, string?]> = [
      [['run', idle, '--ready-timeout', '600h'], new RegExp(`^clusterkit: --ready-timeout ${kLimitMessage.source}`)],
      [['run', idle, '--shutdown-timeout', '600h'], new RegExp(`^clusterkit: --shutdown-timeout ${kLimitMessage.source}`)],
      [['run', idle, '--gradual-drain', '600h'], new RegExp(`^clusterkit: --gradual-drain ${kLimitMessage.source}`)],
      [['run', idle, '--watch', '--watch-delay', '600h'], new RegExp(`^clusterkit: --watch-delay ${kLimitMessage.source}`)],
      [['status', '--watch', '--interval', '600h'], new RegExp(`^clusterkit: --interval ${kLimitMessage.source}`)],
      [['run'], /: "apps\[0\]\.readyTimeout" must be at most 2147483647 ms .*Received "600h"\./, project({ readyTimeout: '600h' })],
      [['run'], /: "apps\[0\]\.shutdownTimeout" must be at most 2147483647 ms .*Received 2147483648\./, project({ shutdownTimeout: 2 ** 31 })],
      [['run'], new RegExp(`: "apps\\[0\\]\\.gradualDrain" ${kLimitMessage.source}`), project({ gradualDrain: '600h' })],
    ];
    const results = await Promise.all(cases.map(([args, , cwd]) => cli(args, { runtime, ...(cwd ? { cwd } : {}) })));
    results.forEach((result, index) => {
      expect({ args: cases[index]![0], code: result.code }).toEqual({ args: cases[index]![0], code: 2 });
      expect(result.stderr).toMatch(cases[index]![1]);
      expect(result.stderr).not.toMatch(/worker \d+ (ready|forked)/);
    });
  });

  it('[H4] refuses worker counts past the ceiling: -w, --max-workers, the config file, and scale on a running cluster', async () => {
    const runtime = runtimeDir();
    const ceiling = defaultMaxWorkers();
    const project = tempProject({
      'idle.mjs': 'setInterval(() => {}, 1 << 30);\n',
      'clusterkit.config.json': JSON.stringify({ apps: [{ name: 'many', script: 'idle.mjs', workers: 100_000 }, { name: 'capped', script: 'idle.mjs', workers: 3, maxWorkers: 2 }] }),
    });
    // First alone: where the ceiling is missing, this fails before anything forks 100 000 workers.
    const capped = await cli(['run', idle, '-w', '3', '--max-workers', '2'], { runtime });
    expect(capped.stderr).toMatch(/^clusterkit: 3 workers is more than the maximum, 2 \(from --max-workers or "maxWorkers"\)/);
    const cases: Array<[string[], RegExp, string?]> = [
      [['run', idle, '-w', '100000'], new RegExp(`^clusterkit: 100000 workers is more than the maximum, ${ceiling} \\(by default 4 × the CPUs, at least 64\\); raise it with --max-workers`)],
      [['run', idle, '--max-workers', '0'], /^clusterkit: --max-workers must be a positive integer\. Received "0"\./],
      [['run', 'many'], /^clusterkit: 100000 workers is more than the maximum/, project],
      [['run', 'capped'], /^clusterkit: 3 workers is more than the maximum, 2 /, project],
    ];
    const results = await Promise.all(cases.map(([args, , cwd]) => cli(args, { runtime, ...(cwd ? { cwd } : {}) })));
    results.forEach((result, index) => {
      expect({ args: cases[index]![0], code: result.code }).toEqual({ args: cases[index]![0], code: 2 });
      expect(result.stderr).toMatch(cases[index]![1]);
    });

    const run = startCli(['run', idle, '-w', '1', '--max-workers', '2', '--name', 'roof'], { runtime });
    await run.waitFor(/service roof started/);
    const scale = await cli(['scale', 'roof', '100000'], { runtime });
    expect(scale.code).toBe(2);
    // In the words of the command line: the flag, not the API option.
    expect(scale.stderr).toMatch(/^clusterkit: roof cannot scale to 100000: The worker count must be at most 2, the --max-workers value, which changes only on a restart \(restart the cluster with a higher one to run more workers\)\. Received 100000\n/);
    const scaled = await cli(['scale', 'roof', '2'], { runtime });
    expect(scaled.code).toBe(0);
    expect(JSON.parse((await cli(['status', 'roof', '--json'], { runtime })).stdout)).toMatchObject({ workers: [{}, {}] });
    expect((await cli(['stop', 'roof'], { runtime })).code).toBe(0);
    await expect(run.exited()).resolves.toBe(0);
  });

  it('[H4][H332] during a large scale-up the primary answers status, and a stop cancels the forks not yet made', async () => {
    const runtime = runtimeDir();
    const directory = join(runtime, 'clusterkit');
    const run = startCli(['run', idle, '-w', '1', '--name', 'wide'], { runtime });
    await run.waitFor(/service wide started/);
    const target = 24;
    const scaling = controlRequest('wide', 'scale', { count: target, directory }).catch((error: unknown) => error);
    // Before: every fork ran in one synchronous loop, and status answered only once all 23 were made.
    let during: ClusterStatus | undefined;
    await until(async () => {
      during = (await controlRequest('wide', 'status', { directory, timeoutMs: 5_000 })) as ClusterStatus;
      return during.workers.length > 1;
    }, 30_000, 'the scale-up began');
    expect(during!.state).toBe('running');
    expect(during!.workers.length).toBeLessThan(target);
    const stopped = (await controlRequest('wide', 'stop', { directory, timeoutMs: 15_000 })) as { graceful: number; failed: number; killed: number };
    expect(stopped.graceful + stopped.failed + stopped.killed).toBeLessThan(target);
    expect(await scaling).toMatchObject({ remoteCode: 'ERR_SHUTDOWN_IN_PROGRESS' });
    // With run's lines: an exit 1 (once in an under-load run) then says which worker did not stop cleanly.
    const code = await run.exited();
    expect({ code, output: code === 0 ? '' : run.output() }).toEqual({ code: 0, output: '' });
  });
});
