/**
 * A stop just after a worker flooded its IPC channel with raw frames (H218): its `$stopped` may
 * wait behind the backlog and be lost at its exit. The primary cannot tell what ended it then,
 * and says so. Before, it blamed `process.reallyExit()` in the worker's code, which never ran.
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import { freePort } from '../helpers/ports.js';
import { cleanUpCli, cli, runtimeDir, startCli } from './cli-process.js';

afterEach(() => cleanUpCli());

describe('a stop after a raw IPC flood', () => {
  it('[H218] does not blame process.reallyExit() for a worker whose channel was still backed up at its exit', async () => {
    const runtime = runtimeDir();
    // 40 s to stop: the backlog of 400 000 frames took the primary over 10 s to read with two CPU
    // hogs beside the suite (under-load.sh), and the worker was then killed at the timeout.
    const run = startCli(['run', 'test/fixtures/cli-raw-flood.mjs', '-w', '1', '--name', 'flood', '--shutdown-timeout', '40s', '--node-arg=--import=./test/fixtures/cli-raw-send-preload.mjs'], { runtime, env: { PORT: String(await freePort()), FLOOD: '400000' } });
    await run.waitFor(/flooded \d+/, 120_000);
    // The frames reached the primary: the guard of H233 did not refuse them.
    expect(run.output()).not.toMatch(/shaped as clusterkit's own IPC protocol/);
    await cli(['stop', 'flood'], { runtime, ms: 60_000 });
    await run.exited();
    const output = run.output();
    expect(output).toMatch(/shutdown complete/);
    // Before: "it exited with code 0 before its stop finished, in a way that skips Node's 'exit' event (process.reallyExit(), ...)".
    expect(output).not.toMatch(/reallyExit/);
    // Stopped cleanly once the backlog drained in time; otherwise the backlog is named.
    expect(output).toMatch(/shutdown complete graceful=1|with its IPC channel backed up to its exit/);
  });
});
