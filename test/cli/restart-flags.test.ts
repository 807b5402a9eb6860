/**
 * The restart policy from the command line and the config file (`--max-restarts`,
 * `--restart-window`, `--startup-window`, `--max-startup-failures`; `maxRestarts`...), with real
 * workers crashed by a request, and the crash-loop line a CLI user reads.
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import { get } from '../helpers/http.js';
import { freePort } from '../helpers/ports.js';
import { kPatienceMs, until } from '../helpers/wait.js';
import { cleanUpCli, readyPids, runtimeDir, startCli, tempProject } from './cli-process.js';

afterEach(() => cleanUpCli());

const kCrashScript = `${process.cwd()}/test/fixtures/cli-crash-on-request.mjs`;

/** Asks for /crash: the worker exits before it answers. */
async function crash(port: number): Promise<void> {
  await get(`http://127.0.0.1:${port}/crash`).catch(() => {});
}

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
  ])('[H33] crashes after ready count toward --max-restarts per --restart-window, and the line says they crashed (%s)', async (_, setup) => {
    const { args, cwd } = setup();
    const port = await freePort();
    const run = startCli(args, { runtime: runtimeDir(), cwd, env: { PORT: String(port) } });
    await until(() => readyPids(run).length === 1, kPatienceMs, 'the first worker ready');
    await crash(port);
    // Restarted: a crash after ready is not a failed start.
    await until(() => readyPids(run).length === 2, kPatienceMs, 'the replacement ready');
    const secondPid = readyPids(run)[1]!;
    await crash(port);
    await expect(run.exited()).resolves.toBe(1);
    const stderr = run.stderr();
    expect(stderr).toMatch(
      new RegExp(
        `ERROR worker slot 0 crashed 2 times within 60 s \\(--max-restarts\\), so it is no longer restarted\\. Last crash: worker \\d+ \\(pid ${secondPid}\\) exited with code 3 \\d+(\\.\\d)? m?s after it became ready\\. Fix that, then start or reload again\\.`,
      ),
    );
    expect(stderr).not.toMatch(/could not start|retry it|see "cause"/);
  });

  it('--max-startup-failures 1 gives up after one failed start, and says so', async () => {
    const run = startCli(['run', 'test/fixtures/cli-throwing-script.mjs', '-w', '1', '--max-startup-failures', '1'], { runtime: runtimeDir() });
    await expect(run.exited()).resolves.toBe(1);
    const stderr = run.stderr();
    expect(stderr.match(/ERROR worker \d+ could not start: /g)).toHaveLength(1);
    // The failure in the user's words, said once, with one piece of advice.
    expect(stderr).toMatch(
      /ERROR worker slot 0 could not start once, so it is no longer restarted\. Last failure: the script \S+cli-throwing-script\.mjs threw on import: Error: PORT is not configured \(at \S+\)\. Fix that, then start or reload again\. slot=0/,
    );
    expect(stderr).toMatch(/could not start: .*\(1 attempt\)\./);
  });
});
