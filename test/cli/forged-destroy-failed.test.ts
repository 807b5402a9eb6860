/**
 * A worker's `$destroyFailed` is its claim, told at the exit it announces (code 1), not before
 * (H219). A script that forged one and exited 0 had the primary log as fact "_destroy() did not
 * finish within 1 ms ... exits with code 1", two lines above its own "stopped gracefully".
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import { freePort } from '../helpers/ports.js';
import { cleanUpCli, cli, runtimeDir, startCli } from './cli-process.js';

afterEach(() => cleanUpCli());

describe('a forged $destroyFailed', () => {
  it('[H219] followed by an exit with code 0 is dropped as a protocol error, not logged as a _destroy that timed out', async () => {
    const runtime = runtimeDir();
    const run = startCli(['run', 'test/fixtures/cli-forged-destroy-failed.mjs', '-w', '1', '--name', 'liar'], { runtime, env: { PORT: String(await freePort()) } });
    await run.waitFor(/service liar started: 1 worker/);
    expect(await cli(['stop', 'liar'], { runtime, ms: 60_000 })).toMatchObject({ code: 0 });
    await expect(run.exited()).resolves.toBe(0);
    const output = run.output();
    expect(output).toMatch(/shutdown complete graceful=1 failed=0 killed=0/);
    // Before: "WARN worker 1: _destroy() did not finish within 1 ms, the worker's own deadline; it exits with code 1".
    expect(output).not.toMatch(/did not finish within 1 ms/);
    expect(output).toMatch(/\$destroyFailed/);
  });

  it('[H221] of 7500 ms followed by exit 1, 200 ms into the stop: the primary says its own elapsed time, the figure is not logged as fact; the stop still failed', async () => {
    const runtime = runtimeDir();
    const run = startCli(['run', 'test/fixtures/cli-forged-destroy-failed.mjs', '-w', '1', '--name', 'liar3'], { runtime, env: { PORT: String(await freePort()), FORGED_MS: '7500', EXIT_CODE: '1' } });
    await run.waitFor(/service liar3 started: 1 worker/);
    // The worker did exit 1: a failed stop, as before.
    expect(await cli(['stop', 'liar3'], { runtime, ms: 60_000 })).toMatchObject({ code: 3 });
    await run.exited();
    const output = run.output();
    expect(output).toMatch(/shutdown complete.*failed=1/);
    // Before: "WARN worker 1: _destroy() did not finish within 7500 ms, the worker's own deadline; it exits with code 1".
    expect(output).not.toMatch(/_destroy\(\) did not finish within 7500 ms, the worker's own deadline/);
    const line = /worker 1 says _destroy\(\) did not finish within 7500 ms, its own deadline, but the primary had asked it to stop only (\d+) ms before \(by the primary's clock\): the figure is not taken as given; it exits with code 1/.exec(output);
    expect(line).not.toBeNull();
    expect(Number(line![1])).toBeLessThan(6_500);
  });
});
