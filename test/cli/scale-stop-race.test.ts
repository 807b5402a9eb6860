/**
 * `clusterkit scale` racing `clusterkit stop` on the same cluster: the scale's answer says
 * what the scale did before the stop cut it short. The CLI binary run directly, as users run it.
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import { freePort } from '../helpers/ports.js';
import { cleanUpCli, cli, runtimeDir, startCli } from './cli-process.js';

afterEach(() => cleanUpCli());

describe('clusterkit scale cut short by clusterkit stop', () => {
  it('[H131] names the new worker that had started and is stopped, not "no worker will be started"; exit 1', async () => {
    const runtime = runtimeDir();
    const run = startCli(['run', 'test/fixtures/cli-slow-later-workers.mjs', '-w', '1', '--name', 'scalestop', '--shutdown-timeout', '1s'], {
      runtime,
      env: { PORT: String(await freePort()) },
    });
    await run.waitFor(/service scalestop started: 1 worker/);
    const scale = cli(['scale', 'scalestop', '2'], { runtime, ms: 30_000 });
    // The scale's worker is forked and runs its top-level code: it is starting, not ready.
    await run.waitFor(/\[scalestop:2\] starting \d+/);
    const stop = await cli(['stop', 'scalestop'], { runtime, ms: 30_000 });
    expect(stop.stdout).toMatch(/^stopped scalestop: /);
    // Before: "scale failed: The primary is shutting down; no worker will be started.", while worker 2 had been.
    await expect(scale).resolves.toEqual({
      code: 1,
      stdout: '',
      stderr:
        'clusterkit: scale failed: The cluster is stopping: a stop came during the scale from 1 to 2 workers and cut it short: ' +
        '1 of the 1 new workers had been started (worker 2, none of them ready) and is stopped with the rest.\n',
    });
    await run.exited(30_000);
  });
});
