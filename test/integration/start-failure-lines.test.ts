/**
 * A failed start in a user's words: one log line per failed attempt, and a hint when the
 * worker script is TypeScript and nothing loads it.
 */
import { describe, expect, it } from '@jest/globals';
import { ClusterPrimary, type CrashLoopError, type WorkerStartupError } from '../../src/index.js';
import { capturedLogger } from '../helpers/captured-logger.js';
import { fixture, testOptions, track } from '../helpers/primary.js';

describe('a failed start', () => {
  it('[F7] of a TypeScript worker without a loader: one line per attempt, and CrashLoopError says what is missing', async () => {
    // What a user sees by default: info and above.
    const { logger, text } = capturedLogger('info');
    const primary = track(
      new ClusterPrimary({
        workerScript: fixture('workers/destroy-fails.ts'),
        execArgv: [],
        env: { NODE_OPTIONS: undefined },
        // Node's own stack trace of each attempt stays out of the test output.
        silent: true,
        workerCount: 1,
        handleSignals: false,
        restart: { backoff: { initialMs: 10 } },
        logger,
      }),
    );
    const error = (await primary.start().catch((failure: unknown) => failure)) as CrashLoopError;
    expect(error).toMatchObject({ code: 'ERR_CRASH_LOOP', reason: 'startup-failures', failures: 3 });
    // The last failure itself, in the message and the log line: a CLI user has no "cause" to open.
    expect(error.message).toMatch(
      /^Worker slot 0 could not start 3 times in a row, so it is no longer restarted\. Last failure: Worker \d+ \(pid \d+\) exited with code 1 before it was ready\. Check its output for the error: it ended before it called ClusterWorker\.start\(\), most often on an error thrown while its modules loaded\. Fix that, then start it again\. Hint: \S+destroy-fails\.ts is TypeScript, and the workers run without a TypeScript loader: add one to their Node options, such as --import tsx/,
    );
    expect(text().match(/ERROR worker \d+ could not start: it exited with code 1 before it was ready \(its output says why\)/g)).toHaveLength(3);
    expect(text()).toContain(`ERROR worker slot 0 could not start 3 times in a row, so it is no longer restarted. Last failure: `);
    expect(text()).toContain(`while its modules loaded. Fix that, then start it again. Hint: ${error.hint}`);
    // The hint property is the advice alone; the message marks it (H434), and says it once (H424).
    expect(error.hint).toMatch(/^\S+destroy-fails\.ts is TypeScript/);
    expect(error.message.endsWith(` Hint: ${error.hint}`)).toBe(true);
    expect(error.message.split('Hint:')).toHaveLength(2);
    expect(text()).not.toMatch(/exited unexpectedly|crashed|replaces worker/);
  });

  it('[H424] [H434] of a TypeScript worker without a loader and restart: false: the WorkerStartupError gives the same hint, its .hint the advice alone', async () => {
    const primary = track(
      new ClusterPrimary({
        workerScript: fixture('workers/destroy-fails.ts'),
        execArgv: [],
        env: { NODE_OPTIONS: undefined },
        silent: true,
        workerCount: 1,
        handleSignals: false,
        restart: false,
      }),
    );
    const error = (await primary.start().catch((failure: unknown) => failure)) as WorkerStartupError;
    expect(error).toMatchObject({ code: 'ERR_WORKER_STARTUP', reason: 'exited' });
    // Before: no hint at all, though the default policy's CrashLoopError gave it (tester t45).
    // The property is the advice alone, with no "Hint: " of its own (H434): the message adds that label.
    expect(error.hint).toMatch(/^\S+destroy-fails\.ts is TypeScript, and the workers run without a TypeScript loader: add one to their Node options, such as --import tsx/);
    expect(error.message).toMatch(/exited with code 1 before it was ready\. Check its output for the error: .* Hint: \S+destroy-fails\.ts is TypeScript/);
    expect(error.message.endsWith(` Hint: ${error.hint}`)).toBe(true);
    expect(error.message).toBe(error.message.trim());
  });

  const kEarlyEnds = [
    ['throws while its modules load', 'workers/throws-at-import.ts', {}, /exited with code 1 before it was ready\. Check its output for the error: it ended before it called ClusterWorker\.start\(\), most often on an error thrown while its modules loaded\.$/],
    ['runs to its end without a ClusterWorker', 'workers/never-starts.ts', { EXIT: '1' }, /exited with code 0 before it was ready\. It exited without calling start\(\): a worker script must create a ClusterWorker and call start\(\)\.$/],
  ] as const;
  it.each(kEarlyEnds)('[H154] a worker that %s is told apart: the advice fits how it ended', async (_how, script, env, expected) => {
    const primary = track(new ClusterPrimary(testOptions(script, { silent: true, env, restart: { backoff: { initialMs: 10 } } })));
    const error = (await primary.start().catch((failure: unknown) => failure)) as CrashLoopError;
    expect(error).toMatchObject({ code: 'ERR_CRASH_LOOP', reason: 'startup-failures' });
    expect((error.cause as Error).message).toMatch(expected);
  });

  it('[H154][H176][H239] a worker that never calls start() and stays alive: its ready timeout says so (still loading its script, or no start()), not "its _init()", and says to raise the option if it is only slow to load', async () => {
    const primary = track(new ClusterPrimary(testOptions('workers/never-starts.ts', { silent: true, readyTimeoutMs: 3_000, restart: false })));
    const error = (await primary.start().catch((failure: unknown) => failure)) as Error;
    const message = (error.cause as Error | undefined)?.message ?? error.message;
    expect(message).toMatch(/was not ready within 3000 ms \(option "readyTimeoutMs"\), so it was killed\. It had not called ClusterWorker\.start\(\) by then: it was still loading its script, or the script never calls start\(\)\. A worker script must create a ClusterWorker and call start\(\)/);
    // [H176] Or it is only slow to load: before, the line blamed the script alone (tester t22: a
    // correct script whose import took longer than the option under load).
    expect(message).toContain('if the script is only slow to load (large imports, a warm-up before start()), raise the option');
    expect(message).not.toContain('_init()');
  });
});
