/**
 * [H112] Several `clusterkit run --name x` started at the same moment over the stale socket (and
 * lock) of a SIGKILLed primary: exactly one runs, the others fail naming its pid, and no exit
 * of a loser takes the winner's socket away. Real CLI processes, as users start them.
 */
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, lstatSync, mkdirSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it } from '@jest/globals';
import { waitUntilGone } from '../helpers/processes.js';
import { kRepoRoot, type Spawned } from '../helpers/spawn.js';
import { cleanUpCli, cli, readyPids, runtimeDir, startCli } from './cli-process.js';

afterEach(() => cleanUpCli());

const idle = 'test/fixtures/cli-idle-script.mjs';
const kStarters = 6;
const kRounds = 3;
/** Widens the window between probing a stale socket and listening (see the fixture): timing only. */
const kSlowUnlink = { NODE_OPTIONS: `--import ${pathToFileURL(join(kRepoRoot, 'test/fixtures/slow-socket-unlink.mjs')).href}` };

/** 'started', or the exit code of a `run` that ended first. */
async function outcomeOf(run: Spawned, name: string): Promise<'started' | number | string> {
  return Promise.race([run.waitFor(new RegExp(`service ${name} started`)).then(() => 'started' as const), run.exited()]);
}

/** SIGKILLs `run` (its workers follow it): its socket and lock stay behind, stale. */
async function killLeavingStale(run: Spawned, socket: string): Promise<void> {
  const orphans = readyPids(run);
  process.kill(run.child.pid!, 'SIGKILL');
  await run.exited();
  await waitUntilGone(orphans);
  expect(lstatSync(socket).isSocket()).toBe(true); // stale: nobody listens
}

