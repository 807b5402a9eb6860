/**
 * A `clusterkit run` primary stopped (SIGSTOP) past the heartbeat timeout, then continued: its
 * workers answered all along, so none is called silent or killed; the log says the primary's
 * stall once, naming no worker.
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import { onCleanup } from '../helpers/cleanup.js';
import { freePort } from '../helpers/ports.js';
import { cleanUpCli, cli, runtimeDir, startCli } from './cli-process.js';

afterEach(() => cleanUpCli());

describe('a clusterkit run primary stopped and continued', () => {
  it('[H470] SIGSTOP for 1.5x the heartbeat timeout, then SIGCONT: no worker blamed or killed, one WARN that the primary was blocked', async () => {
    const runtime = runtimeDir();
    const run = startCli(['run', 'examples/demo/server.js', '-w', '2', '--name', 'rt-stall', '--heartbeat-timeout', '2s'], { runtime, env: { PORT: String(await freePort()) } });
    await run.waitFor(/service rt-stall started/);
    const pid = run.child.pid!;
    process.kill(pid, 'SIGSTOP');
    const resume = () => {
      try {
        process.kill(pid, 'SIGCONT');
      } catch {
        // already gone
      }
    };
    onCleanup(resume);
    // The stall itself is the test's subject: 3 s, past the 2 s timeout.
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    resume();
    await run.waitFor(/WARN .*The primary's own event loop was blocked for \d+ ms/);
    // The heartbeat judged the workers since (a status answered by both, in the primary's order).
    const status = await cli(['status', 'rt-stall', '--json'], { runtime });
    expect(status.code).toBe(0);
    expect(JSON.parse(status.stdout).workers.filter((worker: { state: string }) => worker.state === 'ready')).toHaveLength(2);
    const output = run.output();
    expect(output).not.toMatch(/silent for|unresponsive|did not answer heartbeats|killed/);
    expect(output.match(/The primary's own event loop was blocked/g)).toHaveLength(1);
  });
});
