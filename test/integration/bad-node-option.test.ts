/**
 * H253: a Node option the workers' Node refuses (`--no-such-flag`: Node prints "bad option" and
 * exits with code 9 before any JavaScript) fails the start after one attempt per slot, with a
 * WorkerStartupError naming the option, not as a script that ended while loading, 3 times. A
 * script's own `process.exit(9)` is still a failed start retried as any other.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import { CrashLoopError, WorkerStartupError } from '../../src/index.js';
import { kDefaultFixture, testPrimary, workerFixture } from '../helpers/primary.js';

let dir: string | undefined;
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

describe('a Node option the workers cannot start with', () => {
  // Before: 3 forks of slot 0 (and more of slot 1), "it ended while still loading", CrashLoopError after 3 failures.
  it('[H253] execArgv --no-such-flag fails start() at the first exit of each slot with WorkerStartupError "bad-node-option" naming it', async () => {
    const execArgv = [...workerFixture(kDefaultFixture).execArgv, '--title=not-shown-value', '--no-such-flag'];
    const primary = testPrimary({ execArgv, workerCount: 2, silent: true });
    let forks = 0;
    let restarts = 0;
    const errors: Error[] = [];
    primary.on('workerFork', () => forks++);
    primary.on('workerRestart', () => restarts++);
    primary.on('workerError', ({ error }) => errors.push(error));
    const error = await primary.start().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CrashLoopError);
    expect(error).toMatchObject({ code: 'ERR_CRASH_LOOP', failures: 1, reason: 'startup-failures', hint: undefined });
    const cause = (error as CrashLoopError).cause;
    expect(cause).toBeInstanceOf(WorkerStartupError);
    expect(cause).toMatchObject({ code: 'ERR_WORKER_STARTUP', reason: 'bad-node-option' });
    const message = (cause as Error).message;
    expect(message).toMatch(/^Worker \d+ \(pid \d+\) exited with code 9 before it ran any JavaScript: Node refused its options \(execArgv (\S+ )*--title --no-such-flag; likely --no-such-flag, not an option this Node lists\), /);
    expect(message).toContain('so it is not restarted');
    expect(message).toMatch(/Fix or remove that option where the workers' Node options are set \(clusterkit run: --node-arg; a config file: nodeArgs, or PM2's node_args; the library: the execArgv option\), then start again\.$/);
    expect(message).not.toContain('not-shown-value');
    expect((error as Error).message).toContain('could not start, and one failed start is its limit, so it is no longer restarted. Last failure: Worker ');
    expect(errors.some((told) => told instanceof WorkerStartupError && told.reason === 'bad-node-option')).toBe(true);
    expect(restarts).toBe(0);
    expect(forks).toBeLessThanOrEqual(2); // one per slot, at most: none restarted
  });

  it('[H661] --env-file naming a missing file: the missing file is named, not --env-file as an option Node does not list (hostile t66)', async () => {
    const missing = `missing-${process.pid}.env`;
    const execArgv = [...workerFixture(kDefaultFixture).execArgv, `--env-file=${missing}`];
    const primary = testPrimary({ execArgv, workerCount: 1, silent: true });
    const error = await primary.start().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CrashLoopError);
    const message = ((error as CrashLoopError).cause as Error).message;
    expect(message).toMatch(new RegExp(`Node refused its options \\(execArgv (\\S+ )*--env-file; the file ${missing} that --env-file names does not exist \\(or is no file\\)\\), `));
    expect(message).toContain('and on an --env-file whose file does not exist ("not found") or is a directory ("invalid format")');
    expect(message).not.toContain('not an option this Node lists');
  });

  it("[H253] a script's own process.exit(9) is no option error: retried as a failed start, 3 times", async () => {
    dir = mkdtempSync(join(tmpdir(), 'ck-h253-'));
    const script = join(dir, 'exits-9.cjs');
    writeFileSync(script, 'process.exit(9);\n');
    const primary = testPrimary({ workerScript: script, execArgv: [], silent: true, restart: { backoff: { initialMs: 10 } } });
    const error = await primary.start().catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'ERR_CRASH_LOOP', failures: 3 });
    expect((error as CrashLoopError).cause).toMatchObject({ reason: 'exited' });
    expect((error as Error).message).not.toContain('before it ran any JavaScript');
  });
});
