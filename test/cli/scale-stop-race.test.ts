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

  it('[H145] clusterkit stop during the scale reports its workers not ready yet as stopped before ready, not gracefully', async () => {
    const runtime = runtimeDir();
    // Worker 1 is ready at once; the scale's worker listens and warms up for 10 minutes.
    const run = startCli(['run', 'test/fixtures/cli-wait-ready.mjs', '-w', '1', '--name', 'scaleready', '--wait-ready', '--shutdown-timeout', '60s'], {
      runtime,
      env: { PORT: String(await freePort()), WARM_MS: '0', LATER_WARM_MS: '600000' },
    });
    await run.waitFor(/service scaleready started: 1 worker/);
    const scale = cli(['scale', 'scaleready', '2'], { runtime, ms: 30_000 });
    await run.waitFor(/\[scaleready:2\] listening \d+/);
    const stop = await cli(['stop', 'scaleready'], { runtime, ms: 30_000 });
    // Before: "stopped scaleready: 2 workers stopped gracefully".
    expect(stop).toMatchObject({ code: 0, stdout: 'stopped scaleready: a scale-up was interrupted, 1 worker stopped before it was ready, 1 worker stopped gracefully\n' });
    await expect(scale).resolves.toMatchObject({ code: 1 });
    // The service had started: the stop's exit code, 0.
    await expect(run.exited(30_000)).resolves.toBe(0);
    expect(run.stderr()).toMatch(/\[scaleready\] WARN shutdown complete: a scale-up was interrupted, 1 worker stopped before it was ready \(the lines above say how\), 1 worker stopped gracefully graceful=1 failed=0 killed=0 notStarted=1\n/);
  });
});