describe('[H112] claiming a cluster name', () => {
  it(`[H112] ${kStarters} runs started together over a stale socket, ${kRounds} times: one runs, the others exit 1 naming its pid; a loser's exit leaves its socket; once it stops the name is free`, async () => {
    const runtime = runtimeDir();
    const socket = join(runtime, 'clusterkit', 'race.sock');
    const first = startCli(['run', idle, '-w', '1', '--name', 'race'], { runtime });
    await first.waitFor(/service race started/);
    await killLeavingStale(first, socket);

    // Several rounds, each over the stale socket and lock of the last winner.
    let winner: Spawned | undefined;
    for (let round = 0; round < kRounds; round++) {
      if (winner !== undefined) await killLeavingStale(winner, socket);
      const runs = Array.from({ length: kStarters }, () => startCli(['run', idle, '-w', '1', '--name', 'race'], { runtime, env: kSlowUnlink }));
      const outcomes = await Promise.all(runs.map((run) => outcomeOf(run, 'race')));
      expect({ round, started: outcomes.filter((outcome) => outcome === 'started').length }).toEqual({ round, started: 1 });
      const won = runs[outcomes.indexOf('started')]!;
      for (const loser of runs.filter((run) => run !== won)) {
        await expect(loser.exited()).resolves.toBe(1);
        expect(loser.stderr()).toContain(`A cluster named "race" is already running (primary pid ${won.child.pid}). Stop it first ("clusterkit stop race"), or choose another name.`);
        expect(loser.output()).not.toMatch(/worker \d+ (ready|forked)/);
      }
      // Every loser has exited: the winner's socket is still there, and answers.
      expect(lstatSync(socket).isSocket()).toBe(true);
      const status = await cli(['status', 'race', '--json'], { runtime });
      expect(status.code).toBe(0);
      expect((JSON.parse(status.stdout) as { pid: number }).pid).toBe(won.child.pid);
      winner = won;
    }

    expect((await cli(['stop', 'race'], { runtime })).code).toBe(0);
    await expect(winner!.exited()).resolves.toBe(0);
    expect(existsSync(socket)).toBe(false);
    expect(existsSync(join(runtime, 'clusterkit', 'race.lock'))).toBe(false);
    const again = startCli(['run', idle, '-w', '1', '--name', 'race'], { runtime });
    await expect(outcomeOf(again, 'race')).resolves.toBe('started');
    expect((await cli(['stop', 'race'], { runtime })).code).toBe(0);
    await expect(again.exited()).resolves.toBe(0);
  });

  it('[H124] a FIFO at <name>.lock: run exits 1 at once saying what it is and to remove it (it hung forever, with no output)', async () => {
    const runtime = runtimeDir();
    const lock = join(runtime, 'clusterkit', 'fifo.lock');
    mkdirSync(join(runtime, 'clusterkit'), { mode: 0o700 });
    execFileSync('mkfifo', [lock]);
    const run = await cli(['run', idle, '-w', '1', '--name', 'fifo'], { runtime });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`${lock} is a FIFO, not a lock file`);
    expect(run.stderr).toContain('Remove it (if no "clusterkit run" with this name is starting) and start again.');
    expect(run.stderr).not.toMatch(/worker \d+ (ready|forked)/);
  });

  it('[H303] a young lock whose pid now belongs to a process started after it (the primary SIGKILLed, its pid reused at once): run takes the name over, and status names the dead primary', async () => {
    const runtime = runtimeDir();
    const socket = join(runtime, 'clusterkit', 'reuse.sock');
    const lock = join(runtime, 'clusterkit', 'reuse.lock');
    const first = startCli(['run', idle, '-w', '1', '--name', 'reuse'], { runtime });
    await first.waitFor(/service reuse started/);
    await killLeavingStale(first, socket);

    // The pid cannot be made to come back: another process takes the lock's pid, and the lock
    // is dated 10 s back (still well inside the 30 s in which a young lock counts as held).
    const stranger = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1 << 30)'], { stdio: 'ignore' });
    try {
      await once(stranger, 'spawn');
      writeFileSync(lock, `${stranger.pid}\n`);
      const tenSecondsAgo = new Date(Date.now() - 10_000);
      utimesSync(lock, tenSecondsAgo, tenSecondsAgo);

      const status = await cli(['status', 'reuse'], { runtime });
      expect(status.code).not.toBe(0);
      expect(status.stderr).toContain(`Its last primary (pid ${stranger.pid}) ended without stopping`);

      const again = startCli(['run', idle, '-w', '1', '--name', 'reuse'], { runtime });
      await expect(outcomeOf(again, 'reuse')).resolves.toBe('started'); // was: exit 1, "already running (primary pid <stranger>)"
      expect((await cli(['stop', 'reuse'], { runtime })).code).toBe(0);
      await expect(again.exited()).resolves.toBe(0);
    } finally {
      stranger.kill('SIGKILL');
    }
  });

  it('[H312] a young lock naming a live pid that is no primary (planted or copied), no socket: run says what holds the name and which file to remove, not "stop it first"', async () => {
    const runtime = runtimeDir();
    const lock = join(runtime, 'clusterkit', 'planted.lock');
    mkdirSync(join(runtime, 'clusterkit'), { mode: 0o700 });
    const stranger = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1 << 30)'], { stdio: 'ignore' });
    try {
      await once(stranger, 'spawn');
      writeFileSync(lock, `${stranger.pid}\n`, { mode: 0o600 }); // made after the process started: a holder by every check
      const run = await cli(['run', idle, '-w', '1', '--name', 'planted'], { runtime });
      expect(run.code).toBe(1);
      // Before (hostile t32 LOW-3): `already running (primary pid N). Stop it first ("clusterkit stop planted")`, and stop found nothing.
      expect(run.stderr).toContain(`The name "planted" is held by its lock file ${lock}, made `);
      expect(run.stderr).toContain(`ago by pid ${stranger.pid}, which is alive, but no primary answers on its control socket`);
      expect(run.stderr).toContain(`remove ${lock} and start again`);
      expect(run.stderr).not.toContain('Stop it first');
      expect(run.stderr).not.toMatch(/worker \d+ (ready|forked)/);
    } finally {
      stranger.kill('SIGKILL');
    }
  });
});
