/**
 * [H539] `clusterkit run`'s `process.exit()` waits for the output still on its way out
 * (src/cli/exit-waits.ts, H535/H537); a second call while it waits exits at once, with the first
 * call's code. Before (retest t56), the later call's code won: a second SIGTERM's 143 became the
 * 1 of the shutdown it forced, in 3 of 8 runs.
 *
 * [H551] When that wait runs out, the run says on stderr what it drops (retest t57 R5: a run
 * piped into a reader that took nothing lost the workers' last lines without a word).
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import { get } from '../helpers/http.js';
import { freePort } from '../helpers/ports.js';
import { spawnScript } from '../helpers/spawn.js';
import { cleanUpCli, cli, runtimeDir, startCli, tempProject } from './cli-process.js';

afterEach(() => cleanUpCli());

describe('clusterkit run: the exit that waits for output', () => {
  it('[H539] a second process.exit() while the first waits ends the process at once with the first one\'s code', async () => {
    const child = spawnScript('test/fixtures/exit-waits-first-code.ts');
    // At once: the wait never settles, and the bound is 2 s; the second call does not wait for it.
    await expect(child.exited(30_000)).resolves.toBe(143);
  });

  it('[H551] a run whose stdout nobody reads says at its exit that it drops what is left, and why', async () => {
    const runtime = runtimeDir();
    const port = await freePort();
    const run = startCli(['run', 'test/fixtures/cli-output-flood.mjs', '-w', '1', '--name', 'h551', '--shutdown-timeout', '2s'], { runtime, env: { PORT: String(port), FLOOD_MB: '16' } });
    await run.waitFor(/service h551 started/);
    // Its reader stops reading: the pipe fills, then the run's own queue, then the worker's.
    run.child.stdout!.pause();
    await get(`http://127.0.0.1:${port}/start`, 20_000);
    expect((await cli(['stop', 'h551'], { runtime, ms: 30_000 })).code).toBe(0);
    await run.waitFor(/clusterkit: the run exits after waiting 2 s for its last output, and drops what is left/, 30_000);
    // Before: nothing said it.
    expect(run.stderr()).toMatch(/drops what is left \([\d.]+ (?:B|KiB|MiB) known, at least\): its stdout or stderr not taken by their reader/);
    run.child.stdout!.resume();
    await run.exited(30_000);
  });

  it("[H553] a script's SIGTERM listener held past its deadline by output nobody reads: the line says the output held it, not the listener", async () => {
    const runtime = runtimeDir();
    const port = await freePort();
    // The usual listener: write its last lines, close the server, let the process end by itself.
    const script =
      "const server = require('node:http').createServer((q, s) => s.end('ok')).listen(Number(process.env.PORT));\n" +
      "process.on('SIGTERM', () => { for (let i = 0; i < 4000; i++) process.stdout.write('x'.repeat(1023) + '\\n'); server.close(); });\n";
    const run = startCli(['run', 'app.cjs', '-w', '1', '--name', 'h553', '--shutdown-timeout', '2s'], { runtime, cwd: tempProject({ 'app.cjs': script }), env: { PORT: String(port) } });
    await run.waitFor(/service h553 started/);
    run.child.stdout!.pause();
    await cli(['stop', 'h553'], { runtime, ms: 30_000 });
    await run.waitFor(/shutdown complete/, 30_000);
    // Before: "... did not exit within 1498 ms ... The listener must end the process once its cleanup is done (server.close(() => process.exit(0)))".
    expect(run.stderr()).toMatch(/WARN worker 1: the script's SIGTERM listener ran but the process did not exit within \d+ ms, the worker's own deadline, most likely because [\d.]+ (?:KiB|MiB) of its output still waited for their reader/);
    expect(run.stderr()).not.toContain('The listener must end the process');
    run.child.stdout!.resume();
    await run.exited(30_000);
  });
});
