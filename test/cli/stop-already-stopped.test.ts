/**
 * Stops that come together (outside tester, H453): of three `clusterkit stop q` typed at once,
 * one said `stopped q: ...` and exited 0, the others, a moment late, found no socket and exited
 * 4, "No cluster named "q" is running", as for a name that never ran: the exit code depended on
 * timing. A stop that finds the cluster stopped by a stop moments ago now says so and exits 0;
 * exit 4 stays for a name that never ran, ran long ago, or whose primary was killed.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import { cleanUpCli, cli, runtimeDir, startCli } from './cli-process.js';

afterEach(() => cleanUpCli());

const idle = 'test/fixtures/cli-idle-script.mjs';
const kAlready = /^q was already stopped, \d+(\.\d)? (ms|s) ago: nothing to do\n$/;

describe('clusterkit stop of a cluster another stop just stopped', () => {
  it('[H453] three stops at once all exit 0; a stop after the stop says already stopped (exit 0); never run, long ago, or killed: exit 4', async () => {
    const runtime = runtimeDir();
    const directory = join(runtime, 'clusterkit');
    const never = await cli(['stop', 'q'], { runtime });
    expect(never).toMatchObject({ code: 4, stdout: '', stderr: expect.stringContaining('No cluster named "q" is running.') });

    const run = startCli(['run', idle, '--name', 'q', '-w', '2'], { runtime });
    await run.waitFor(/service q started/);
    const stops = await Promise.all([1, 2, 3].map(() => cli(['stop', 'q'], { runtime })));
    for (const stop of stops) {
      expect({ code: stop.code, stderr: stop.stderr }).toEqual({ code: 0, stderr: '' });
      expect(stop.stdout).toMatch(/^stopped q: 2 workers stopped gracefully\n$|^q was already stopped, \d+(\.\d)? (ms|s) ago: nothing to do\n$/);
    }
    await expect(run.exited()).resolves.toBe(0);
    // Before: exit 4, "No cluster named "q" is running", as for a name that never ran.
    const after = await cli(['stop', 'q'], { runtime });
    expect(after).toMatchObject({ code: 0, stderr: '' });
    expect(after.stdout).toMatch(kAlready);

    // Over 60 s ago: not running, as before (the record's time set back by hand).
    const record = join(directory, 'q.stopped');
    writeFileSync(record, `${JSON.stringify({ pid: 1, at: Date.now() - 61_000 })}\n`);
    expect(await cli(['stop', 'q'], { runtime })).toMatchObject({ code: 4, stdout: '' });

    // A new run of the name takes the record away; a killed primary leaves none: exit 4.
    const again = startCli(['run', idle, '--name', 'q', '-w', '1'], { runtime });
    await again.waitFor(/service q started/);
    expect(existsSync(record)).toBe(false);
    process.kill(-again.child.pid!, 'SIGKILL');
    await again.exited();
    const killed = await cli(['stop', 'q'], { runtime });
    expect(killed).toMatchObject({ code: 4, stdout: '', stderr: expect.stringContaining('ended without stopping (killed or crashed)') });
  });
});
