/**
 * A failed start in a user's words: one log line per failed attempt, and a hint when the
 * worker script is TypeScript and nothing loads it.
 */
import { describe, expect, it } from '@jest/globals';
import { ClusterPrimary, type CrashLoopError } from '../../src/index.js';
import { capturedLogger } from '../helpers/captured-logger.js';
import { fixture, track } from '../helpers/primary.js';

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
      /^Worker slot 0 could not start 3 times in a row, so it is no longer restarted\. Last failure: Worker \d+ \(pid \d+\) exited with code 1 before it was ready\. Check its output for the error; a worker script must create a ClusterWorker and call start\(\)\. Hint: \S+destroy-fails\.ts is TypeScript, and the workers run without a TypeScript loader: add one to their Node options, such as --import tsx/,
    );
    expect(text().match(/ERROR worker \d+ could not start: it exited with code 1 before it was ready \(its output says why\)/g)).toHaveLength(3);
    expect(text()).toContain(`ERROR worker slot 0 could not start 3 times in a row, so it is no longer restarted. Last failure: `);
    expect(text()).toContain(`call start(). ${error.hint}`);
    expect(text()).not.toMatch(/exited unexpectedly|crashed|replaces worker/);
  });
});
