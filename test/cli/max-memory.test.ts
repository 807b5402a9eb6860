/**
 * `clusterkit run --max-memory` with a script over the limit from its start: it is replaced
 * again and again, as PM2's `max_memory_restart` does, and the run never exits for it (H152).
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import { get } from '../helpers/http.js';
import { freePort } from '../helpers/ports.js';
import { until } from '../helpers/wait.js';
import { cleanUpCli, runtimeDir, startCli, tempProject } from './cli-process.js';

afterEach(() => cleanUpCli());

const kHogScript = `${process.cwd()}/test/fixtures/cli-memory-hog.mjs`;

describe('clusterkit run --max-memory', () => {
  it('[H152][H595] replaces a worker over the limit again and again while it serves, says each takeover, and says from the third what to change', async () => {
    const port = await freePort();
    const run = startCli(['run', kHogScript, '-w', '1', '--name', 'hog', '--max-memory', '64M'], { runtime: runtimeDir(), env: { PORT: String(port) } });
    const overLimit = () => run.stderr().match(/WARN worker \d+ over the memory limit.*/g) ?? [];
    // A client the whole time, as the tester's: every request is answered, by one worker or its replacement.
    const failures: string[] = [];
    let answered = 0;
    let isDone = false;
    const client = (async () => {
      await run.waitFor(/worker \d+ ready/, 60_000);
      while (!isDone) {
        await get(`http://127.0.0.1:${port}/`, 10_000).then(
          () => answered++,
          (error: Error) => failures.push(error.message),
        );
      }
    })();
    try {
      // Four workers over the limit, each replaced: about 4 s each (three 1 s heartbeats, a start).
      await until(() => overLimit().length >= 4 || run.child.exitCode !== null, 180_000, 'four workers over the memory limit');
      expect(run.child.exitCode).toBeNull();
      const lines = overLimit();
      expect(lines[1]).not.toContain('in a row');
      expect(lines[2]).toMatch(
        /over the memory limit: RSS \d+\.\d MiB, limit 64\.0 MiB \(--max-memory\); 3 replacements in a row, each soon after its worker started \(within stableAfter: 30\.0 s unless a config file sets it\): the limit is below what the worker needs, or it leaks memory from the start\. It is replaced each time, after a back-off of 100 ms \(restartBackoff, doubled in a row: 100 ms unless a config file sets it\); raise the limit \(--max-memory\) or fix the leak /,
      );
      expect(lines[3]).toContain('; 4 replacements in a row');
      expect(run.stderr()).not.toMatch(/ERROR|no longer replaced|no worker left/);
      // [H595] Each takeover is said, as a crash's restart is (ops t60: none was).
      const first = /WARN worker (\d+) over the memory limit/.exec(run.stderr())![1];
      await until(() => new RegExp(`\\[hog\\] worker \\d+ replaces worker ${first} \\(its memory limit\\)`).test(run.stderr()), 60_000, 'the replacement line');
    } finally {
      isDone = true;
      await client;
    }
    expect(failures).toEqual([]);
    expect(answered).toBeGreaterThan(0);
    process.kill(run.child.pid!, 'SIGTERM');
    await expect(run.exited()).resolves.toBe(0);
  });

  // Before: the line named restart.stableAfterMs and restart.backoff, which no flag or config key set (newcomer t22).
  it('[H185] names the config keys that set the back-off and the stable time it speaks of, and uses their values', async () => {
    const port = await freePort();
    const project = tempProject({
      'hog.config.cjs': `module.exports = { apps: [{ name: 'hog2', script: ${JSON.stringify(kHogScript)}, workers: 1, maxMemory: '64M', stableAfter: '2m', restartBackoff: '300ms', env: { PORT: '${port}' } }] };\n`,
    });
    const run = startCli(['run', '-c', 'hog.config.cjs'], { runtime: runtimeDir(), cwd: project });
    const overLimit = () => run.stderr().match(/WARN worker \d+ over the memory limit.*/g) ?? [];
    await until(() => overLimit().length >= 3 || run.child.exitCode !== null, 180_000, 'three workers over the memory limit');
    expect(overLimit()[2]).toContain(
      '; 3 replacements in a row, each soon after its worker started (within stableAfter in hog.config.cjs): the limit is below what the worker needs, or it leaks memory from the start. ' +
        'It is replaced each time, after a back-off of 300 ms (restartBackoff in hog.config.cjs, doubled in a row); raise the limit (--max-memory; maxMemory in hog.config.cjs) or fix the leak',
    );
    process.kill(run.child.pid!, 'SIGTERM');
    await expect(run.exited()).resolves.toBe(0);
  });
});
