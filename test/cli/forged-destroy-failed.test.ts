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
});
