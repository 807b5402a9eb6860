/**
 * `clusterkit run` stopped while a worker, past `$hello`, still imports its script (a top-level
 * `await`, its event loop free) (H217): the stop ends it at once, as the stop's SIGTERM would
 * under plain node, counted as stopped before it was ready. Before, clusterkit's own SIGTERM
 * listener held it and its stop waited for the import: SIGKILLed at --shutdown-timeout,
 * counted killed ("did not stop cleanly", rc 3).
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import { freePort } from '../helpers/ports.js';
import { cleanUpCli, cli, runtimeDir, startCli } from './cli-process.js';

afterEach(() => cleanUpCli());

const kScript = 'test/fixtures/cli-import-forever.mjs';

describe('clusterkit run: a stop while a worker still imports its script', () => {
  it('[H217] a shutdown during the start ends the importing worker at once: stopped before it was ready, not killed at --shutdown-timeout', async () => {
    const run = startCli(['run', kScript, '-w', '1', '--name', 'impstop', '--shutdown-timeout', '40s', '--ready-timeout', '600s'], {
      runtime: runtimeDir(),
      env: { PORT: String(await freePort()) },
    });
    await run.waitFor(/importing 0 \d+/);
    const begun = Date.now();
    process.kill(run.child.pid!, 'SIGTERM');
    // A stop during the start: exit 1, as for an interrupted start (3 if a worker did not stop cleanly).
    await expect(run.exited()).resolves.toBe(1);
    // Before: about 40 s, the SIGKILL at the timeout. Far below it, generous for a loaded machine.
    expect(Date.now() - begun).toBeLessThan(20_000);
    const output = run.output();
    expect(output).toMatch(/notStarted=1/);
    expect(output).toMatch(/killed=0/);
    expect(output).not.toContain('SIGKILL');
  });

  it('[H217] a scale-down ends a new worker still importing its script at once, and counts no unclean stop', async () => {
    const runtime = runtimeDir();
    const run = startCli(['run', kScript, '-w', '1', '--name', 'impscale', '--shutdown-timeout', '40s', '--ready-timeout', '600s'], {
      runtime,
      env: { PORT: String(await freePort()), IMPORT_FOREVER_FROM: '1' },
    });
    await run.waitFor(/service impscale started: 1 worker/);
    const up = cli(['scale', 'impscale', '2'], { runtime, ms: 120_000 });
    await run.waitFor(/importing 1 \d+/);
    const begun = Date.now();
    const down = await cli(['scale', 'impscale', '1'], { runtime, ms: 120_000 });
    expect(Date.now() - begun).toBeLessThan(20_000);
    // Before: rc 3, "1 stopped worker did not stop cleanly", the worker SIGKILLed at the timeout.
    expect(down).toMatchObject({ code: 0 });
    expect(down.stdout + down.stderr).not.toMatch(/did not stop cleanly/);
    expect(await up).toMatchObject({ code: 0 });
    expect(run.output()).not.toContain('SIGKILL');
  });
});
