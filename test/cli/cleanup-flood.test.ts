/**
 * A worker whose own stop floods its IPC channel to the primary (H235): its notice that the stop
 * ended waits behind the flood and may be lost at its exit. H218 named a backlog from the
 * primary to the worker; this is the other direction. Before, the primary blamed
 * `process.reallyExit()` in the worker's code, though its 'exit' event ran.
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import { freePort } from '../helpers/ports.js';
import { cleanUpCli, cli, runtimeDir, startCli } from './cli-process.js';

afterEach(() => cleanUpCli());

describe("a worker that floods its own channel in its cleanup", () => {
  it("[H235] is not said to skip Node's 'exit' event: the backlog of its own messages is named", async () => {
    const runtime = runtimeDir();
    // A 60 s heartbeat timeout: the script's 200 synchronous 1 MiB sends block its event loop (Node
    // writes what does not fit the pipe only when the loop turns). Under load they took ~75 ms each,
    // 15 s in all, and the heartbeat rightly killed a worker blocked past its 10 s timeout, which is
    // not what this test is about.
    const run = startCli(['run', 'test/fixtures/cli-cleanup-flood.mjs', '-w', '1', '--name', 'flooder', '--shutdown-timeout', '60s', '--heartbeat-timeout', '60s'], { runtime, env: { PORT: String(await freePort()) } });
    await run.waitFor(/service flooder started: 1 worker/);
    await cli(['stop', 'flooder'], { runtime, ms: 90_000 });
    await run.exited();
    const output = run.output();
    expect(output).toMatch(/exit event ran code=0/);
    expect(output).toMatch(/shutdown complete/);
    // Before: "in a way that skips Node's 'exit' event (process.reallyExit(), ...)".
    expect(output).not.toMatch(/reallyExit/);
    expect(output).toMatch(/shutdown complete graceful=1|still reading a backlog of the worker's own messages/);
  });
});
