/**
 * The restart policy from the command line and the config file (`--max-restarts`,
 * `--restart-window`, `--startup-window`, `--max-startup-failures`; `maxRestarts`...), with real
 * workers killed or crashed by a request, and the crash-loop line a CLI user reads.
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import { get } from '../helpers/http.js';
import { freePort } from '../helpers/ports.js';
import { kPatienceMs, until } from '../helpers/wait.js';
import { cleanUpCli, readyPids, runtimeDir, startCli, tempProject } from './cli-process.js';

afterEach(() => cleanUpCli());

const kCrashScript = `${process.cwd()}/test/fixtures/cli-crash-on-request.mjs`;

/** Kills a worker that never served: its crash counts toward --max-restarts. */
function kill(pid: number): void {
  process.kill(pid, 'SIGKILL');
}

/** Asks for /crash: the worker exits before it answers. */
async function crash(port: number): Promise<void> {
  await get(`http://127.0.0.1:${port}/crash`).catch(() => {});
}

/** A value from the config file is named by its key too (H146). */
const kFileKey: Record<string, string> = { flags: '', 'config keys': '; maxRestarts in clusterkit\\.config\\.json' };

describe('restart policy flags and keys', () => {
  it.each([
    ['flags', () => ({ args: ['run', kCrashScript, '-w', '1', '--name', 'crashy', '--startup-window', '0', '--max-restarts', '1', '--restart-window', '1m'], cwd: process.cwd() })],
    [
      'config keys',
      () => ({
        args: ['run'],
        cwd: tempProject({
          'clusterkit.config.json': JSON.stringify({ apps: [{ name: 'crashy', script: kCrashScript, workers: 1, startupWindow: 0, maxRestarts: 1, restartWindow: '1m' }] }),
        }),
      }),
    ],
  ])('[H33] crashes after ready count toward --max-restarts per --restart-window, and the line says they crashed (%s)', async (source, setup) => {
    const { args, cwd } = setup();
    const port = await freePort();
    const run = startCli(args, { runtime: runtimeDir(), cwd, env: { PORT: String(port) } });
    await until(() => readyPids(run).length === 1, kPatienceMs, 'the first worker ready');
    // Killed, not crashed by a request: a worker that served would count toward no limit ([H34]).
    kill(readyPids(run)[0]!);
    // Restarted: a crash after ready is not a failed start.
    await until(() => readyPids(run).length === 2, kPatienceMs, 'the replacement ready');
    const secondPid = readyPids(run)[1]!;
    kill(secondPid);
    await expect(run.exited()).resolves.toBe(1);
    const stderr = run.stderr();
    // A kill from outside keeps its words and whom to look for (H275).
    expect(stderr).toMatch(
      new RegExp(
        `ERROR worker slot 0 crashed 2 times within 60 s \\(--max-restarts${kFileKey[source]}\\), so it is no longer restarted\\. Last crash: worker \\d+ \\(pid ${secondPid}\\) was killed by SIGKILL from outside clusterkit \\(kill -9, the OOM killer, or the worker's own code\\) \\d+(\\.\\d)? m?s after it became ready\\. Its output need not show an error: look for what sent the signal, then start it again\\.`,
      ),
    );
    expect(stderr).not.toMatch(/could not start|retry it|see "cause"/);
  });

  it("[H34][H366] restarts a plain script's worker that served after every crash, past --max-restarts and inside --startup-window, with backoff", async () => {
    const port = await freePort();
    const run = startCli(['run', kCrashScript, '-w', '1', '--name', 'served', '--startup-window', '1m', '--max-restarts', '1', '--max-startup-failures', '1'], {
      runtime: runtimeDir(),
      env: { PORT: String(port) },
    });
    for (let round = 1; round <= 3; round++) {
      await until(() => readyPids(run).length === round, kPatienceMs, `worker ${round} ready`);
      // It serves one request (its server is tracked: it tells the primary), then one crashes it.
      await expect(get(`http://127.0.0.1:${port}/`)).resolves.toMatchObject({ status: 200 });
      await crash(port);
    }
    await until(() => readyPids(run).length === 4, kPatienceMs, 'the fourth worker ready');
    const stderr = run.stderr();
    expect(stderr.match(/WARN worker \d+ crashed \(it exited with code \d+\) \d+(\.\d)? m?s after it became ready/g)).toHaveLength(3);
    expect(stderr).not.toMatch(/no longer restarted|could not start|counted as a failed start/);
    // Inside the minute-long --startup-window: unstable restarts, backed off (H366; before: 100 ms each).
    expect(stderr.match(/it had served, so it is no failed start and counts toward no limit; restarting in \d+ ms: /g)).toHaveLength(3);
    for (const [delay, crashes] of [['100 ms', '1 crash'], ['200 ms', '2 crashes'], ['400 ms', '3 crashes']]) {
      expect(stderr).toContain(`restarting in ${delay}: ${crashes} within 60 s of ready${crashes === '1 crash' ? '' : ' in a row'} (--startup-window), the backoff doubling until a worker stays ready longer`);
    }
    expect(run.child.exitCode).toBeNull();
  });

  it('[H34] counts a worker killed by a signal on its very first request as one that served', async () => {
    const port = await freePort();
    const run = startCli(['run', kCrashScript, '-w', '1', '--name', 'killed', '--startup-window', '1m', '--max-startup-failures', '1'], {
      runtime: runtimeDir(),
      env: { PORT: String(port) },
    });
    for (let round = 1; round <= 2; round++) {
      await until(() => readyPids(run).length === round, kPatienceMs, `worker ${round} ready`);
      // Its first request SIGKILLs it in the same tick: the $served notice must be out already.
      await get(`http://127.0.0.1:${port}/kill`).catch(() => undefined);
    }
    await until(() => readyPids(run).length === 3, kPatienceMs, 'the third worker ready');
    expect(run.stderr()).not.toMatch(/no longer restarted|could not start/);
    expect(run.child.exitCode).toBeNull();
  });

  it('--max-startup-failures 1 gives up after one failed start, and says so', async () => {
    const run = startCli(['run', 'test/fixtures/cli-throwing-script.mjs', '-w', '1', '--max-startup-failures', '1'], { runtime: runtimeDir() });
    await expect(run.exited()).resolves.toBe(1);
    const stderr = run.stderr();
    expect(stderr.match(/ERROR worker \d+ could not start: /g)).toHaveLength(1);
    // The failure in the user's words, said once, with one piece of advice.
    expect(stderr).toMatch(
      /ERROR worker slot 0 could not start, and one failed start is its limit, so it is no longer restarted\. Last failure: the script \S+cli-throwing-script\.mjs threw on import: Error: PORT is not configured \(at \S+\)\. Fix that, then start it again\. slot=0/,
    );
    expect(stderr).toMatch(/could not start: .*\(1 attempt of worker slot \d+\)\./);
  });
});
