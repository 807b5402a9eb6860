/**
 * Under `--watch`, a slot the crash-loop breaker gave up on while the code was broken starts
 * again once the fix is saved (H259), as PM2 brings its errored processes back on the next
 * change. Before, the save reloaded the surviving workers only, and the cluster stayed at 1/2
 * until `clusterkit scale`. Real workers, a real crash loop.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import { freePort } from '../helpers/ports.js';
import { killSpawned } from '../helpers/spawn.js';
import { until } from '../helpers/wait.js';
import { cleanUpCli, cli, readyPids, runtimeDir, startCli, tempProject } from './cli-process.js';

afterEach(() => {
  killSpawned();
  cleanUpCli();
});

const app = (version: string) => `require('node:http').createServer((q, r) => r.end('${version}')).listen(Number(process.env.PORT));\n`;

interface Status {
  targetWorkers: number;
  readyWorkers: number;
  workers: Array<{ slot: number; state: string }>;
}

describe('clusterkit run --watch after a crash loop [H259]', () => {
  it('[H259][H712] a slot given up while the code was broken starts again when the fix is saved, with a fresh crash-loop budget', async () => {
    const runtime = runtimeDir();
    const port = await freePort();
    const project = tempProject({ 'app.cjs': app('v1') });
    const run = startCli(['run', 'app.cjs', '-w', '2', '--name', 'refill', '--watch', '--watch-delay', '50ms'], { runtime, cwd: project, env: { PORT: String(port) } });
    await run.waitFor(/\[refill\] watching \./);
    await until(() => readyPids(run).length === 2, 30_000, 'two workers ready');

    // Broken code: the reload fails, the old workers keep serving.
    writeFileSync(join(project, 'app.cjs'), `throw new Error('broken build');\n${app('v2')}`);
    await run.waitFor(/the workers it did not replace keep serving the code from before it; the next change reloads again/);
    // A worker dies meanwhile: its restarts load the broken code, and the breaker gives its slot up.
    process.kill(readyPids(run)[0]!, 'SIGKILL');
    const [giveUp] = await run.waitFor(/ERROR worker slot \d could not start 3 times in a row[^\n]*/);
    expect(giveUp).toContain('reload to restore the slot (a reload that succeeds starts it again; the other workers keep serving)');
    const slot = Number(/worker slot (\d)/.exec(giveUp)![1]);
    const broken = JSON.parse((await cli(['status', 'refill', '--json'], { runtime })).stdout) as Status;
    expect(broken.workers.filter((worker) => worker.state === 'ready')).toHaveLength(1);

    // The fix: the surviving worker is replaced, and the given-up slot starts again.
    writeFileSync(join(project, 'app.cjs'), app('v3'));
    await run.waitFor(new RegExp(`\\[refill\\] starting worker slot ${slot} again with the reload's code, given up in a crash loop before it, with a fresh crash-loop budget; the reload ends once it stayed up the startup window`));
    // [H712] The line says the slot it started again, not only `replaced=1`.
    await run.waitFor(/rolling reload complete: 1 worker replaced, 1 worker slot given up in a crash loop started again replaced=1 refilled=1 /);
    await until(
      async () => {
        const status = JSON.parse((await cli(['status', 'refill', '--json'], { runtime })).stdout) as Status;
        return status.readyWorkers === 2 && status.targetWorkers === 2;
      },
      30_000,
      'both slots served again',
    );
    const fixed = JSON.parse((await cli(['status', 'refill', '--json'], { runtime })).stdout) as Status;
    expect(fixed.workers.map((worker) => worker.slot).sort()).toEqual([0, 1]);
    expect(await (await fetch(`http://127.0.0.1:${port}/`)).text()).toBe('v3');
    expect((await cli(['stop', 'refill'], { runtime })).code).toBe(0);
    await expect(run.exited()).resolves.toBe(0);
  });
});
