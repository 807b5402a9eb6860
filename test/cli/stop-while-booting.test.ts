/**
 * `clusterkit run` stopped while its worker still boots (H202): the worker bootstrap listens for
 * no signal before `$hello` (worker-main.ts imports the script in `_init`, after it), so the
 * stop's SIGTERM ends a worker a slow preload holds at once. Before, the stop's `$shutdown`
 * waited for a `$hello` the boot put past --shutdown-timeout: SIGKILLed there, counted killed.
 */
import path from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import { freePort } from '../helpers/ports.js';
import { cleanUpCli, runtimeDir, startCli } from './cli-process.js';

afterEach(() => cleanUpCli());

/** Holds the worker before clusterkit's bootstrap loads, for 10 minutes, without spending CPU. */
const kPreload = path.resolve('test/fixtures/cli-slow-preload.mjs');

describe('clusterkit run: a stop while a worker still boots', () => {
  it('[H202] SIGTERM to the CLI while its worker boots ends the worker at once: stopped before it was ready, not killed at --shutdown-timeout', async () => {
    const run = startCli(
      ['run', 'test/fixtures/cli-idle-script.mjs', '-w', '1', '--name', 'bootstop', '--shutdown-timeout', '30s', '--ready-timeout', '600s', `--node-arg=--import=${kPreload}`],
      { runtime: runtimeDir(), env: { PORT: String(await freePort()), PRELOAD_SAYS: 'preloading' } },
    );
    await run.waitFor(/preloading/);
    const begun = Date.now();
    process.kill(run.child.pid!, 'SIGTERM');
    // A stop during the start: exit 1, as for an interrupted start.
    await expect(run.exited()).resolves.toBe(1);
    // Before: about 30 s, the SIGKILL at the timeout. Far below it, generous for a loaded machine.
    expect(Date.now() - begun).toBeLessThan(15_000);
    const output = run.output();
    expect(output).toMatch(/worker \d+ stopped before it was ready: its stop came before its code started \(ended by SIGTERM\)/);
    expect(output).toMatch(/notStarted=1/);
    expect(output).not.toContain('SIGKILL');
  });
});
