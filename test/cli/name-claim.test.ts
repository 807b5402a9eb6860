/**
 * [H112] Several `clusterkit run --name x` started at the same moment over the stale socket (and
 * lock) of a SIGKILLed primary: exactly one runs, the others fail naming its pid, and no exit
 * of a loser takes the winner's socket away. Real CLI processes, as users start them.
 */
import { existsSync, lstatSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import { waitUntilGone } from '../helpers/processes.js';
import type { Spawned } from '../helpers/spawn.js';
import { cleanUpCli, cli, readyPids, runtimeDir, startCli } from './cli-process.js';

afterEach(() => cleanUpCli());

const idle = 'test/fixtures/cli-idle-script.mjs';
const kStarters = 6;

/** 'started', or the exit code of a `run` that ended first. */
async function outcomeOf(run: Spawned, name: string): Promise<'started' | number | string> {
  return Promise.race([run.waitFor(new RegExp(`service ${name} started`)).then(() => 'started' as const), run.exited()]);
}

describe('[H112] claiming a cluster name', () => {
  it(`[H112] ${kStarters} runs started together over a stale socket: one runs, the others exit 1 naming its pid; a loser's exit leaves its socket; once it stops the name is free`, async () => {
    const runtime = runtimeDir();
    const socket = join(runtime, 'clusterkit', 'race.sock');
    const killed = startCli(['run', idle, '-w', '1', '--name', 'race'], { runtime });
    await killed.waitFor(/service race started/);
    const orphans = readyPids(killed);
    process.kill(killed.child.pid!, 'SIGKILL');
    await killed.exited();
    await waitUntilGone(orphans);
    expect(lstatSync(socket).isSocket()).toBe(true); // stale: nobody listens

    const runs = Array.from({ length: kStarters }, () => startCli(['run', idle, '-w', '1', '--name', 'race'], { runtime }));
    const outcomes = await Promise.all(runs.map((run) => outcomeOf(run, 'race')));
    expect(outcomes.filter((outcome) => outcome === 'started')).toHaveLength(1);
    const winner = runs[outcomes.indexOf('started')]!;
    const losers = runs.filter((run) => run !== winner);
    for (const loser of losers) {
      await expect(loser.exited()).resolves.toBe(1);
      expect(loser.stderr()).toContain(`A cluster named "race" is already running (primary pid ${winner.child.pid}). Stop it first ("clusterkit stop race"), or choose another name.`);
      expect(loser.output()).not.toMatch(/worker \d+ (ready|forked)/);
    }
    // Every loser has exited: the winner's socket is still there, and answers.
    expect(lstatSync(socket).isSocket()).toBe(true);
    const status = await cli(['status', 'race', '--json'], { runtime });
    expect(status.code).toBe(0);
    expect((JSON.parse(status.stdout) as { pid: number }).pid).toBe(winner.child.pid);

    expect((await cli(['stop', 'race'], { runtime })).code).toBe(0);
    await expect(winner.exited()).resolves.toBe(0);
    expect(existsSync(socket)).toBe(false);
    expect(existsSync(join(runtime, 'clusterkit', 'race.lock'))).toBe(false);
    const again = startCli(['run', idle, '-w', '1', '--name', 'race'], { runtime });
    await expect(outcomeOf(again, 'race')).resolves.toBe('started');
    expect((await cli(['stop', 'race'], { runtime })).code).toBe(0);
    await expect(again.exited()).resolves.toBe(0);
  });
});
