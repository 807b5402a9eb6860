/**
 * `clusterkit stop` during a start whose worker is busy at its script's top level (H255): the
 * primary killed it at the shutdown timeout, and the stop's answer says so. Before, it offered
 * "at the shutdown timeout, or for what it wrote on its IPC channel", as if it did not know.
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import { get } from '../helpers/http.js';
import { freePort } from '../helpers/ports.js';
import { cleanUpCli, cli, runtimeDir, startCli } from './cli-process.js';

afterEach(() => cleanUpCli());

describe('clusterkit stop: why the primary killed a worker', () => {
  it('[H255] a stop during the start of a script that loops at top level names the shutdown timeout, not the alternative', async () => {
    const runtime = runtimeDir();
    const run = startCli(['run', 'test/fixtures/cli-busy-at-load.mjs', '-w', '1', '--name', 'busyload', '--shutdown-timeout', '1s', '--ready-timeout', '600s'], {
      runtime,
      env: { PORT: String(await freePort()) },
    });
    await run.waitFor(/spinning 0 \d+/);
    const stop = await cli(['stop', 'busyload'], { runtime });
    expect(stop).toMatchObject({ code: 3, stdout: 'stopped busyload: the start was interrupted, 1 worker killed (still running at the shutdown timeout, 1.0 s)\n' });
    expect(stop.stdout).not.toContain('IPC channel');
    await expect(run.exited()).resolves.toBe(1);
    expect(run.stderr()).toMatch(/WARN worker 1 was killed \(SIGKILL\) by the primary at the shutdown timeout before it finished stopping/);
  });

  // Newcomer t82 #2: "Its stop had 3000 ms: raise --shutdown-timeout ... if it needs longer", for a worker whose loop was blocked the whole stop.
  // Retest t85: blocked seconds before the stop, its one ping in flight was older than the stop, and the advice came back.
  it.each(['at once', 'once said silent'])('[H735] a worker blocked through its whole stop (the stop %s), killed at the shutdown timeout: said so, with no advice to raise the timeout', async (when) => {
    const runtime = runtimeDir();
    const port = await freePort();
    const run = startCli(['run', 'test/fixtures/cli-answers-then-blocks.mjs', '-w', '1', '--name', 'blockedstop', '--shutdown-timeout', '3s'], { runtime, env: { PORT: String(port) } });
    await run.waitFor(/service blockedstop started/);
    await get(`http://127.0.0.1:${port}/spin`, 20_000);
    if (when === 'once said silent') await run.waitFor(/WARN worker 1 silent for/);
    const stop = await cli(['stop', 'blockedstop'], { runtime });
    expect(stop).toMatchObject({ code: 3, stdout: 'stopped blockedstop: 0 workers stopped gracefully, 1 killed (still running at the shutdown timeout, 3.0 s; silent through its whole stop, its event loop most likely blocked)\n' });
    // A worker killed at the timeout: run exits 1 (docs/cli.md, exit codes).
    await expect(run.exited()).resolves.toBe(1);
    expect(run.stderr()).toMatch(/WARN worker 1 was killed \(SIGKILL\) by the primary at the shutdown timeout before it finished stopping\. It was silent through its whole stop \(unheard for \d+(\.\d)? m?s, since before its stop began, a heartbeat ping unanswered\): its event loop most likely blocked, which a longer timeout would not have helped/);
    expect(run.stderr()).not.toMatch(/raise --shutdown-timeout/i);
  });
});
