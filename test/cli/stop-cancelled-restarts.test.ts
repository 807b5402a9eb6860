/**
 * `clusterkit stop` of a cluster whose slots were all waiting out a crash back-off (outside
 * tester, H454): it said `stopped rt-crash: 0 workers stopped gracefully`, true but silent about
 * the restarts it cancelled. Real processes: both workers killed, their restarts 30 s away.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import { kRepoRoot } from '../helpers/spawn.js';
import { cleanUpCli, cli, readyPids, runtimeDir, startCli, tempProject } from './cli-process.js';

afterEach(() => {
  cleanUpCli();
});

describe('clusterkit stop during a crash back-off', () => {
  it('[H454] says how many restarts waiting out their back-off it cancelled, and so does the shutdown complete line', async () => {
    const runtime = runtimeDir();
    const project = tempProject({});
    // A 30 s back-off: the stop below surely comes while both slots wait.
    writeFileSync(
      join(project, 'ck.config.cjs'),
      `module.exports = { apps: [{ name: 'rt-crash', script: ${JSON.stringify(join(kRepoRoot, 'test/fixtures/cli-idle-script.mjs'))}, workers: 2, restartBackoff: '30s', startupWindow: 0 }] };\n`,
    );
    const run = startCli(['run', '-c', 'ck.config.cjs'], { runtime, cwd: project });
    await run.waitFor(/service rt-crash started: 2 workers/, 30_000);
    for (const pid of readyPids(run)) process.kill(pid, 'SIGKILL');
    await run.waitFor(/restartDelayMs=30000[\s\S]*restartDelayMs=30000/, 30_000);

    const stop = await cli(['stop', 'rt-crash'], { runtime });
    expect(stop).toEqual({ code: 0, stdout: 'stopped rt-crash: 0 workers stopped gracefully, 2 restarts waiting out their back-off were cancelled\n', stderr: '' });
    await expect(run.exited()).resolves.toBe(0);
    expect(run.output()).toMatch(/shutdown complete: 2 restarts waiting out their back-off were cancelled .*restartsCancelled=2/);
  });
});
