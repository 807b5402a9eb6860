/**
 * `clusterkit run --heartbeat-timeout <d>` (config `heartbeatTimeout`; H367): how long a ready
 * worker may stay silent, its event loop blocked, before the primary kills and replaces it. Before,
 * `clusterkit run` had no flag for it: a hung worker held the connections node:cluster handed it
 * for the fixed 10 s. The CLI binary run directly, with a real worker that blocks for good.
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import { get } from '../helpers/http.js';
import { freePort } from '../helpers/ports.js';
import { cleanUpCli, cli, runtimeDir, startCli, tempProject } from './cli-process.js';

afterEach(() => cleanUpCli());

describe('clusterkit run --heartbeat-timeout', () => {
  it('[H367] kills a hung worker after the silence it sets (2s, not 10s), and show says it', async () => {
    const runtime = runtimeDir();
    const port = await freePort();
    const run = startCli(['run', 'test/fixtures/cli-answers-then-blocks.mjs', '-w', '1', '--name', 'hbflag', '--heartbeat-timeout', '2s'], { runtime, env: { PORT: String(port) } });
    await run.waitFor(/service hbflag started: 1 worker/);
    expect((await cli(['show', 'hbflag'], { runtime })).stdout).toContain('\nheartbeat         every 1s, a worker silent 2s is killed (--heartbeat-timeout)\n');
    // Answered in full, then the loop blocks for good.
    await expect(get(`http://127.0.0.1:${port}/spin`, 20_000)).resolves.toMatchObject({ status: 200 });
    await run.waitFor(/WARN worker 1 was killed \(SIGKILL\) by the primary: it did not answer heartbeats for \d+ ms/, 30_000);
    const silentMs = Number(/did not answer heartbeats for (\d+) ms/.exec(run.stderr())?.[1]);
    expect(silentMs).toBeGreaterThan(2_000);
    // Well before the default's 10 s (a loaded machine may add a few ticks of 1 s).
    expect(silentMs).toBeLessThan(8_000);
    await run.waitFor(/worker 2 ready/, 30_000);
    expect((await cli(['stop', 'hbflag'], { runtime, ms: 30_000 })).code).toBe(0);
    await expect(run.exited(30_000)).resolves.toBe(0);
  });

  it('[H367] refuses a timeout not longer than the heartbeat\'s 1 s interval, from the flag and from the config key', async () => {
    const runtime = runtimeDir();
    const flag = await cli(['run', 'test/fixtures/cli-idle-script.mjs', '--heartbeat-timeout', '1s'], { runtime });
    expect(flag).toMatchObject({ code: 2, stderr: expect.stringContaining('clusterkit: --heartbeat-timeout must be more than 1s, the heartbeat\'s interval (a ping every second): a worker silent that long is killed. Received "1s".') });
    const project = tempProject({ 'idle.mjs': 'setInterval(() => {}, 1 << 30);\n', 'clusterkit.config.mjs': "export default { apps: [{ name: 'hbkey', script: './idle.mjs', workers: 1, heartbeatTimeout: '500ms' }] };\n" });
    const key = await cli(['run'], { runtime, cwd: project });
    expect(key.code).toBe(2);
    expect(key.stderr).toMatch(/heartbeatTimeout" must be more than 1s, the heartbeat's interval .*Received "500ms"\./);
  });
});
