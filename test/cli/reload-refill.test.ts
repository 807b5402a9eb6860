/**
 * A reload that starts again a slot given up in a crash loop (H259) ends once that slot stayed
 * up the startup window, or failed, and says which (H517). Before, it ended as the slot was
 * forked, and its answer read as if the slot was back. Real workers, a real crash loop.
 */
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import { freePort } from '../helpers/ports.js';
import { killSpawned } from '../helpers/spawn.js';
import { until } from '../helpers/wait.js';
import { cleanUpCli, cli, readyPids, runtimeDir, startCli, tempProject } from './cli-process.js';
import { occurrencesAfter } from './occurrences-after.js';

afterEach(() => {
  killSpawned();
  cleanUpCli();
});

interface Status {
  readyWorkers: number;
  workers: Array<{ slot: number; pid: number; state: string }>;
  givenUpSlots?: Array<{ slot: number }>;
}

async function statusOf(name: string, runtime: string): Promise<Status> {
  return JSON.parse((await cli(['status', name, '--json'], { runtime })).stdout) as Status;
}

describe('clusterkit reload and a slot given up in a crash loop [H517]', () => {
  it('[H517][H527][H528][H603][H712] the slot started again crashes in its startup window: the reload succeeds for the slot it replaced, says the other failed again, and exits 3', async () => {
    const runtime = runtimeDir();
    const port = await freePort();
    const flag = join(tempProject({}), 'broken');
    // Slot 1 only, with the flag set, throws 200 ms after it listens: slot 0 replaces fine.
    const project = tempProject({
      'server.cjs':
        `if (process.env.NODE_APP_INSTANCE === '1' && require('node:fs').existsSync(${JSON.stringify(flag)})) setTimeout(() => { throw new Error('slot one broken'); }, 200);\n` +
        `require('node:http').createServer((q, r) => r.end('ok')).listen(Number(process.env.PORT));\n`,
    });
    const run = startCli(['run', 'server.cjs', '-w', '2', '--name', 'refill2'], { runtime, cwd: project, env: { PORT: String(port) } });
    await until(() => readyPids(run).length === 2, 30_000, 'two workers ready');

    writeFileSync(flag, '');
    const before = await statusOf('refill2', runtime);
    const slotOne = before.workers.find((worker) => worker.slot === 1)!;
    process.kill(slotOne.pid, 'SIGKILL');
    await run.waitFor(/ERROR worker slot 1 could not start 3 times in a row/);
    await until(async () => (await statusOf('refill2', runtime)).givenUpSlots?.length === 1, 30_000, 'slot 1 given up');

    // [H603] A reader of the given-up slot is told it started again as such, not "(started)" as a new slot.
    // (It may connect after the first reload's start of the slot: the fixed reload's is waited for.)
    const follower = startCli(['logs', 'refill2', '--slot', '1', '--follow', '--lines', '0'], { runtime });
    const from = run.output().length;
    const reloaded = await cli(['reload', 'refill2'], { runtime, ms: 30_000 });
    // [H527] Exit 3, as for a reload that cut requests off: it did what was asked, but the
    // cluster serves below its target, and `reload && echo deployed` must not go on.
    expect(reloaded.code).toBe(3);
    // [H528] Its progress says the slot it starts again, and waits for.
    expect(reloaded.stderr).toContain('starting worker slot 1 again with the new code (given up in a crash loop before this reload); the reload ends once it stayed up the startup window');
    expect(reloaded.stdout).toMatch(/^reloaded refill2: 1 worker replaced, [^\n]*; 1 worker given up in a crash loop started again, and it failed again \(its crash lines say why\)\n$/);
    await run.waitFor(occurrencesAfter(from, 'rolling reload complete', 1));
    const after = run.output().slice(from);
    expect(after).toContain("starting worker slot 1 again with the reload's code");
    expect(after).toMatch(/rolling reload complete: 1 worker replaced, 1 worker slot given up in a crash loop started again, and it was given up again or crashed \(the crash lines above say why\)[^\n]*refilled=1 refillsFailed=1/);

    // Fixed: the next reload brings slot 1 back, and says nothing failed again.
    await run.waitFor(occurrencesAfter(from, 'ERROR worker slot 1 could not start 3 times in a row', 1));
    rmSync(flag);
    const fixed = await cli(['reload', 'refill2'], { runtime, ms: 30_000 });
    expect(fixed.code).toBe(0);
    expect(fixed.stdout).toMatch(/; 1 worker given up in a crash loop started again\n$/);
    // [H712] The log's line says the slot it started again, not just `replaced=1` (newcomer t76).
    await run.waitFor(occurrencesAfter(from, 'rolling reload complete', 2));
    expect(run.output().slice(from)).toMatch(/rolling reload complete: 1 worker replaced, 1 worker slot given up in a crash loop started again [^\n]*refilled=1(?! refillsFailed)/);
    await until(async () => (await statusOf('refill2', runtime)).readyWorkers === 2, 30_000, 'both slots served');
    await follower.waitFor(/\(started again after its crash loop\)/);
    expect(follower.stderr()).toMatch(/clusterkit: slot 1 is now served by worker \d+ \(started again after its crash loop\)/);
    expect(follower.stderr()).not.toContain('(started)');
    expect((await cli(['stop', 'refill2'], { runtime })).code).toBe(0);
    await expect(run.exited()).resolves.toBe(0);
  });
});
